import Foundation

/// TensorBoard's smoothing of a scalar curve: an exponential moving average debiased as in Adam,
/// so the first points are not pulled towards zero (tensorboard/components/vz_line_chart2,
/// `resmoothDataset`).
///
///     last ← weight · last + (1 − weight) · value,   smoothed = last / (1 − weight^n)
///
/// with `n` the number of finite values so far. A non-finite value passes through unsmoothed
/// and leaves the average alone; a constant curve stays exactly constant.
public func exponentialMovingAverage(_ values: [Double], weight: Double) -> [Double] {
    guard weight > 0, let first = values.first else { return values }
    if values.allSatisfy({ $0 == first }) { return values }
    var last = 0.0, count = 0.0
    return values.map { value in
        guard value.isFinite else { return value }
        last = last * weight + (1 - weight) * value
        count += 1
        return weight == 1 ? last : last / (1 - pow(weight, count))
    }
}
