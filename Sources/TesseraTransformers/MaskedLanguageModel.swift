import TesseraNN
import TesseraTensor

/// A BERT-style masked language model (Devlin et al., "BERT: Pre-training of Deep Bidirectional
/// Transformers for Language Understanding", NAACL 2019): token + position + segment embeddings,
/// a bidirectional encoder, and a head that predicts the tokens hidden by ``MaskedLanguageModel/mask(_:rate:generator:)``.
public struct MaskedLanguageModelConfiguration: Codable, Equatable, Sendable {
    public var vocabularySize: Int
    /// Longest input, [CLS] and [SEP]s included.
    public var contextLength: Int
    public var layerCount: Int
    public var headCount: Int
    public var modelDimensions: Int
    /// Hidden width of the feed-forward networks (4 × model dimensions by default).
    public var feedForwardDimensions: Int
    public var dropout: Float
    /// BERT is post-LN; pre-LN trains small models more easily.
    public var normalization: NormalizationPlacement
    /// Segments of a sentence pair (2 in BERT: sentence A and sentence B).
    public var segmentCount: Int
    /// The ids of the special tokens, which the vocabulary must contain.
    public var specialTokens: SpecialTokens

    public init(vocabularySize: Int, contextLength: Int, layerCount: Int, headCount: Int, modelDimensions: Int,
                feedForwardDimensions: Int? = nil, dropout: Float = 0, normalization: NormalizationPlacement = .postNorm,
                segmentCount: Int = 2, specialTokens: SpecialTokens) {
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
        self.layerCount = layerCount
        self.headCount = headCount
        self.modelDimensions = modelDimensions
        self.feedForwardDimensions = feedForwardDimensions ?? 4 * modelDimensions
        self.dropout = dropout
        self.normalization = normalization
        self.segmentCount = segmentCount
        self.specialTokens = specialTokens
    }
}

/// Ids of BERT's special tokens.
public struct SpecialTokens: Codable, Equatable, Sendable {
    public var padding: Int
    /// [CLS]: first token of every input; its output summarises the input for classification.
    public var classification: Int
    /// [SEP]: ends each sentence of the input.
    public var separator: Int
    /// [MASK]: what hides a token to predict.
    public var mask: Int

    public init(padding: Int, classification: Int, separator: Int, mask: Int) {
        self.padding = padding
        self.classification = classification
        self.separator = separator
        self.mask = mask
    }

    var all: Set<Int> { [padding, classification, separator, mask] }
}

public final class MaskedLanguageModel: Module {
    public let configuration: MaskedLanguageModelConfiguration
    public let tokenEmbedding: TokenEmbedding
    public let positionEmbedding: LearnedPositionalEmbedding
    /// One learned vector per segment (sentence A, sentence B).
    public let segmentEmbedding: TokenEmbedding
    public let embeddingNorm: LayerNorm
    public let embeddingDropout: Dropout?
    public let encoder: TransformerEncoder
    /// BERT's prediction head: dense → GELU → layer norm → vocabulary logits.
    public let headTransform: Linear
    public let headNorm: LayerNorm
    public let head: Linear

    public init(_ configuration: MaskedLanguageModelConfiguration, generator: inout RandomGenerator) {
        let c = configuration
        self.configuration = c
        tokenEmbedding = TokenEmbedding(vocabularySize: c.vocabularySize, dimensions: c.modelDimensions, generator: &generator)
        positionEmbedding = LearnedPositionalEmbedding(maximumLength: c.contextLength, dimensions: c.modelDimensions,
                                                       generator: &generator)
        segmentEmbedding = TokenEmbedding(vocabularySize: c.segmentCount, dimensions: c.modelDimensions, generator: &generator)
        embeddingNorm = LayerNorm(c.modelDimensions)
        embeddingDropout = c.dropout > 0 ? Dropout(probability: c.dropout) : nil
        encoder = TransformerEncoder(
            BlockConfiguration(modelDimensions: c.modelDimensions, headCount: c.headCount,
                               feedForwardDimensions: c.feedForwardDimensions, dropout: c.dropout, activation: .gelu,
                               normalization: c.normalization),
            layerCount: c.layerCount, generator: &generator)
        headTransform = Linear(c.modelDimensions, c.modelDimensions, generator: &generator)
        headNorm = LayerNorm(c.modelDimensions)
        head = Linear(c.modelDimensions, c.vocabularySize, generator: &generator)
    }

    /// The encoder's output `[batch, time, d]` for `tokens` and `segments` (both `[batch, time]`;
    /// segments all 0 when `nil`). Padding tokens are masked out of attention.
    public func features(_ tokens: Tensor, segments: Tensor? = nil) -> Tensor {
        check(tokens.rank == 2, "MaskedLanguageModel: tokens must be [batch, time], got \(tokens.shape)")
        check(tokens.shape[1] <= configuration.contextLength,
              "MaskedLanguageModel: a sequence of \(tokens.shape[1]) tokens exceeds the context of \(configuration.contextLength) tokens")
        let segmentIDs = segments ?? Tensor.zeros(tokens.shape)
        check(segmentIDs.shape == tokens.shape, "MaskedLanguageModel: segments \(segmentIDs.shape) must match tokens \(tokens.shape)")
        var x = tokenEmbedding(tokens) + positionEmbedding(length: tokens.shape[1]) + segmentEmbedding(segmentIDs)
        x = embeddingNorm(x)
        if let embeddingDropout { x = embeddingDropout(x) }
        let isToken = AttentionMask.tokens(tokens, paddingToken: configuration.specialTokens.padding)
        return encoder(x, mask: AttentionMask.keyPadding(isToken))
    }

    /// Vocabulary logits `[batch, time, vocabularySize]` at every position.
    public func callAsFunction(_ tokens: Tensor, segments: Tensor? = nil) -> Tensor {
        head(headNorm(headTransform(features(tokens, segments: segments)).gelu()))
    }

    /// Mean cross entropy over the chosen positions (targets other than ``MaskedTokens/ignored``).
    public func loss(_ masked: MaskedTokens, segments: Tensor? = nil) -> Tensor {
        crossEntropy(logits: self(masked.inputs, segments: segments), targets: masked.targets,
                     ignoreIndex: MaskedTokens.ignored)
    }

    // MARK: - Inputs

    /// `[CLS] first [SEP]` or `[CLS] first [SEP] second [SEP]`, padded to `length`, with segment
    /// ids 0 for the first sentence (and its [CLS] and [SEP]) and 1 for the second.
    public func sentencePair(_ first: [Int], _ second: [Int]? = nil, length: Int) -> (tokens: [Int], segments: [Int]) {
        let special = configuration.specialTokens
        var tokens = [special.classification] + first + [special.separator]
        var segments = [Int](repeating: 0, count: tokens.count)
        if let second {
            tokens += second + [special.separator]
            segments += [Int](repeating: 1, count: second.count + 1)
        }
        check(tokens.count <= length,
              "MaskedLanguageModel.sentencePair: \(tokens.count) tokens with [CLS] and [SEP] exceed the length of \(length)")
        let padding = length - tokens.count
        return (tokens + [Int](repeating: special.padding, count: padding), segments + [Int](repeating: 0, count: padding))
    }

    /// BERT's masking (§3.1): each ordinary token is chosen with probability `rate` (15%); a chosen
    /// token becomes [MASK] 80% of the time, a random ordinary token 10%, and stays itself 10%.
    /// Special tokens and padding are never chosen. The targets hold the original token at chosen
    /// positions and ``MaskedTokens/ignored`` elsewhere.
    public func mask(_ tokens: Tensor, rate: Float = 0.15, generator: inout RandomGenerator) -> MaskedTokens {
        let special = configuration.specialTokens
        let specialIDs = special.all
        let ordinary = (0..<configuration.vocabularySize).filter { !specialIDs.contains($0) }
        let inputs = tokens.copy(), targets = Tensor.full(tokens.shape, MaskedTokens.ignored)
        for index in 0..<tokens.count {
            let token = Int(tokens.storage.pointer[index])
            guard !specialIDs.contains(token), generator.nextUniform() < rate else { continue }
            targets.storage.pointer[index] = Float(token)
            let roll = generator.nextUniform()
            if roll < 0.8 {
                inputs.storage.pointer[index] = Float(special.mask)
            } else if roll < 0.9 {
                inputs.storage.pointer[index] = Float(ordinary[generator.nextInt(below: ordinary.count)])
            }
        }
        return MaskedTokens(inputs: inputs, targets: targets)
    }
}

/// A masked batch: what the model reads and what it must predict.
public struct MaskedTokens {
    /// The target of a position that is not predicted.
    public static let ignored: Float = -1
    /// Tokens with the chosen ones masked, replaced or kept.
    public let inputs: Tensor
    /// The original token at chosen positions, ``ignored`` elsewhere.
    public let targets: Tensor

    /// Positions chosen for prediction.
    public var chosenCount: Int { targets.scalars.filter { $0 != MaskedTokens.ignored }.count }
}
