import Foundation
import TesseraNN
import TesseraTensor

/// Attention is blind to order; a positional embedding added to the token embeddings tells each
/// position where it stands. Both kinds here return `[length, dimensions]` for positions
/// `offset..<offset + length`, which broadcasts over the batch.
public protocol PositionalEmbedding: Module {
    /// The longest sequence (the context) the embedding covers.
    var maximumLength: Int { get }
    func callAsFunction(length: Int, offset: Int) -> Tensor
}

extension PositionalEmbedding {
    /// Stops with a message naming the context and the sequence when positions run past the table.
    func checkLength(_ length: Int, offset: Int) {
        check(offset >= 0 && offset + length <= maximumLength,
                     "\(type(of: self)): a sequence reaching position \(offset + length) exceeds the context of \(maximumLength) positions")
    }
}

/// The fixed sinusoids of Vaswani et al. (2017, §3.5): `PE(p, 2i) = sin(p / 10000^(2i/d))`,
/// `PE(p, 2i+1) = cos(p / 10000^(2i/d))`. Nothing is learned, so nothing is saved: the table is
/// recomputed from the sizes.
public final class SinusoidalPositionalEmbedding: PositionalEmbedding {
    public let maximumLength: Int
    public let dimensions: Int
    // Held in a class so the module walk neither optimises nor saves it.
    private let table: ConstantTensor

    public init(maximumLength: Int, dimensions: Int) {
        check(dimensions % 2 == 0, "SinusoidalPositionalEmbedding: dimensions must be even, got \(dimensions)")
        self.maximumLength = maximumLength
        self.dimensions = dimensions
        table = ConstantTensor(Tensor(shape: [maximumLength, dimensions]) { flat in
            let position = Double(flat / dimensions), column = flat % dimensions
            let frequency = pow(10_000, -Double(column - column % 2) / Double(dimensions))
            return Float(column % 2 == 0 ? sin(position * frequency) : cos(position * frequency))
        })
    }

    public func callAsFunction(length: Int, offset: Int = 0) -> Tensor {
        checkLength(length, offset: offset)
        return table.value.slice(alongAxis: 0, start: offset, end: offset + length)
    }
}

/// A learned vector per position (BERT, GPT-2, ViT), initialised from N(0, 0.02²) as in GPT-2.
public final class LearnedPositionalEmbedding: PositionalEmbedding {
    /// `[maximumLength, dimensions]`.
    public let weight: Tensor
    public var maximumLength: Int { weight.shape[0] }

    public init(maximumLength: Int, dimensions: Int, generator: inout RandomGenerator) {
        weight = Tensor.randomNormal([maximumLength, dimensions], standardDeviation: 0.02, generator: &generator)
            .requiringGradient()
    }

    public func callAsFunction(length: Int, offset: Int = 0) -> Tensor {
        checkLength(length, offset: offset)
        if offset == 0 && length == maximumLength { return weight }
        return weight.slice(alongAxis: 0, start: offset, end: offset + length)
    }
}

/// A learned vector per token id (or per segment id), checked against the vocabulary: an id
/// outside it stops with a message naming the vocabulary size and the id.
public final class TokenEmbedding: Layer {
    /// `[vocabularySize, dimensions]`.
    public let weight: Tensor
    public var vocabularySize: Int { weight.shape[0] }
    public var dimensions: Int { weight.shape[1] }

    /// Initialised from N(0, `standardDeviation`²): 0.02 as in GPT-2 and BERT.
    public init(vocabularySize: Int, dimensions: Int, standardDeviation: Float = 0.02, generator: inout RandomGenerator) {
        weight = Tensor.randomNormal([vocabularySize, dimensions], standardDeviation: standardDeviation, generator: &generator)
            .requiringGradient()
    }

    /// `tokens` holds whole-number ids; the result is `tokens.shape + [dimensions]`.
    public func callAsFunction(_ tokens: Tensor) -> Tensor {
        checkTokenIDs(tokens, vocabularySize: vocabularySize, owner: "TokenEmbedding")
        return weight.embeddingLookup(tokens)
    }
}

/// Stops with a message naming the vocabulary and the first id outside it.
func checkTokenIDs(_ tokens: Tensor, vocabularySize: Int, owner: String) {
    let pointer = tokens.storage.pointer
    for index in 0..<tokens.count {
        let id = pointer[index]
        check(id >= 0 && id < Float(vocabularySize) && id == id.rounded(),
                     "\(owner): token id \(describeID(id)) is outside the vocabulary of \(vocabularySize) tokens (0..<\(vocabularySize))")
    }
}

private func describeID(_ id: Float) -> String {
    id.isFinite && id == id.rounded() && abs(id) < 1e9 ? "\(Int(id))" : "\(id)"
}

/// A tensor a module computes from its sizes and keeps, but neither optimises nor saves.
final class ConstantTensor {
    let value: Tensor
    init(_ value: Tensor) { self.value = value }
}
