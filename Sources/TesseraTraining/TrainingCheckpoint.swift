import Foundation
import TesseraCheckpoint
import TesseraData
import TesseraNN
import TesseraTensor

/// Everything besides tensors that a run needs to continue exactly where it stopped.
public struct TrainingProgress: Codable, Equatable {
    /// Optimisation steps completed.
    public var step: Int
    /// Where the training data loader stands (epoch and batch).
    public var loader: DataLoaderPosition
    /// The random generators of the model's random layers (dropout), by module name.
    public var generators: [String: RandomGenerator]
    /// Every metrics record logged so far.
    public var metrics: [MetricsRecord]
    /// The best test accuracy seen at an evaluation (−1 before the first).
    public var bestTestAccuracy: Double
    /// Seconds spent training before this checkpoint (summed over resumed segments).
    public var wallSeconds: Double
}

/// Maps a run's state to the shared checkpoint format and back.
///
/// Entries: `model/<parameter or buffer name>` and `optimizer/<parameter name>.<slot>`, float32.
/// Metadata: `kind` (`tessera.training`), `recipe` (the resolved recipe's canonical YAML),
/// `progress` (``TrainingProgress`` as JSON). Nothing in it depends on how many processes
/// trained: rank 0 writes the full state.
public enum TrainingCheckpoint {
    public static let kind = "tessera.training"

    public static func make(model: any Module, optimizer: any Optimizer, progress: TrainingProgress,
                            recipeYAML: String) throws -> Checkpoint {
        var entries: [CheckpointEntry] = []
        for (name, tensor) in model.stateDictionary().sorted(by: { $0.key < $1.key }) {
            entries.append(entry("model/" + name, tensor))
        }
        for (name, tensor) in optimizer.stateDictionary().sorted(by: { $0.key < $1.key }) {
            entries.append(entry("optimizer/" + name, tensor))
        }
        let progressJSON = String(decoding: try JSONEncoder.sorted.encode(progress), as: UTF8.self)
        return Checkpoint(metadata: ["kind": kind, "recipe": recipeYAML, "progress": progressJSON], entries: entries)
    }

    /// Loads model and optimizer state from `checkpoint` (read from `path`) and returns the progress.
    public static func restore(_ checkpoint: Checkpoint, path: String, model: any Module,
                               optimizer: (any Optimizer)?) throws -> TrainingProgress {
        guard checkpoint.metadata["kind"] == kind, let progressText = checkpoint.metadata["progress"] else {
            throw TrainingError("\(path): not a Tessera training checkpoint (metadata kind is \(checkpoint.metadata["kind"] ?? "missing"))")
        }
        let progress: TrainingProgress
        do {
            progress = try JSONDecoder().decode(TrainingProgress.self, from: Data(progressText.utf8))
        } catch {
            throw TrainingError("\(path): the progress record does not decode: \(error)")
        }
        var modelState: [String: Tensor] = [:], optimizerState: [String: Tensor] = [:]
        for entry in checkpoint.entries {
            if entry.name.hasPrefix("model/") {
                modelState[String(entry.name.dropFirst(6))] = try tensor(entry, path: path)
            } else if entry.name.hasPrefix("optimizer/") {
                optimizerState[String(entry.name.dropFirst(10))] = try tensor(entry, path: path)
            }
        }
        do {
            try model.loadStateDictionary(modelState)
            try optimizer?.loadStateDictionary(optimizerState)
        } catch {
            throw TrainingError("\(path): does not fit this recipe's model: \(error)")
        }
        model.loadGenerators(progress.generators)
        return progress
    }

    /// Loads model weights from a safetensors file (names are the model's parameter and buffer
    /// names, as `tessera export` writes them and `safetensors.torch.save_file` of a matching
    /// PyTorch `state_dict` does). Every name must match, with the same shape.
    public static func loadWeights(safetensorsPath path: String, into model: any Module) throws {
        let file = try Safetensors.read(from: path)
        var state: [String: Tensor] = [:]
        for entry in file.entries {
            guard entry.dtype == .float32 || entry.dtype == .float64 else {
                throw TrainingError("\(path): tensor \(entry.name) is \(entry.dtype.name); only F32 and F64 weights load")
            }
            let values = entry.dtype == .float32 ? try entry.values(as: Float.self) : try entry.values(as: Double.self).map(Float.init)
            state[entry.name] = Tensor(shape: entry.shape, scalars: values)
        }
        do {
            try model.loadStateDictionary(state)
        } catch {
            throw TrainingError("\(path): does not fit the recipe's model: \(error)")
        }
    }

    /// The resolved recipe stored in a checkpoint.
    public static func recipe(of checkpoint: Checkpoint, path: String) throws -> String {
        guard let recipe = checkpoint.metadata["recipe"] else {
            throw TrainingError("\(path): the checkpoint holds no recipe")
        }
        return recipe
    }

    static func entry(_ name: String, _ tensor: Tensor) -> CheckpointEntry {
        let bytes = [UInt8](UnsafeRawBufferPointer(start: tensor.storage.pointer, count: tensor.count * 4))
        return CheckpointEntry(name: name, dtype: .float32, shape: tensor.shape, bytes: bytes)
    }

    static func tensor(_ entry: CheckpointEntry, path: String) throws -> Tensor {
        guard entry.dtype == .float32 else {
            throw TrainingError("\(path): entry \(entry.name) is \(entry.dtype.name), expected float32")
        }
        return Tensor(shape: entry.shape, scalars: try entry.values(as: Float.self))
    }
}

extension JSONEncoder {
    /// Keys sorted, so equal states encode to equal bytes.
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
