import ArgumentParser
import Foundation
import TesseraCheckpoint
import TesseraTraining

/// `tessera eval RECIPE --checkpoint PATH`: the test-set loss and accuracy of a checkpoint.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Evaluate a checkpoint on the recipe's held-out test set.")

    @Argument(help: "The recipe the checkpoint was trained with.")
    var recipe: String

    @Option(help: "The checkpoint file (.tsr).")
    var checkpoint: String?

    @Option(help: "Evaluate model weights from a safetensors file instead of a checkpoint.")
    var weights: String?

    @Option(name: .customLong("set"), help: "Override a recipe field (repeatable).")
    var overrides: [String] = []

    func run() throws {
        let loaded = try LoadedRecipe(path: recipe, overrides: overrides)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-eval-\(getpid())")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let trainer = try ClassificationTrainer(recipe: loaded.classification, recipeYAML: loaded.yaml, recipeFile: recipe,
                                                runDirectory: try RunDirectory(path: scratch.path), showProgress: false)
        let source: String
        var step = 0
        switch (checkpoint, weights) {
        case let (checkpoint?, nil):
            let stored = try Checkpoint.read(from: checkpoint)
            step = try TrainingCheckpoint.restore(stored, path: checkpoint, model: trainer.model, optimizer: nil).step
            source = checkpoint
        case let (nil, weights?):
            try trainer.loadInitialWeights(safetensorsPath: weights)
            source = weights
        default:
            throw ValidationError("give exactly one of --checkpoint PATH and --weights PATH")
        }
        let (loss, accuracy) = trainer.evaluate(on: trainer.data.test)
        print("{\"checkpoint\":\"\(source)\",\"step\":\(step),\"test_loss\":\(loss),\"test_accuracy\":\(accuracy),\"test_examples\":\(trainer.data.test.count)}")
    }
}
