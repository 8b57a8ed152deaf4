import TesseraTensor

/// A Gaussian fitted to a set of feature vectors: the mean and the unbiased covariance (`n − 1` in
/// the denominator, as `numpy.cov` and the reference FID code use), kept in `Double`.
public struct GaussianFit: Equatable, Sendable {
    public let mean: [Double]
    /// Row-major `dimensions × dimensions`.
    public let covariance: [Double]
    public var dimensions: Int { mean.count }

    public init(mean: [Double], covariance: [Double]) throws {
        guard covariance.count == mean.count * mean.count else {
            throw GenerativeError("GaussianFit: a mean of \(mean.count) dimensions needs a \(mean.count) × \(mean.count) covariance, got \(covariance.count) elements")
        }
        self.mean = mean
        self.covariance = covariance
    }

    /// Fits `features` `[count, dimensions]` (at least two rows, all finite).
    public init(features: Tensor) throws {
        guard features.rank == 2 else { throw GenerativeError("GaussianFit: expected features [count, dimensions], got shape \(features.shape)") }
        let n = features.shape[0], d = features.shape[1]
        guard n >= 2 else { throw GenerativeError("GaussianFit: a covariance needs at least 2 feature vectors, got \(n)") }
        let x = features.scalars.map(Double.init)
        guard x.allSatisfy(\.isFinite) else { throw GenerativeError("GaussianFit: the features hold NaN or infinity") }
        var mean = [Double](repeating: 0, count: d)
        for row in 0..<n { for j in 0..<d { mean[j] += x[row * d + j] } }
        for j in 0..<d { mean[j] /= Double(n) }
        var covariance = [Double](repeating: 0, count: d * d)
        for row in 0..<n {
            for i in 0..<d {
                let ci = x[row * d + i] - mean[i]
                for j in 0...i { covariance[i * d + j] += ci * (x[row * d + j] - mean[j]) }
            }
        }
        for i in 0..<d { for j in 0...i { covariance[i * d + j] /= Double(n - 1); covariance[j * d + i] = covariance[i * d + j] } }
        try self.init(mean: mean, covariance: covariance)
    }
}

/// The Fréchet (2-Wasserstein) distance between two Gaussians (Dowson & Landau, "The Fréchet
/// distance between multivariate normal distributions", 1982), as the FID of Heusel, Ramsauer,
/// Unterthiner, Nessler & Hochreiter ("GANs trained by a two time-scale update rule converge to a
/// local Nash equilibrium", NeurIPS 2017) uses it on Inception features — here on whatever features
/// the caller gives (Tessera's yardstick uses its own digits classifier: an FID on our classifier,
/// not comparable to published Inception FIDs):
///
///     d² = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2}
///
/// `tr (Σ₁Σ₂)^{1/2}` equals the trace of the symmetric square root written last, which is computed
/// by two symmetric eigendecompositions in `Double` (eigenvalues that rounding pushed below zero
/// are clipped to zero). `scipy.linalg.sqrtm` of the non-symmetric `Σ₁Σ₂`, the reference code's
/// route, can return complex values for nearly singular covariances; this route cannot.
///
/// ```swift
/// let distance = try frechetDistance(GaussianFit(features: real), GaussianFit(features: generated))
/// ```
public func frechetDistance(_ first: GaussianFit, _ second: GaussianFit) throws -> Double {
    guard first.dimensions == second.dimensions else {
        throw GenerativeError("frechetDistance: both fits need the same dimensions, got \(first.dimensions) and \(second.dimensions)")
    }
    let n = first.dimensions
    var meanTerm = 0.0
    for i in 0..<n { meanTerm += (first.mean[i] - second.mean[i]) * (first.mean[i] - second.mean[i]) }
    let root = try SymmetricEigendecomposition(first.covariance, size: n).reconstructed { max($0, 0).squareRoot() }
    let sandwich = multiplySquare(multiplySquare(root, second.covariance, size: n), root, size: n)
    let crossTrace = try SymmetricEigendecomposition(sandwich, size: n).values.reduce(0) { $0 + max($1, 0).squareRoot() }
    var traces = 0.0
    for i in 0..<n { traces += first.covariance[i * n + i] + second.covariance[i * n + i] }
    // The distance is non-negative; rounding can take identical fits a hair below zero.
    return max(meanTerm + traces - 2 * crossTrace, 0)
}

/// The Fréchet distance between Gaussian fits of two feature sets `[count, dimensions]`.
public func frechetDistance(real: Tensor, generated: Tensor) throws -> Double {
    try frechetDistance(GaussianFit(features: real), GaussianFit(features: generated))
}
