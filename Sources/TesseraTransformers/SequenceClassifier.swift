import TesseraNN
import TesseraTensor

/// A transformer that reads a fixed-length token sequence and names its class: BERT's sequence
/// classifier (Devlin et al., "BERT: Pre-training of Deep Bidirectional Transformers for Language
/// Understanding", NAACL 2019) with the [CLS] token replaced by the mean over positions.
///
/// Token embedding, learned positions, an encoder, the mean of the outputs over the positions, a
/// linear head. Every sequence has `sequenceLength` tokens, so there is no padding and no mask.
///
/// ```swift
/// let classifier = SequenceClassifier(SequenceClassifierConfiguration(
///     vocabularySize: 12, sequenceLength: 16, classCount: 4, layerCount: 1, headCount: 2, modelDimensions: 32),
///     generator: &rng)
/// let logits = classifier(tokens)  // tokens [batch, 16] of ids → [batch, 4]
/// ```
public struct SequenceClassifierConfiguration: Codable, Equatable, Sendable {
    public var vocabularySize: Int
    /// Tokens per sequence (the learned positions cover exactly these).
    public var sequenceLength: Int
    public var classCount: Int
    public var layerCount: Int
    public var headCount: Int
    public var modelDimensions: Int
    /// Hidden width of the feed-forward networks (4 × model dimensions by default).
    public var feedForwardDimensions: Int
    public var dropout: Float
    /// Nonlinearity of the feed-forward networks (GELU, as in BERT).
    public var activation: Activation
    public var normalization: NormalizationPlacement

    public init(vocabularySize: Int, sequenceLength: Int, classCount: Int, layerCount: Int, headCount: Int,
                modelDimensions: Int, feedForwardDimensions: Int? = nil, dropout: Float = 0, activation: Activation = .gelu,
                normalization: NormalizationPlacement = .preNorm) {
        self.vocabularySize = vocabularySize
        self.sequenceLength = sequenceLength
        self.classCount = classCount
        self.layerCount = layerCount
        self.headCount = headCount
        self.modelDimensions = modelDimensions
        self.feedForwardDimensions = feedForwardDimensions ?? 4 * modelDimensions
        self.dropout = dropout
        self.activation = activation
        self.normalization = normalization
    }
}

public final class SequenceClassifier: Layer {
    public let configuration: SequenceClassifierConfiguration
    public let tokenEmbedding: TokenEmbedding
    public let positionEmbedding: LearnedPositionalEmbedding
    public let embeddingDropout: Dropout?
    public let encoder: TransformerEncoder
    public let head: Linear

    public init(_ configuration: SequenceClassifierConfiguration, generator: inout RandomGenerator) {
        self.configuration = configuration
        let c = configuration
        tokenEmbedding = TokenEmbedding(vocabularySize: c.vocabularySize, dimensions: c.modelDimensions, generator: &generator)
        positionEmbedding = LearnedPositionalEmbedding(maximumLength: c.sequenceLength, dimensions: c.modelDimensions,
                                                       generator: &generator)
        embeddingDropout = c.dropout > 0 ? Dropout(probability: c.dropout) : nil
        encoder = TransformerEncoder(
            BlockConfiguration(modelDimensions: c.modelDimensions, headCount: c.headCount,
                               feedForwardDimensions: c.feedForwardDimensions, dropout: c.dropout, activation: c.activation,
                               normalization: c.normalization),
            layerCount: c.layerCount, generator: &generator)
        head = Linear(c.modelDimensions, c.classCount, generator: &generator)
    }

    /// The encoder's output for every position, `[batch, sequenceLength, modelDimensions]`.
    public func features(_ tokens: Tensor) -> Tensor {
        check(tokens.rank == 2 && tokens.shape[1] == configuration.sequenceLength,
              "SequenceClassifier: tokens must be [batch, \(configuration.sequenceLength)], got \(tokens.shape)")
        return features(embedded: tokenEmbedding(tokens))
    }

    /// The encoder's output for token embeddings `[batch, sequenceLength, modelDimensions]`: the
    /// classifier from its embedding table on, which gradient attributions differentiate.
    public func features(embedded: Tensor) -> Tensor {
        var x = embedded + positionEmbedding(length: configuration.sequenceLength)
        if let embeddingDropout { x = embeddingDropout(x) }
        return encoder(x)
    }

    /// Class logits `[batch, classCount]` from the mean of the encoder's outputs over the positions.
    public func callAsFunction(_ tokens: Tensor) -> Tensor {
        head(features(tokens).mean(alongAxes: [1]))
    }

    /// Class logits for token embeddings instead of tokens.
    public func logits(embedded: Tensor) -> Tensor {
        head(features(embedded: embedded).mean(alongAxes: [1]))
    }
}
