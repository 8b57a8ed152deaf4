/// Eigenvalues and eigenvectors of a real symmetric matrix in `Double`, by the cyclic Jacobi method
/// (Golub & Van Loan, *Matrix Computations*, §8.5). Jacobi rotations are slower than LAPACK's
/// divide and conquer but accurate to the last bits for every eigenvalue, small ones included,
/// which the Fréchet distance's square roots need; the feature sizes here are at most a few hundred.
struct SymmetricEigendecomposition {
    /// The eigenvalues, in no particular order.
    let values: [Double]
    /// Row-major `n × n`; column `j` is the unit eigenvector of `values[j]`.
    let vectors: [Double]
    let size: Int

    /// `matrix` is row-major `n × n` and symmetric (it is symmetrised as `(A + Aᵀ) / 2` first).
    init(_ matrix: [Double], size n: Int) throws {
        guard matrix.count == n * n else {
            throw GenerativeError("eigendecomposition: expected \(n * n) elements for a \(n) × \(n) matrix, got \(matrix.count)")
        }
        guard matrix.allSatisfy(\.isFinite) else { throw GenerativeError("eigendecomposition: the matrix holds NaN or infinity") }
        var a = matrix
        for i in 0..<n { for j in 0..<i { let mean = (a[i * n + j] + a[j * n + i]) / 2; a[i * n + j] = mean; a[j * n + i] = mean } }
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        let scale = a.reduce(0) { $0 + $1 * $1 }
        // 100 sweeps is far past convergence (it is quadratic; 6 to 10 sweeps are typical).
        for _ in 0..<100 {
            var offDiagonal = 0.0
            for i in 0..<n { for j in 0..<n where i != j { offDiagonal += a[i * n + j] * a[i * n + j] } }
            if offDiagonal <= 1e-30 * scale || offDiagonal == 0 { break }
            for p in 0..<n {
                for q in (p + 1)..<max(n, p + 1) where a[p * n + q] != 0 {
                    let apq = a[p * n + q]
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {  // columns p and q of A ← A J
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {  // rows p and q of A ← Jᵀ A
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let vkp = v[k * n + p], vkq = v[k * n + q]
                        v[k * n + p] = c * vkp - s * vkq
                        v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        values = (0..<n).map { a[$0 * n + $0] }
        vectors = v
        size = n
    }

    /// `V f(Λ) Vᵀ`: the matrix function `f` applied through the eigenvalues.
    func reconstructed(applying f: (Double) -> Double) -> [Double] {
        let n = size, mapped = values.map(f)
        var result = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i {
                var total = 0.0
                for k in 0..<n { total += vectors[i * n + k] * mapped[k] * vectors[j * n + k] }
                result[i * n + j] = total
                result[j * n + i] = total
            }
        }
        return result
    }
}

/// Row-major `n × n` product `A B` in `Double`.
func multiplySquare(_ a: [Double], _ b: [Double], size n: Int) -> [Double] {
    var result = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
        for k in 0..<n {
            let aik = a[i * n + k]
            if aik == 0 { continue }
            for j in 0..<n { result[i * n + j] += aik * b[k * n + j] }
        }
    }
    return result
}
