import TesseraNN
import TesseraTensor

/// Multi-head attention (Vaswani et al., "Attention Is All You Need", NeurIPS 2017, §3.2.2):
/// queries, keys and values projected into `headCount` subspaces, attended in each, concatenated
/// and projected back.
///
/// The same module does self-attention (`attention(x)`), cross-attention
/// (`attention(x, keyValue: encoderOutput)`) and cached incremental decoding (pass an
/// ``AttentionCache``). Its projections map one to one onto PyTorch's `nn.MultiheadAttention`:
/// `in_proj_weight` is `[query.weight; key.weight; value.weight]` stacked, `out_proj` is `output`.
///
/// ```swift
/// let attention = MultiHeadAttention(modelDimensions: 64, headCount: 4, generator: &rng)
/// let y = attention(x, mask: AttentionMask.keyPadding(isToken), causal: true)  // [batch, time, 64]
/// ```
public final class MultiHeadAttention: Module {
    public let query: Linear
    public let key: Linear
    public let value: Linear
    public let output: Linear
    /// Dropout on the attention probabilities (`nil` when the probability is 0).
    public let attentionDropout: Dropout?
    public let headCount: Int
    /// Keep each forward pass's probabilities in ``lastProbabilities`` (off by default: they are
    /// `[batch, heads, queries, keys]` per layer, and the training step does not need them).
    public var recordsProbabilities = false
    /// The probabilities of the last forward pass when ``recordsProbabilities`` is set,
    /// `[batch, heads, queries, keys]`. Still attached to the graph when gradients were recorded,
    /// so gradient-weighted explanations (Chefer et al., CVPR 2021) can differentiate through them.
    public var lastProbabilities: Tensor? {
        get { record.probabilities }
        set { record.probabilities = newValue }
    }
    // A class, not a stored `Tensor?`, so the module walk does not take it for a parameter.
    private let record = ProbabilityRecord()

    public var modelDimensions: Int { output.outputSize }
    public var headDimensions: Int { modelDimensions / headCount }

    /// - Parameters:
    ///   - modelDimensions: width of the queries' source and of the output; a multiple of
    ///     `headCount`.
    ///   - headCount: attention heads; each attends in `modelDimensions / headCount` dimensions.
    ///   - keyValueDimensions: width of the keys' and values' source (cross-attention to an encoder
    ///     of another width); `modelDimensions` by default.
    ///   - dropout: probability of dropping an attention probability during training.
    ///   - bias: give the four projections (query, key, value, output) a bias.
    ///   - generator: draws the projections' initial weights (the dropout layer takes its own
    ///     stream, like every `Dropout`).
    public init(modelDimensions: Int, headCount: Int, keyValueDimensions: Int? = nil, dropout: Float = 0,
                bias: Bool = true, generator: inout RandomGenerator) {
        check(headCount > 0 && modelDimensions % headCount == 0,
                     "MultiHeadAttention: \(modelDimensions) model dimensions do not split into \(headCount) heads")
        let sourceDimensions = keyValueDimensions ?? modelDimensions
        query = Linear(modelDimensions, modelDimensions, bias: bias, generator: &generator)
        key = Linear(sourceDimensions, modelDimensions, bias: bias, generator: &generator)
        value = Linear(sourceDimensions, modelDimensions, bias: bias, generator: &generator)
        output = Linear(modelDimensions, modelDimensions, bias: bias, generator: &generator)
        attentionDropout = dropout > 0 ? Dropout(probability: dropout) : nil
        self.headCount = headCount
    }

    /// - Parameters:
    ///   - input: the queries' source, `[batch, queries, modelDimensions]`.
    ///   - keyValue: the keys' and values' source, `[batch, keys, keyValueDimensions]`; `input` by
    ///     default (self-attention).
    ///   - mask: an allow mask broadcasting to `[batch, heads, queries, keys]` (``AttentionMask``).
    ///   - causal: block keys after each query's position.
    ///   - cache: for incremental self-attention, the keys and values of earlier positions; this
    ///     call's are appended to it.
    public func callAsFunction(_ input: Tensor, keyValue: Tensor? = nil, mask: Tensor? = nil, causal: Bool = false,
                               cache: AttentionCache? = nil) -> Tensor {
        check(input.rank == 3 && input.shape[2] == modelDimensions,
                     "MultiHeadAttention: input must be [batch, time, \(modelDimensions)], got \(input.shape)")
        let source = keyValue ?? input
        var keys = splitHeads(key(source)), values = splitHeads(value(source))
        if let cache {
            if let pastKeys = cache.keys, let pastValues = cache.values {
                keys = Tensor.concatenate([pastKeys, keys], alongAxis: 2)
                values = Tensor.concatenate([pastValues, values], alongAxis: 2)
            }
            cache.keys = keys
            cache.values = values
        }
        let dropout: ((Tensor) -> Tensor)? = attentionDropout.map { layer in { layer($0) } }  // identity in evaluation mode
        let attended = scaledDotProductAttention(query: splitHeads(query(input)), key: keys, value: values,
                                                 mask: mask, causal: causal, dropout: dropout)
        if recordsProbabilities { record.probabilities = attended.probabilities }
        return output(mergeHeads(attended.output))
    }

    /// `[batch, time, heads · d]` → `[batch, heads, time, d]`.
    private func splitHeads(_ x: Tensor) -> Tensor {
        x.reshape([x.shape[0], x.shape[1], headCount, headDimensions]).permuted([0, 2, 1, 3])
    }

    /// `[batch, heads, time, d]` → `[batch, time, heads · d]`.
    private func mergeHeads(_ x: Tensor) -> Tensor {
        x.permuted([0, 2, 1, 3]).reshape([x.shape[0], x.shape[2], modelDimensions])
    }
}

/// Self-attention over a whole unmasked sequence as a ``Layer`` (a step of an explained model, a
/// ``Sequential``): the same as `attention(x)`.
extension MultiHeadAttention: Layer {
    public func callAsFunction(_ input: Tensor) -> Tensor {
        self(input, keyValue: nil)
    }
}

/// The keys and values one self-attention layer has computed for earlier positions
/// (`[batch, heads, past, d]`), so generating a token costs one position's projections rather
/// than the whole prefix's.
public final class AttentionCache {
    public var keys: Tensor?
    public var values: Tensor?
    /// Positions cached so far.
    public var length: Int { keys?.shape[2] ?? 0 }

    public init() {}
}

private final class ProbabilityRecord {
    var probabilities: Tensor?
}

// MARK: - Reading attention after a forward pass

extension Module {
    /// Turns recording of attention probabilities on or off in every ``MultiHeadAttention`` of the tree.
    public func recordAttentionProbabilities(_ enabled: Bool = true) {
        for (_, module) in namedModules() {
            guard let attention = module as? MultiHeadAttention else { continue }
            attention.recordsProbabilities = enabled
            if !enabled { attention.lastProbabilities = nil }
        }
    }

    /// The probabilities of every attention layer's last forward pass, in model order, by the
    /// layer's dotted name (`blocks.0.attention`): `[batch, heads, queries, keys]` each. Empty
    /// until ``recordAttentionProbabilities(_:)`` is on and a forward pass has run.
    public func attentionProbabilities() -> [(name: String, probabilities: Tensor)] {
        namedModules().compactMap { name, module in
            guard let attention = module as? MultiHeadAttention, let probabilities = attention.lastProbabilities else { return nil }
            return (name, probabilities)
        }
    }
}
