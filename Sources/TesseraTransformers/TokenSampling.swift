import TesseraTensor

/// How the next token is picked from a model's logits during generation.
///
/// Temperature 0 is greedy decoding (the most likely token). Otherwise the logits are divided by
/// the temperature (below 1 sharpens, above 1 flattens) and, with `topK`, all but the `k` most
/// likely tokens are dropped before sampling (Fan et al., "Hierarchical Neural Story Generation",
/// ACL 2018).
public struct TokenSampling: Codable, Equatable, Sendable {
    public var temperature: Float
    /// Keep only the `k` most likely tokens (`nil`: all).
    public var topK: Int?

    public init(temperature: Float = 1, topK: Int? = nil) {
        check(temperature >= 0, "TokenSampling: temperature must be ≥ 0, got \(temperature)")
        check(topK == nil || topK! > 0, "TokenSampling: topK must be positive, got \(topK!)")
        self.temperature = temperature
        self.topK = topK
    }

    /// Greedy decoding.
    public static let greedy = TokenSampling(temperature: 0)

    /// One token per row of `logits` (`[batch, vocabulary]`), as `[batch]` whole-number floats.
    public func next(from logits: Tensor, generator: inout RandomGenerator) -> Tensor {
        withoutGradients {
            if temperature == 0 { return logits.argmax(alongAxis: -1) }
            var scaled = logits / temperature
            if let topK, topK < logits.shape[logits.rank - 1] {
                scaled = keepTopK(scaled, topK)
            }
            return Tensor.categorical(probabilities: scaled.softmax(alongAxis: -1), generator: &generator)
        }
    }

    /// Sets every logit below a row's k-th largest to ``AttentionMask/blocked`` (ties at the k-th
    /// value are kept, as in nanoGPT).
    private func keepTopK(_ logits: Tensor, _ k: Int) -> Tensor {
        let vocabulary = logits.shape[logits.rank - 1]
        let output = logits.copy()
        let pointer = output.storage.pointer
        for row in 0..<(logits.count / vocabulary) {
            let values = UnsafeMutableBufferPointer(start: pointer + row * vocabulary, count: vocabulary)
            let threshold = values.sorted(by: >)[k - 1]
            for index in values.indices where values[index] < threshold { values[index] = AttentionMask.blocked }
        }
        return output
    }
}
