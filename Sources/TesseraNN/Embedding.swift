import TesseraTensor

/// A table of learned vectors looked up by index (token ids, class ids).
///
/// Initialised from a standard normal, as PyTorch's `nn.Embedding`.
public final class Embedding: Layer {
    /// `[vocabularySize, dimensions]`.
    public let weight: Tensor

    public var vocabularySize: Int { weight.shape[0] }
    public var dimensions: Int { weight.shape[1] }

    public init(vocabularySize: Int, dimensions: Int, generator: inout RandomGenerator) {
        weight = Tensor.randomNormal([vocabularySize, dimensions], generator: &generator).requiringGradient()
    }

    /// `indices` holds whole numbers in `0..<vocabularySize`; the result has shape
    /// `indices.shape + [dimensions]`. Only the rows looked up receive gradient.
    public func callAsFunction(_ indices: Tensor) -> Tensor {
        weight.embeddingLookup(indices)
    }
}
