import ArgumentParser
import Foundation
import TesseraTraining

/// `tessera counterfactual CHECKPOINT --target C --output figure.png`: moves held-out digits
/// toward class C in a generator's latent space and on their pixels, and compares the two.
struct CounterfactualCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "counterfactual",
        abstract: "Latent-space counterfactuals of held-out digits against a pixel-space attack, judged by the yardstick.",
        discussion: """
        Takes a vae, nice, realnvp or glow checkpoint. Each of --count held-out digits of other \
        classes is moved toward --target by gradient ascent, once on the generator's latent under \
        a classifier trained on the training digits' latents (then decoded), once on its pixels \
        (--pixel-attack: the yardstick itself, or an MLP trained on the pixels). Prints the \
        yardstick's success rate, target probability, Fréchet distance and nearest-neighbour \
        distance of its features to the training digits of the target class, and the mean pixel \
        change; writes the figure (rows: original, latent, pixel). Bad input stops before \
        anything is written.
        """)

    @Argument(help: "A checkpoint of a generative run (runs/<name>/checkpoints/…).")
    var checkpoint: String

    @Option(help: "The digit class to move toward (0…9).")
    var target: Int

    @Option(help: "Held-out digits of other classes to move (at least 2).")
    var count = 64

    @Option(help: "Seed of the choice of digits and of the classifiers' training.")
    var seed: UInt64 = 0

    @Option(help: "What the pixel search climbs: classifier (an MLP of the pixels, trained like the latent classifier) or yardstick (the judge itself, white box).")
    var pixelAttack = "classifier"

    @Option(help: "The target-class probability both searches climb to under their own classifier.")
    var probability: Float = 0.999

    @Option(help: "The yardstick's classification recipe (default: the checkpoint recipe's evaluation.yardstick).")
    var yardstick: String?

    @Option(help: "The PNG file to write.")
    var output: String

    func run() throws {
        print(try GenerativeTasks.counterfactuals(checkpoint: checkpoint, targetClass: target, count: count, seed: seed,
                                                  pixelAttack: pixelAttack, probability: probability, yardstick: yardstick, output: output))
    }
}
