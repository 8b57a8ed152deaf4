import TesseraTensor

/// A sequence classification task whose evidence is known token by token: which of `markerCount`
/// marker tokens appears most often in a sequence of `sequenceLength` tokens.
///
/// Tokens `0..<markerCount` are the markers (marker `c` stands for class `c`), tokens
/// `markerCount..<markerCount + fillerCount` are filler that carries no information. The winning
/// marker appears `n ≥ 2` times and every other marker fewer than `n` times, so there are no ties;
/// the positions are shuffled. The positions of the winning marker are the ground truth an
/// explanation should point to, and each batch carries them (``Batch/evidence``).
///
/// Examples are drawn from a `RandomGenerator`, so a training run's batch at step `s` is a pure
/// function of the seed and `s` (exact resume).
public struct MajorityTokenTask: Sendable {
    public let markerCount: Int
    public let fillerCount: Int
    public let sequenceLength: Int

    /// The most times the winning marker appears: the largest `n` with `n + (markerCount − 1)(n − 1)`
    /// tokens fitting in the sequence, so every other marker can appear up to `n − 1` times.
    public var maximumWinnerCount: Int { (sequenceLength + markerCount - 1) / markerCount }

    public init(markerCount: Int, fillerCount: Int, sequenceLength: Int) {
        check(markerCount >= 2, "MajorityTokenTask: needs at least 2 markers (classes), got \(markerCount)")
        check(fillerCount >= 1, "MajorityTokenTask: needs at least 1 filler token, got \(fillerCount)")
        check(sequenceLength >= markerCount + 1,
              "MajorityTokenTask: \(sequenceLength) tokens leave no room for a winner appearing twice and every other marker once; use at least \(markerCount + 1)")
        self.markerCount = markerCount
        self.fillerCount = fillerCount
        self.sequenceLength = sequenceLength
    }

    public var vocabularySize: Int { markerCount + fillerCount }
    public var classCount: Int { markerCount }

    public struct Batch {
        /// `[count, sequenceLength]` token ids.
        public let tokens: Tensor
        /// `[count]` class ids: the winning marker.
        public let labels: Tensor
        /// `[count, sequenceLength]`: 1 where the token is the winning marker, 0 elsewhere.
        public let evidence: Tensor
    }

    /// One example: the tokens and the label.
    public func example(generator: inout RandomGenerator) -> (tokens: [Int], label: Int) {
        let label = generator.nextInt(below: markerCount)
        let winnerCount = 2 + generator.nextInt(below: maximumWinnerCount - 1)
        var tokens: [Int] = Array(repeating: label, count: winnerCount)
        for marker in 0..<markerCount where marker != label {
            tokens += Array(repeating: marker, count: generator.nextInt(below: winnerCount))
        }
        while tokens.count < sequenceLength { tokens.append(markerCount + generator.nextInt(below: fillerCount)) }
        return (generator.permutation(sequenceLength).map { tokens[$0] }, label)
    }

    public func batch(count: Int, generator: inout RandomGenerator) -> Batch {
        var tokens: [Float] = [], labels: [Float] = [], evidence: [Float] = []
        tokens.reserveCapacity(count * sequenceLength)
        for _ in 0..<count {
            let (sequence, label) = example(generator: &generator)
            tokens += sequence.map(Float.init)
            labels.append(Float(label))
            evidence += sequence.map { $0 == label ? 1 : 0 }
        }
        return Batch(tokens: Tensor(shape: [count, sequenceLength], scalars: tokens), labels: Tensor(labels),
                     evidence: Tensor(shape: [count, sequenceLength], scalars: evidence))
    }
}
