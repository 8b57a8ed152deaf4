import ArgumentParser
import Foundation
import TesseraTraining

/// `tessera sample CHECKPOINT --output grid.png`: draws digits from a trained generator.
struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Draw samples from a generative checkpoint into a PNG grid.",
        discussion: """
        Works for every generator of task: generative (vae, cvae, nice, realnvp, glow, pixelcnn, ddpm). \
        A cvae or class-conditional ddpm draws the ten classes in turn, one per column, unless --class \
        picks one. A ddpm samples as its recipe's evaluation does unless --sampler, --steps or --eta \
        say otherwise. Bad input \
        stops before anything is written, so an existing output file is left as it was.
        """)

    @Argument(help: "A checkpoint of a generative run (runs/<name>/checkpoints/…).")
    var checkpoint: String

    @Option(help: "Images to draw (the grid shows the first 64).")
    var count = 64

    @Option(name: .customLong("class"), help: "The digit class a conditional model (cvae) draws.")
    var classIndex: Int?

    @Option(help: "Sampling temperature (> 0): the base noise is scaled by it; a PixelCNN divides its logits by it.")
    var temperature: Float = 1

    @Option(help: "ddpm only: the sampler, ddpm (ancestral) or ddim.")
    var sampler: String?

    @Option(help: "ddpm only: sampling steps along a sub-sequence of the chain (at most its T).")
    var steps: Int?

    @Option(help: "ddpm with --sampler ddim: DDIM's eta (0 deterministic, 1 DDPM's variance).")
    var eta: Double?

    @Option(help: "Seed of the sampling stream.")
    var seed: UInt64 = 0

    @Option(help: "The PNG file to write.")
    var output: String

    func run() throws {
        print(try GenerativeTasks.sample(checkpoint: checkpoint, count: count, classIndex: classIndex, temperature: temperature,
                                         seed: seed, output: output, sampler: sampler, steps: steps, eta: eta))
    }
}
