import TesseraTensor

/// A multilayer perceptron: `Linear → activation → (dropout) → … → Linear`, with no activation
/// after the last layer (its output is logits, a value or an action mean).
///
/// ```swift
/// let classifier = MLP(sizes: [64, 256, 256, 10], activation: .relu, dropout: 0.1, generator: &rng)
/// classifier.namedParameters().map(\.name)  // ["layers.0.weight", "layers.0.bias", …, "layers.2.bias"]
/// ```
public final class MLP: Layer {
    /// One linear layer per consecutive pair of `sizes`.
    public let layers: [Linear]
    public let activation: Activation
    /// Applied after every hidden activation; `nil` when the probability is 0.
    public let dropout: Dropout?

    /// - Parameters:
    ///   - sizes: input size, hidden sizes…, output size (at least two entries).
    ///   - activation: applied after every layer but the last.
    ///   - dropout: probability of dropping a hidden unit in training.
    ///   - generator: draws the initial weights (PyTorch's default initialisation).
    public init(sizes: [Int], activation: Activation = .relu, dropout: Float = 0, generator: inout RandomGenerator) {
        precondition(sizes.count >= 2, "MLP: sizes needs an input and an output size, got \(sizes)")
        layers = zip(sizes, sizes.dropFirst()).map { Linear($0, $1, generator: &generator) }
        self.activation = activation
        // A seed drawn from `generator`, so two MLPs built from one generator never share masks.
        self.dropout = dropout > 0 ? Dropout(probability: dropout, generator: RandomGenerator(seed: generator.next64())) : nil
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        var output = input
        for (index, layer) in layers.enumerated() {
            output = layer(output)
            if index < layers.count - 1 {
                output = activation(output)
                if let dropout { output = dropout(output) }
            }
        }
        return output
    }
}
