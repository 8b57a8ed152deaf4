import Foundation
import TesseraTensor

/// Independent component analysis by FastICA (Hyvärinen 1999, "Fast and Robust Fixed-Point
/// Algorithms for Independent Component Analysis", IEEE TNN 10(3)): finds `n` directions of the
/// features `[N, d]` whose projections are as non-Gaussian — hence as independent — as possible.
///
/// 1. Centre the data and whiten it: with the covariance's eigendecomposition `C = E Λ Eᵀ`, keep
///    the `n` largest eigenpairs and map `x ↦ Λ^{-1/2} Eᵀ (x − mean)` (unit covariance).
/// 2. Estimate all `n` rows of the unmixing matrix `W` at once with the fixed-point update
///    `W ← E[g(W z) zᵀ] − diag(E[g′(W z)]) W` (as written in Hyvärinen & Oja 2000,
///    "Independent Component Analysis: Algorithms and Applications") for the log-cosh contrast `G(u) = log cosh u`, so `g = tanh` and
///    `g′ = 1 − tanh²`, followed by symmetric decorrelation `W ← (W Wᵀ)^{-1/2} W` so no two
///    rows converge to the same component.
/// 3. Stop when every row's direction changes by less than `tolerance`:
///    `max_i |1 − |⟨wᵢ_new, wᵢ_old⟩|| < tolerance` (scikit-learn's criterion); throw if that has
///    not happened after `maximumIterations`.
///
/// The components are recovered up to order and sign; `sources` have unit variance.
///
/// ```swift
/// let ica = try IndependentComponents.fit(features, componentCount: 3, seed: 0)
/// let sources = try ica.sources(features)   // [N, 3]
/// ```
public struct IndependentComponents {
    /// The training features' column means `[d]`.
    public let mean: Tensor
    /// The unmixing matrix `[n, d]` (whitening included): `sources = (x − mean) · unmixingᵀ`.
    public let unmixing: Tensor
    /// Fixed-point iterations until convergence.
    public let iterations: Int

    /// Fits `componentCount` components to `data` `[N, d]`; the random start `W` is drawn from
    /// `RandomGenerator(seed: seed)`.
    public static func fit(_ data: Tensor, componentCount: Int, tolerance: Double = 1e-4, maximumIterations: Int = 200,
                           seed: UInt64 = 0) throws -> IndependentComponents {
        let features = try FeatureMatrix(data, name: "ICA features")
        let n = features.rowCount, d = features.columnCount, count = componentCount
        guard count >= 1, count <= d else { throw SelfSupervisedError("ICA componentCount must be in 1...\(d) (the feature count), got \(count)") }
        guard n > count else { throw SelfSupervisedError("ICA needs more rows than components, got \(n) rows for \(count) components") }
        guard tolerance > 0 else { throw SelfSupervisedError("ICA tolerance must be > 0, got \(tolerance)") }

        // 1. Centre and whiten.
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { mean[j] += Double(features.values[i * d + j]) / Double(n) } }
        let centred = (0..<(n * d)).map { Double(features.values[$0]) - mean[$0 % d] }
        var covariance = [Double](repeating: 0, count: d * d)
        for i in 0..<n { for a in 0..<d { for b in 0...a { covariance[a * d + b] += centred[i * d + a] * centred[i * d + b] / Double(n) } } }
        for a in 0..<d { for b in 0..<a { covariance[b * d + a] = covariance[a * d + b] } }
        let (values, vectors) = try eigendecomposition(covariance, size: d)
        var whitening = [Double](repeating: 0, count: count * d)  // [count, d]
        for component in 0..<count {
            let index = d - 1 - component  // eigenvalues ascend; take the largest first
            guard values[index] > 1e-6 * max(values[d - 1], .leastNonzeroMagnitude) else {
                throw SelfSupervisedError("ICA features have rank below componentCount = \(count) (covariance eigenvalue \(values[index]))")
            }
            for j in 0..<d { whitening[component * d + j] = vectors[j * d + index] / values[index].squareRoot() }
        }
        let whitened = multiply(centred, rows: n, inner: d, byTransposeOf: whitening, columns: count)  // [n, count]

        // 2. Symmetric fixed-point iterations from a random orthogonal start.
        var generator = RandomGenerator(seed: seed)
        var w = try symmetricallyDecorrelated((0..<(count * count)).map { _ in Double(generator.nextNormal()) }, size: count)
        for iteration in 1...maximumIterations {
            let projections = multiply(whitened, rows: n, inner: count, byTransposeOf: w, columns: count)  // [n, count]
            var updated = [Double](repeating: 0, count: count * count)
            var meanDerivative = [Double](repeating: 0, count: count)
            for i in 0..<n {
                for c in 0..<count {
                    let g = tanh(projections[i * count + c])
                    meanDerivative[c] += (1 - g * g) / Double(n)
                    for j in 0..<count { updated[c * count + j] += g * whitened[i * count + j] / Double(n) }
                }
            }
            for c in 0..<count { for j in 0..<count { updated[c * count + j] -= meanDerivative[c] * w[c * count + j] } }
            updated = try symmetricallyDecorrelated(updated, size: count)
            // 3. Converged when each row keeps its direction (up to sign).
            let change = (0..<count).map { c in
                abs(abs((0..<count).reduce(0.0) { $0 + updated[c * count + $1] * w[c * count + $1] }) - 1)
            }.max()!
            w = updated
            if change < tolerance {
                let unmixing = multiply(w, rows: count, inner: count, byTransposeOf: transpose(whitening, rows: count, columns: d), columns: d)
                return IndependentComponents(mean: Tensor(mean.map(Float.init)),
                                             unmixing: Tensor(shape: [count, d], scalars: unmixing.map(Float.init)), iterations: iteration)
            }
        }
        throw SelfSupervisedError("ICA did not converge in maximumIterations = \(maximumIterations) (tolerance \(tolerance)); raise either")
    }

    /// The independent components `[M, n]` of `data` `[M, d]`.
    public func sources(_ data: Tensor) throws -> Tensor {
        let features = try FeatureMatrix(data, name: "ICA features")
        try features.requireColumns(mean.count, of: "the fitted ICA")
        return withoutGradients {
            let x = Tensor(shape: [features.rowCount, features.columnCount], scalars: features.values)
            return (x - mean.reshape([1, -1])).matmul(transposed: unmixing)
        }
    }
}

/// `(W Wᵀ)^{-1/2} W` for a square `W` `[size, size]`, through the eigendecomposition of `W Wᵀ`.
private func symmetricallyDecorrelated(_ w: [Double], size: Int) throws -> [Double] {
    let gram = multiply(w, rows: size, inner: size, byTransposeOf: w, columns: size)
    let (values, vectors) = try eigendecomposition(gram, size: size)
    // inverseRoot = E Λ^{-1/2} Eᵀ
    var inverseRoot = [Double](repeating: 0, count: size * size)
    for a in 0..<size {
        for b in 0..<size {
            for k in 0..<size { inverseRoot[a * size + b] += vectors[a * size + k] * vectors[b * size + k] / max(values[k], 1e-12).squareRoot() }
        }
    }
    return multiply(inverseRoot, rows: size, inner: size, byTransposeOf: transpose(w, rows: size, columns: size), columns: size)
}

/// The eigenvalues (ascending) and eigenvectors (columns, row-major) of a symmetric matrix, by
/// LAPACK in single precision — enough for whitening and the decorrelation of a few components.
private func eigendecomposition(_ matrix: [Double], size: Int) throws -> (values: [Double], vectors: [Double]) {
    guard let result = BLAS.symmetricEigendecomposition(matrix.map(Float.init), n: size) else {
        throw SelfSupervisedError("ICA eigendecomposition of a \(size) × \(size) matrix did not converge")
    }
    return (result.values.map(Double.init), result.vectors.map(Double.init))
}

/// `a · bᵀ` for `a` `[rows, inner]` and `b` `[columns, inner]`, row-major.
private func multiply(_ a: [Double], rows: Int, inner: Int, byTransposeOf b: [Double], columns: Int) -> [Double] {
    var result = [Double](repeating: 0, count: rows * columns)
    for i in 0..<rows {
        for j in 0..<columns {
            var sum = 0.0
            for k in 0..<inner { sum += a[i * inner + k] * b[j * inner + k] }
            result[i * columns + j] = sum
        }
    }
    return result
}

private func transpose(_ a: [Double], rows: Int, columns: Int) -> [Double] {
    (0..<(rows * columns)).map { a[($0 % rows) * columns + $0 / rows] }
}
