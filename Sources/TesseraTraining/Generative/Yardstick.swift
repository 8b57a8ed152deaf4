import Foundation
import TesseraCheckpoint
import TesseraConfig
import TesseraGenerative
import TesseraNN
import TesseraTensor

/// The one quality measure every generator of digits is scored by: a digits classifier of our own
/// (a classification recipe, `configs/generative-yardstick-digits.yaml`), trained once on demand
/// and cached in `runs/yardstick/<name>-<hash of its resolved recipe>/`, never downloaded. For a
/// set of generated digits it gives
///
/// - the classifier's accuracy on class-conditional samples (the requested classes as labels),
/// - its mean confidence (the largest softmax probability), whichever class it sees,
/// - the Fréchet distance between Gaussians fitted to its penultimate-layer features of the
///   training digits and of the samples: an FID computed on our own digits classifier, not
///   comparable to published Inception FIDs (Heusel et al., 2017).
///
/// The classifier must be an MLP on flat digits (its penultimate layer is the last hidden one).
/// Any change to its recipe changes the hash, so a stale cache is never reused.
final class Yardstick {
    let classifier: MLP
    /// The features' Gaussian over the yardstick recipe's training digits.
    let reference: GaussianFit
    /// Where the trained classifier lives.
    let directory: URL

    /// The scores of one set of samples.
    struct Scores {
        /// Class-conditional samples only.
        var accuracy: Double?
        var confidence: Double
        var frechetDistance: Double
    }

    /// The yardstick of the classification recipe at `recipePath`, trained into `cacheRoot` first
    /// if no finished run of that exact recipe is there. Concurrent callers (a test and a run) each
    /// train into their own scratch directory and the first to finish renames it into place.
    init(recipePath: String, cacheRoot: URL = URL(fileURLWithPath: "runs/yardstick"), showProgress: Bool = false) throws {
        let recipe = try loadRecipe(path: recipePath, overrides: [])
        let decoded = try recipe.decode(ClassificationRecipe.self)
        guard decoded.model.kind == .mlp, decoded.data.layout == .flat, decoded.data.dataset == .digits else {
            throw TrainingError("\(recipePath): the yardstick is an mlp on flat digits (model.kind mlp, data.layout flat, data.dataset digits), found \(decoded.model.kind.rawValue) on \(decoded.data.layout.rawValue) \(decoded.data.dataset.rawValue)")
        }
        let yaml = try recipe.canonicalYAML()
        directory = cacheRoot.appendingPathComponent("\(decoded.name)-\(Self.hash(yaml))")
        let checkpoints = CheckpointDirectory(path: directory.appendingPathComponent("checkpoints").path)
        if try checkpoints.stepFiles().isEmpty {
            let scratch = cacheRoot.appendingPathComponent(".partial-\(decoded.name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
            defer { try? FileManager.default.removeItem(at: scratch) }
            let trainer = try ClassificationTrainer(recipe: decoded, recipeYAML: yaml, recipeFile: recipePath,
                                                    runDirectory: try RunDirectory(path: scratch.path), showProgress: showProgress)
            // Callers may be evaluating under `withoutGradients`; the classifier's training records.
            let result = try withGradientMode(true) { try trainer.train() }
            guard result.interruptedBy == nil else { throw TrainingError("the yardstick's training was interrupted by \(result.interruptedBy!)") }
            // Losing the race to another process is fine: its classifier is the same recipe's.
            try? FileManager.default.moveItem(at: scratch, to: directory)
        }
        guard let newest = try checkpoints.stepFiles().last else {
            throw TrainingError("\(directory.path): the yardstick's run has no checkpoint")
        }
        let data = try ClassificationData(decoded.data, seed: decoded.seed, recipeFile: recipePath)
        var unused = RandomGenerator(seed: 0)
        let model = try makeClassifier(decoded.model, inputShape: data.inputShape, classCount: data.classCount, generator: &unused)
        _ = try TrainingCheckpoint.restore(try Checkpoint.read(from: newest.path), path: newest.path, model: model, optimizer: nil)
        guard let mlp = model as? MLP else { throw TrainingError("\(recipePath): the yardstick's model is not an MLP") }
        mlp.eval()
        classifier = mlp
        reference = try GaussianFit(features: Self.features(mlp, data.train.inputs))
    }

    /// The last hidden layer's activations of `pixels` `[count, 64]`: MLP's forward pass without
    /// its output layer (dropout is off in evaluation mode).
    static func features(_ classifier: MLP, _ pixels: Tensor) -> Tensor {
        withoutGradients {
            classifier.layers.dropLast().reduce(pixels) { hidden, layer in classifier.activation(layer(hidden)) }
        }
    }

    func features(_ pixels: Tensor) -> Tensor { Self.features(classifier, pixels) }

    /// Scores `samples` `[count, 64]` (pixels in [0, 1]); `labels` are the classes asked of a
    /// conditional generator (`nil`: no accuracy).
    func scores(_ samples: Tensor, labels: [Int]?) throws -> Scores {
        let pixels = samples.reshape([samples.shape[0], -1])
        let logits = withoutGradients { classifier(pixels) }
        return Scores(accuracy: try labels.map { try classificationAccuracy(logits: logits, labels: $0) },
                      confidence: try meanConfidence(logits: logits),
                      frechetDistance: try frechetDistance(reference, GaussianFit(features: features(pixels))))
    }

    /// The class the classifier picks for each of `samples` `[count, 64]`.
    func predictedClasses(_ samples: Tensor) -> [Int] {
        let logits = withoutGradients { classifier(samples.reshape([samples.shape[0], -1])) }
        let classes = logits.shape[1], values = logits.scalars
        return (0..<logits.shape[0]).map { row in
            let scores = values[(row * classes)..<((row + 1) * classes)]
            return scores.indices.max { scores[$0] < scores[$1] }! - row * classes
        }
    }

    /// FNV-1a over the recipe's bytes, in hex: stable across processes and machines (Swift's
    /// `Hasher` is seeded per process).
    static func hash(_ text: String) -> String {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { value = (value ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(value, radix: 16)
    }
}
