import TesseraNN
import TesseraTensor

/// Where a block normalises: around each sub-layer's residual sum (post-LN, the original
/// Transformer and BERT) or on the sub-layer's input (pre-LN, GPT-2 and ViT). Pre-LN keeps the
/// residual stream an identity path and trains deep stacks without warm-up (Xiong et al., "On
/// Layer Normalization in the Transformer Architecture", ICML 2020).
public enum NormalizationPlacement: String, Codable, Sendable {
    case preNorm
    case postNorm
}

/// The sizes and settings every transformer block shares.
public struct BlockConfiguration: Codable, Equatable, Sendable {
    /// Width of the residual stream.
    public var modelDimensions: Int
    /// Attention heads; `modelDimensions` must split evenly between them.
    public var headCount: Int
    /// Hidden width of the position-wise feed-forward network (4 × `modelDimensions` in the paper).
    public var feedForwardDimensions: Int
    /// Dropout on attention probabilities, sub-layer outputs and the feed-forward hidden layer.
    public var dropout: Float
    /// Nonlinearity of the feed-forward network (ReLU in the paper, GELU in BERT and GPT).
    public var activation: Activation
    public var normalization: NormalizationPlacement
    /// Epsilon of the layer norms (PyTorch's 1e-5; BERT uses 1e-12).
    public var layerNormEpsilon: Float

    public init(modelDimensions: Int, headCount: Int, feedForwardDimensions: Int? = nil, dropout: Float = 0,
                activation: Activation = .gelu, normalization: NormalizationPlacement = .preNorm,
                layerNormEpsilon: Float = 1e-5) {
        self.modelDimensions = modelDimensions
        self.headCount = headCount
        self.feedForwardDimensions = feedForwardDimensions ?? 4 * modelDimensions
        self.dropout = dropout
        self.activation = activation
        self.normalization = normalization
        self.layerNormEpsilon = layerNormEpsilon
    }
}

/// `contract(dropout(activation(expand(x))))`, applied to each position alone (§3.3 of the paper).
public final class FeedForward: Layer {
    public let expand: Linear
    public let contract: Linear
    public let dropout: Dropout?
    public let activation: Activation

    public init(modelDimensions: Int, hiddenDimensions: Int, activation: Activation, dropout: Float,
                generator: inout RandomGenerator) {
        expand = Linear(modelDimensions, hiddenDimensions, generator: &generator)
        contract = Linear(hiddenDimensions, modelDimensions, generator: &generator)
        self.dropout = dropout > 0 ? Dropout(probability: dropout) : nil
        self.activation = activation
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        var hidden = activation(expand(input))
        if let dropout { hidden = dropout(hidden) }
        return contract(hidden)
    }
}

/// Self-attention then a feed-forward network, each wrapped in a residual connection and a layer
/// norm (placed per ``NormalizationPlacement``): the encoder layer of the paper, BERT's and ViT's
/// layer, and — with `causal: true` — GPT's decoder-only block. Parameters correspond to
/// `torch.nn.TransformerEncoderLayer`'s (`self_attn`, `linear1/2`, `norm1/2`).
public final class TransformerEncoderLayer: Module {
    public let attention: MultiHeadAttention
    public let attentionNorm: LayerNorm
    public let feedForward: FeedForward
    public let feedForwardNorm: LayerNorm
    public let residualDropout: Dropout?
    public let normalization: NormalizationPlacement

    public init(_ configuration: BlockConfiguration, generator: inout RandomGenerator) {
        let c = configuration
        attention = MultiHeadAttention(modelDimensions: c.modelDimensions, headCount: c.headCount, dropout: c.dropout,
                                       generator: &generator)
        attentionNorm = LayerNorm(c.modelDimensions, epsilon: c.layerNormEpsilon)
        feedForward = FeedForward(modelDimensions: c.modelDimensions, hiddenDimensions: c.feedForwardDimensions,
                                  activation: c.activation, dropout: c.dropout, generator: &generator)
        feedForwardNorm = LayerNorm(c.modelDimensions, epsilon: c.layerNormEpsilon)
        residualDropout = c.dropout > 0 ? Dropout(probability: c.dropout) : nil
        normalization = c.normalization
    }

    /// `input` is `[batch, time, modelDimensions]`; `mask` an allow mask (``AttentionMask``).
    public func callAsFunction(_ input: Tensor, mask: Tensor? = nil, causal: Bool = false,
                               cache: AttentionCache? = nil) -> Tensor {
        var x = input
        x = residual(x, norm: attentionNorm) { attention($0, mask: mask, causal: causal, cache: cache) }
        x = residual(x, norm: feedForwardNorm) { feedForward($0) }
        return x
    }

    private func residual(_ x: Tensor, norm: LayerNorm, _ sublayer: (Tensor) -> Tensor) -> Tensor {
        residualConnection(x, norm: norm, placement: normalization, dropout: residualDropout, sublayer)
    }
}

/// An encoder layer on an unmasked, non-causal sequence is a ``Layer`` (a step of an explained model).
extension TransformerEncoderLayer: Layer {
    public func callAsFunction(_ input: Tensor) -> Tensor {
        self(input, mask: nil)
    }
}

/// Causal self-attention, cross-attention to the encoder's output, then a feed-forward network,
/// each residual and normalised: the decoder layer of the paper (`torch.nn.TransformerDecoderLayer`).
public final class TransformerDecoderLayer: Module {
    public let selfAttention: MultiHeadAttention
    public let selfAttentionNorm: LayerNorm
    public let crossAttention: MultiHeadAttention
    public let crossAttentionNorm: LayerNorm
    public let feedForward: FeedForward
    public let feedForwardNorm: LayerNorm
    public let residualDropout: Dropout?
    public let normalization: NormalizationPlacement

    public init(_ configuration: BlockConfiguration, memoryDimensions: Int? = nil, generator: inout RandomGenerator) {
        let c = configuration
        selfAttention = MultiHeadAttention(modelDimensions: c.modelDimensions, headCount: c.headCount, dropout: c.dropout,
                                           generator: &generator)
        selfAttentionNorm = LayerNorm(c.modelDimensions, epsilon: c.layerNormEpsilon)
        crossAttention = MultiHeadAttention(modelDimensions: c.modelDimensions, headCount: c.headCount,
                                            keyValueDimensions: memoryDimensions, dropout: c.dropout, generator: &generator)
        crossAttentionNorm = LayerNorm(c.modelDimensions, epsilon: c.layerNormEpsilon)
        feedForward = FeedForward(modelDimensions: c.modelDimensions, hiddenDimensions: c.feedForwardDimensions,
                                  activation: c.activation, dropout: c.dropout, generator: &generator)
        feedForwardNorm = LayerNorm(c.modelDimensions, epsilon: c.layerNormEpsilon)
        residualDropout = c.dropout > 0 ? Dropout(probability: c.dropout) : nil
        normalization = c.normalization
    }

    /// - Parameters:
    ///   - input: the target prefix, `[batch, targetTime, modelDimensions]`.
    ///   - memory: the encoder's output, `[batch, sourceTime, memoryDimensions]`.
    ///   - targetMask: allow mask over the target positions (target padding), on top of the causal
    ///     mask the self-attention always applies.
    ///   - memoryMask: allow mask over the source positions (source padding).
    ///   - cache: keys and values of earlier target positions for incremental decoding.
    public func callAsFunction(_ input: Tensor, memory: Tensor, targetMask: Tensor? = nil, memoryMask: Tensor? = nil,
                               cache: AttentionCache? = nil) -> Tensor {
        var x = input
        x = residualConnection(x, norm: selfAttentionNorm, placement: normalization, dropout: residualDropout) {
            selfAttention($0, mask: targetMask, causal: true, cache: cache)
        }
        x = residualConnection(x, norm: crossAttentionNorm, placement: normalization, dropout: residualDropout) {
            crossAttention($0, keyValue: memory, mask: memoryMask)
        }
        x = residualConnection(x, norm: feedForwardNorm, placement: normalization, dropout: residualDropout) {
            feedForward($0)
        }
        return x
    }
}

/// `x + sublayer(norm(x))` (pre-LN) or `norm(x + sublayer(x))` (post-LN), with dropout on the
/// sub-layer's output.
func residualConnection(_ x: Tensor, norm: LayerNorm, placement: NormalizationPlacement, dropout: Dropout?,
                        _ sublayer: (Tensor) -> Tensor) -> Tensor {
    switch placement {
    case .preNorm:
        let update = sublayer(norm(x))
        return x + (dropout.map { $0(update) } ?? update)
    case .postNorm:
        let update = sublayer(x)
        return norm(x + (dropout.map { $0(update) } ?? update))
    }
}

/// A stack of encoder layers, with the final layer norm a pre-LN stack needs (its last residual
/// sum is otherwise never normalised).
public final class TransformerEncoder: Module {
    public let layers: [TransformerEncoderLayer]
    public let finalNorm: LayerNorm?

    public init(_ configuration: BlockConfiguration, layerCount: Int, generator: inout RandomGenerator) {
        var layers: [TransformerEncoderLayer] = []
        for _ in 0..<layerCount { layers.append(TransformerEncoderLayer(configuration, generator: &generator)) }
        self.layers = layers
        finalNorm = configuration.normalization == .preNorm
            ? LayerNorm(configuration.modelDimensions, epsilon: configuration.layerNormEpsilon) : nil
    }

    /// `caches`, when given, holds one cache per layer.
    public func callAsFunction(_ input: Tensor, mask: Tensor? = nil, causal: Bool = false,
                               caches: [AttentionCache]? = nil) -> Tensor {
        check(caches == nil || caches!.count == layers.count,
                     "TransformerEncoder: \(caches?.count ?? 0) caches for \(layers.count) layers")
        var x = input
        for (index, layer) in layers.enumerated() {
            x = layer(x, mask: mask, causal: causal, cache: caches?[index])
        }
        return finalNorm.map { $0(x) } ?? x
    }
}

/// An encoder stack on an unmasked, non-causal sequence is a ``Layer``.
extension TransformerEncoder: Layer {
    public func callAsFunction(_ input: Tensor) -> Tensor {
        self(input, mask: nil)
    }
}

/// A stack of decoder layers with the final layer norm of a pre-LN stack.
public final class TransformerDecoder: Module {
    public let layers: [TransformerDecoderLayer]
    public let finalNorm: LayerNorm?

    public init(_ configuration: BlockConfiguration, layerCount: Int, memoryDimensions: Int? = nil,
                generator: inout RandomGenerator) {
        var layers: [TransformerDecoderLayer] = []
        for _ in 0..<layerCount {
            layers.append(TransformerDecoderLayer(configuration, memoryDimensions: memoryDimensions, generator: &generator))
        }
        self.layers = layers
        finalNorm = configuration.normalization == .preNorm
            ? LayerNorm(configuration.modelDimensions, epsilon: configuration.layerNormEpsilon) : nil
    }

    public func callAsFunction(_ input: Tensor, memory: Tensor, targetMask: Tensor? = nil, memoryMask: Tensor? = nil,
                               caches: [AttentionCache]? = nil) -> Tensor {
        check(caches == nil || caches!.count == layers.count,
                     "TransformerDecoder: \(caches?.count ?? 0) caches for \(layers.count) layers")
        var x = input
        for (index, layer) in layers.enumerated() {
            x = layer(x, memory: memory, targetMask: targetMask, memoryMask: memoryMask, cache: caches?[index])
        }
        return finalNorm.map { $0(x) } ?? x
    }
}
