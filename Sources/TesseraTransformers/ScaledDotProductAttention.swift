import TesseraTensor

/// What a query may look at: built once per forward pass and shared by every layer.
///
/// Masks are *allow* masks (1 = may attend, 0 = blocked) that broadcast to the score shape
/// `[batch, heads, queries, keys]`. They become an additive bias of 0 or ``AttentionMask/blocked``
/// before the softmax: an allowed score is then left exactly as it was (adding 0 is exact), and a
/// blocked one underflows to a probability of exactly 0, so blocked positions cannot leak into
/// the output by even one ulp — the property `causalMaskHidesFutureTokens` pins.
public enum AttentionMask {
    /// The bias of a blocked position. Finite rather than −∞ so that a row with every key blocked
    /// (a padding query over padding keys) becomes uniform instead of NaN; `exp(−1e9 − max)` is
    /// exactly 0 in Float32 whenever the row has one allowed score.
    public static let blocked: Float = -1e9

    /// `[queries, keys]`: query `i` may attend to key `j` when `j ≤ i + keys − queries`.
    ///
    /// Aligned at the bottom right, so with a key/value cache (keys = past + new queries) the
    /// last query still sees every key and the first new query sees the past and itself. With
    /// `queries == keys` this is the usual lower-triangular mask.
    public static func causal(queries: Int, keys: Int) -> Tensor {
        check(keys >= queries, "AttentionMask.causal: \(queries) queries need at least as many keys, got \(keys)")
        let offset = keys - queries
        return Tensor(shape: [queries, keys]) { flat in (flat % keys) <= (flat / keys) + offset ? 1 : 0 }
    }

    /// `[batch, 1, 1, keys]` from a `[batch, keys]` tensor of 1 (a real token) and 0 (padding):
    /// every query of every head ignores the padding keys.
    public static func keyPadding(_ isToken: Tensor) -> Tensor {
        check(isToken.rank == 2, "AttentionMask.keyPadding: expected [batch, keys], got \(isToken.shape)")
        return isToken.reshape([isToken.shape[0], 1, 1, isToken.shape[1]])
    }

    /// `[batch, keys]` mask of the tokens of `tokens` (`[batch, keys]`) that are not `paddingToken`.
    public static func tokens(_ tokens: Tensor, paddingToken: Int) -> Tensor {
        tokens.notEqual(Tensor(Float(paddingToken)))
    }

    /// Both masks (either may be `nil`): allowed where both allow.
    public static func combine(_ first: Tensor?, _ second: Tensor?) -> Tensor? {
        guard let first else { return second }
        guard let second else { return first }
        return first * second
    }

    /// The additive bias of an allow mask: 0 where allowed, ``blocked`` elsewhere.
    public static func bias(_ allowed: Tensor) -> Tensor {
        (allowed - 1) * -blocked
    }
}

/// The result of attention: the mixed values and the attention probabilities that mixed them.
public struct AttentionOutput {
    /// `[..., queries, valueDimensions]`.
    public let output: Tensor
    /// `[..., queries, keys]`; each row sums to one.
    public let probabilities: Tensor
}

/// `softmax(Q Kᵀ / √d + bias) V` (Vaswani et al., "Attention Is All You Need", NeurIPS 2017, eq. 1).
///
/// - Parameters:
///   - query: `[..., queries, d]`.
///   - key: `[..., keys, d]`.
///   - value: `[..., keys, dv]`.
///   - mask: an allow mask (see ``AttentionMask``) broadcasting to `[..., queries, keys]`.
///   - causal: also block every key after the query's position (bottom-right aligned).
///   - dropout: applied to the probabilities when given (training only; `nil` in evaluation).
///
/// The query is scaled by `1/√d` before the product rather than the scores after it: the same
/// value, on a tensor `keys/d` times smaller.
public func scaledDotProductAttention(query: Tensor, key: Tensor, value: Tensor, mask: Tensor? = nil,
                                      causal: Bool = false, dropout: ((Tensor) -> Tensor)? = nil) -> AttentionOutput {
    check(query.rank >= 2 && key.rank == query.rank && value.rank == query.rank,
                 "scaledDotProductAttention: query \(query.shape), key \(key.shape) and value \(value.shape) must have equal ranks ≥ 2")
    let depth = query.shape[query.rank - 1]
    let queries = query.shape[query.rank - 2], keys = key.shape[key.rank - 2]
    check(key.shape[key.rank - 1] == depth,
                 "scaledDotProductAttention: query depth \(depth) differs from key depth \(key.shape[key.rank - 1])")
    check(value.shape[value.rank - 2] == keys,
                 "scaledDotProductAttention: \(keys) keys but \(value.shape[value.rank - 2]) values")
    var scores = Tensor.matmul(query * (1 / Float(depth).squareRoot()), key, transposeA: false, transposeB: true)
    let allowed = AttentionMask.combine(mask, causal ? AttentionMask.causal(queries: queries, keys: keys) : nil)
    if let allowed { scores = scores + AttentionMask.bias(allowed) }
    let probabilities = scores.softmax(alongAxis: -1)
    let mixed = (dropout?(probabilities) ?? probabilities).matmul(value)
    return AttentionOutput(output: mixed, probabilities: probabilities)
}
