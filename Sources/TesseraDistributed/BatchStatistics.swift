import TesseraTensor

/// Per-channel statistics of a batch spread over all ranks, for synchronized batch normalization
/// (Peng et al., "MegDet", CVPR 2018, §4: small per-rank batches give noisy statistics).
public struct BatchStatistics {
    /// Per-channel mean over every rank's samples.
    public var mean: Tensor
    /// Per-channel biased variance (divided by `count`, as batch normalization uses it).
    public var variance: Tensor
    /// Number of samples per channel over all ranks.
    public var count: Int
}

extension Communicator {
    /// Combines each rank's per-channel `sum` and `sumOfSquares` over its `count` samples into
    /// global statistics, with one allreduce of `[sum, sumOfSquares, count]`.
    ///
    /// The variance is `E[x²] − E[x]²`, which loses precision when the mean is large next to the
    /// spread (clamped at 0); normalize inputs roughly first. The results carry no gradient: use
    /// them for running statistics or with inputs whose statistics need not be differentiated.
    /// The count travels as a float, exact up to 2^24 samples.
    public func allreduceStatistics(sum: Tensor, sumOfSquares: Tensor, count: Int, timeout: Double? = nil) throws -> BatchStatistics {
        guard sum.shape == sumOfSquares.shape else {
            throw CommunicatorError.invalidArgument("allreduceStatistics: sum shape \(sum.shape) differs from sumOfSquares shape \(sumOfSquares.shape)")
        }
        let channels = sum.count
        var packed = sum.scalars + sumOfSquares.scalars + [Float(count)]
        try allreduce(&packed, operation: .sum, timeout: timeout)
        let total = packed[2 * channels]
        let mean = (0..<channels).map { packed[$0] / total }
        let variance = (0..<channels).map { max(0, packed[channels + $0] / total - mean[$0] * mean[$0]) }
        return BatchStatistics(mean: Tensor(shape: sum.shape, scalars: mean),
                               variance: Tensor(shape: sum.shape, scalars: variance), count: Int(total))
    }
}
