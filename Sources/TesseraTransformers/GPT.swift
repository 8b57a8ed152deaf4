import TesseraNN
import TesseraTensor

/// A decoder-only causal language model in the shape of GPT-2 (Radford et al., "Language Models
/// are Unsupervised Multitask Learners", 2019; code layout after Karpathy's nanoGPT): token and
/// learned position embeddings, pre-LN causal blocks, a final layer norm and a linear head.
///
/// ```swift
/// let model = GPT(GPTConfiguration(vocabularySize: 65, contextLength: 64, layerCount: 2,
///                                  headCount: 4, modelDimensions: 64), generator: &rng)
/// let loss = model.loss(tokens)                        // next-token cross entropy
/// let text = model.generate(prompt, newTokens: 50, sampling: TokenSampling(temperature: 0.8, topK: 10),
///                           generator: &rng)
/// ```
public struct GPTConfiguration: Codable, Equatable, Sendable {
    /// Tokens the model reads and predicts.
    public var vocabularySize: Int
    /// The longest sequence: the size of the position table.
    public var contextLength: Int
    /// Transformer blocks.
    public var layerCount: Int
    /// Attention heads per block.
    public var headCount: Int
    /// Width of the residual stream.
    public var modelDimensions: Int
    /// Hidden width of each block's feed-forward network (4 × model dimensions by default).
    public var feedForwardDimensions: Int
    /// Dropout on embeddings, attention probabilities and residual branches.
    public var dropout: Float

    public init(vocabularySize: Int, contextLength: Int, layerCount: Int, headCount: Int, modelDimensions: Int,
                feedForwardDimensions: Int? = nil, dropout: Float = 0) {
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
        self.layerCount = layerCount
        self.headCount = headCount
        self.modelDimensions = modelDimensions
        self.feedForwardDimensions = feedForwardDimensions ?? 4 * modelDimensions
        self.dropout = dropout
    }

    var block: BlockConfiguration {
        BlockConfiguration(modelDimensions: modelDimensions, headCount: headCount,
                           feedForwardDimensions: feedForwardDimensions, dropout: dropout, activation: .gelu,
                           normalization: .preNorm)
    }
}

public final class GPT: Module {
    public let configuration: GPTConfiguration
    public let tokenEmbedding: TokenEmbedding
    public let positionEmbedding: LearnedPositionalEmbedding
    public let embeddingDropout: Dropout?
    /// Causal pre-LN blocks with their final layer norm.
    public let blocks: TransformerEncoder
    /// `modelDimensions → vocabularySize`, without bias as in GPT-2.
    public let head: Linear

    public init(_ configuration: GPTConfiguration, generator: inout RandomGenerator) {
        self.configuration = configuration
        tokenEmbedding = TokenEmbedding(vocabularySize: configuration.vocabularySize,
                                        dimensions: configuration.modelDimensions, generator: &generator)
        positionEmbedding = LearnedPositionalEmbedding(maximumLength: configuration.contextLength,
                                                       dimensions: configuration.modelDimensions, generator: &generator)
        embeddingDropout = configuration.dropout > 0 ? Dropout(probability: configuration.dropout) : nil
        blocks = TransformerEncoder(configuration.block, layerCount: configuration.layerCount, generator: &generator)
        head = Linear(configuration.modelDimensions, configuration.vocabularySize, bias: false, generator: &generator)
    }

    /// Logits `[batch, time, vocabulary]` for `tokens` (`[batch, time]`). With `caches` (one per
    /// block, from ``makeCaches()``), `tokens` continue the cached positions and only they are computed.
    public func callAsFunction(_ tokens: Tensor, caches: [AttentionCache]? = nil) -> Tensor {
        check(tokens.rank == 2, "GPT: tokens must be [batch, time], got \(tokens.shape)")
        let offset = caches?.first?.length ?? 0
        check(offset + tokens.shape[1] <= configuration.contextLength,
                     "GPT: a sequence of \(offset + tokens.shape[1]) tokens exceeds the context of \(configuration.contextLength) tokens")
        var x = tokenEmbedding(tokens) + positionEmbedding(length: tokens.shape[1], offset: offset)
        if let embeddingDropout { x = embeddingDropout(x) }
        return head(blocks(x, causal: true, caches: caches))
    }

    /// Empty key/value caches, one per block, for incremental generation.
    public func makeCaches() -> [AttentionCache] {
        blocks.layers.map { _ in AttentionCache() }
    }

    /// Mean next-token cross entropy over `tokens` (`[batch, time]`): position t predicts token t+1.
    /// Targets equal to `ignoreToken` (padding) count for nothing.
    public func loss(_ tokens: Tensor, ignoreToken: Int? = nil) -> Tensor {
        let length = tokens.shape[1]
        let inputs = tokens.slice(alongAxis: 1, start: 0, end: length - 1)
        let targets = tokens.slice(alongAxis: 1, start: 1, end: length)
        return crossEntropy(logits: self(inputs), targets: targets, ignoreIndex: ignoreToken.map(Float.init))
    }

    /// `prompt` (`[batch, time]`) followed by `newTokens` generated tokens.
    ///
    /// With `useCache` each step feeds only the newest token and reuses the cached keys and values
    /// (the whole sequence must then fit the context); without it each step reruns the last
    /// `contextLength` tokens. Both pick the same tokens (`cachedAndUncachedGenerationAgree`).
    public func generate(_ prompt: Tensor, newTokens: Int, sampling: TokenSampling = .greedy, useCache: Bool = true,
                         generator: inout RandomGenerator) -> Tensor {
        check(prompt.rank == 2 && prompt.shape[1] > 0, "GPT.generate: the prompt must be [batch, time ≥ 1], got \(prompt.shape)")
        check(!useCache || prompt.shape[1] + newTokens <= configuration.contextLength,
                     "GPT.generate: \(prompt.shape[1]) prompt + \(newTokens) new tokens exceed the context of \(configuration.contextLength) tokens (generate without the cache to slide the window)")
        let wasTraining = isTraining
        eval()
        defer { train(wasTraining) }
        return withoutGradients {
            var sequence = prompt
            let caches = useCache ? makeCaches() : nil
            var pending = prompt
            for _ in 0..<newTokens {
                let logits: Tensor
                if let caches {
                    logits = self(pending, caches: caches)
                } else {
                    let start = Swift.max(0, sequence.shape[1] - configuration.contextLength)
                    logits = self(sequence.slice(alongAxis: 1, start: start))
                }
                let last = logits.select(alongAxis: 1, index: logits.shape[1] - 1)
                let next = sampling.next(from: last, generator: &generator).reshape([prompt.shape[0], 1])
                sequence = Tensor.concatenate([sequence, next], alongAxis: 1)
                pending = next
            }
            return sequence
        }
    }
}
