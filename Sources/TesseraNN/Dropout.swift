import Foundation
import TesseraTensor

/// Zeroes each element with probability `probability` during training and scales the rest by
/// `1 / (1 - p)` (Srivastava et al., "Dropout", JMLR 2014); the identity in evaluation mode.
///
/// The layer owns its `RandomGenerator` instead of taking one per call: a dropout layer then
/// fits in a ``Sequential`` like any other layer, and its stream is part of the model's state,
/// saved and restored by ``Module/namedGenerators()`` so a resumed run draws the same masks.
/// Seed a whole model from one generator with ``Module/seedGenerators(from:)``; by default each
/// new layer takes the next stream of seed 0, so two layers never share masks.
public final class Dropout: Layer, ModeDependentModule, RandomizedModule {
    public let probability: Float
    public var mode: ModuleMode = .training
    public var generator: RandomGenerator

    public init(probability: Float, generator: RandomGenerator? = nil) {
        precondition(probability >= 0 && probability < 1, "Dropout: probability must be in [0, 1), got \(probability)")
        self.probability = probability
        self.generator = generator ?? DefaultStreams.next()
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.dropout(probability: probability, training: mode == .training, generator: &generator)
    }
}

/// Successive streams of seed 0 for layers built without a generator.
enum DefaultStreams {
    nonisolated(unsafe) private static var counter: UInt64 = 0
    private static let lock = NSLock()

    static func next() -> RandomGenerator {
        lock.lock()
        defer { lock.unlock() }
        counter += 1
        return RandomGenerator(seed: 0).derived(stream: counter)
    }
}
