import TesseraCheckpoint
import TesseraData
import TesseraNN
import TesseraTensor

/// A small program against Tessera's library products: an MLP on the bundled digits, trained with
/// Adam for a few steps, its weights saved as a checkpoint and read back.
public enum DigitsExample {
    public struct Outcome {
        public let firstLoss: Float
        public let lastLoss: Float
        public let testAccuracy: Float
    }

    /// Trains `steps` full-batch steps on 80% of the digits; returns the losses and the held-out accuracy.
    public static func train(steps: Int, model: MLP) throws -> Outcome {
        let split = try Digits.split(layout: .flat, testFraction: 0.2, seed: 0)
        let optimizer = Adam(parameters: model.namedParameters(), learningRate: 0.03)
        var losses: [Float] = []
        for _ in 0..<steps {
            optimizer.zeroGradients()
            let loss = crossEntropy(logits: model(split.train.inputs), targets: split.train.labels)
            loss.backward()
            optimizer.step()
            losses.append(loss.item)
        }
        let accuracy = withoutGradients {
            model(split.test.inputs).argmax(alongAxis: 1).equal(split.test.labels).mean().item
        }
        return Outcome(firstLoss: losses.first ?? .nan, lastLoss: losses.last ?? .nan, testAccuracy: accuracy)
    }

    /// The model's parameters and buffers as a zstd-compressed Tessera checkpoint at `path`.
    public static func save(_ model: any Module, to path: String) throws {
        let entries = model.stateDictionary().sorted { $0.key < $1.key }.map { name, tensor in
            CheckpointEntry(name: name, dtype: .float32, shape: tensor.shape, bytes: tensor.scalars.withUnsafeBytes { Array($0) })
        }
        try Checkpoint(metadata: ["example": "digits"], entries: entries).write(to: path)
    }

    /// Loads a checkpoint written by ``save(_:to:)`` into `model` (same architecture).
    public static func load(_ model: any Module, from path: String) throws {
        var state: [String: Tensor] = [:]
        for entry in try Checkpoint.read(from: path).entries {
            state[entry.name] = Tensor(shape: entry.shape, scalars: try entry.values(as: Float.self))
        }
        try model.loadStateDictionary(state)
    }
}
