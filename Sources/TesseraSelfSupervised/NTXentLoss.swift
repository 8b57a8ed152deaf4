import TesseraTensor

/// SimCLR's contrastive loss, NT-Xent (Chen et al., "A Simple Framework for Contrastive Learning
/// of Visual Representations", ICML 2020, eq. 1): for the 2N projections of N samples seen in two
/// views, each anchor's positive is the other view of its sample and its negatives are the other
/// 2N − 2 projections,
///
/// ```
/// ℓ(i, j) = −log  exp(sim(z_i, z_j)/τ) / Σ_{k ≠ i} exp(sim(z_i, z_k)/τ),   sim = cosine similarity
/// L = 1/(2N) Σ_i ℓ(i, positive(i))
/// ```
///
/// The sum over k ≠ i has 2N − 1 terms: the positive and the 2N − 2 negatives of the notes' formula.
/// A low temperature τ sharpens the softmax over similarities, weighting the hardest negatives most
/// (the paper's Table 5 and ``similarityEntropy(_:temperature:)``).
///
/// With several processes every anchor must see the global batch's negatives: each process passes
/// its own anchors as `queries` and the projections of every process, gathered in the global order,
/// as `keys` (``loss(queries:rows:keys:normalizingCount:)``).
public struct NTXentLoss {
    public let temperature: Float

    /// Throws for a temperature that is not positive.
    public init(temperature: Float) throws {
        guard temperature > 0, temperature.isFinite else {
            throw SelfSupervisedError("temperature must be positive, got \(temperature)")
        }
        self.temperature = temperature
    }

    /// The mean loss over the 2N anchors of `first` and `second` (`[N, d]` each, row i of both from
    /// sample i).
    public func callAsFunction(_ first: Tensor, _ second: Tensor) -> Tensor {
        let keys = Tensor.concatenate([first, second], alongAxis: 0)
        return loss(queries: keys, rows: Array(0..<keys.shape[0]), keys: keys, normalizingCount: keys.shape[0])
    }

    /// The summed loss of `queries` (`[M, d]`) divided by `normalizingCount`, where query m is row
    /// `rows[m]` of `keys` (`[2N, d]`: every first view in sample order, then every second view).
    /// Query m's positive is key `(rows[m] + N) mod 2N`; the key at `rows[m]` (itself) is left out.
    public func loss(queries: Tensor, rows: [Int], keys: Tensor, normalizingCount: Int) -> Tensor {
        precondition(queries.shape[0] == rows.count && keys.shape[0] % 2 == 0,
                     "NTXentLoss: \(rows.count) rows for \(queries.shape[0]) queries, \(keys.shape[0]) keys (must be even)")
        let count = keys.shape[0], half = count / 2
        let logits = l2Normalized(queries).matmul(transposed: l2Normalized(keys)) / temperature
        var selfMask = [Float](repeating: 0, count: rows.count * count)
        var positive = [Float](repeating: 0, count: rows.count * count)
        for (m, row) in rows.enumerated() {
            selfMask[m * count + row] = -1e9
            positive[m * count + (row + half) % count] = 1
        }
        let masked = logits + Tensor(shape: [rows.count, count], scalars: selfMask)
        let logProbabilities = masked.logSoftmax(alongAxis: 1)
        return -(logProbabilities * Tensor(shape: [rows.count, count], scalars: positive)).sum() / Float(normalizingCount)
    }

    /// The mean entropy (nats) of each anchor's softmax over its 2N − 1 candidates: near log(2N − 1)
    /// when τ is large (every candidate alike), falling as τ sharpens the distribution onto the few
    /// most similar.
    public static func similarityEntropy(_ embeddings: Tensor, temperature: Float) -> Double {
        withoutGradients {
            let count = embeddings.shape[0]
            let z = l2Normalized(embeddings)
            var diagonal = [Float](repeating: 0, count: count * count)
            for i in 0..<count { diagonal[i * count + i] = -1e9 }
            let logits = z.matmul(transposed: z) / temperature + Tensor(shape: [count, count], scalars: diagonal)
            let logP = logits.logSoftmax(alongAxis: 1)
            let entropy = -(logP.exp() * logP).sum() / Float(count)
            return Double(entropy.item)
        }
    }
}
