import CBLAS

/// The one file that calls OpenBLAS (and the LAPACK routines it carries).
public enum BLAS {
    /// `C = alpha · op(A) · op(B) + beta · C`, row-major; `op` transposes when the flag is set,
    /// so transposed operands are never copied.
    ///
    /// - Parameters: `A` is `m × k` after `op`, `B` is `k × n` after `op`, `C` is `m × n`;
    ///   the leading dimensions are the row lengths of the matrices as stored.
    @inline(__always)
    public static func sgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                             alpha: Float = 1, a: UnsafePointer<Float>, leadingA: Int,
                             b: UnsafePointer<Float>, leadingB: Int,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, leadingC: Int) {
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(leadingA), b, Int32(leadingB), beta, c, Int32(leadingC))
    }

    /// `y = alpha · x + y` over `count` elements.
    @inline(__always)
    public static func saxpy(count: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        cblas_saxpy(Int32(count), alpha, x, 1, y, 1)
    }

    /// The eigenvalues (ascending) and orthonormal eigenvectors of the symmetric `n × n` matrix
    /// `matrix` (row-major; only its lower triangle is read), by LAPACK's divide-and-conquer
    /// `ssyevd`. Eigenvector `j` is column `j` of the returned row-major `n × n` matrix. Returns
    /// `nil` when LAPACK reports that the algorithm failed to converge.
    public static func symmetricEigendecomposition(_ matrix: [Float], n: Int) -> (values: [Float], vectors: [Float])? {
        precondition(matrix.count == n * n, "symmetricEigendecomposition: \(matrix.count) elements for a \(n) × \(n) matrix")
        if n == 0 { return ([], []) }
        // Row-major lower triangle = column-major upper triangle; the eigenvectors come back as
        // columns of a column-major matrix, i.e. rows of the row-major buffer, so transpose at the end.
        var a = matrix, values = [Float](repeating: 0, count: n)
        var size = Int32(n), info: Int32 = 0
        var workSize: Float = 0, integerWorkSize: Int32 = 0, query: Int32 = -1
        ssyevd_("V", "U", &size, &a, &size, &values, &workSize, &query, &integerWorkSize, &query, &info)
        guard info == 0 else { return nil }
        var lwork = Int32(workSize), liwork = integerWorkSize
        var work = [Float](repeating: 0, count: Int(lwork)), integerWork = [Int32](repeating: 0, count: Int(liwork))
        ssyevd_("V", "U", &size, &a, &size, &values, &work, &lwork, &integerWork, &liwork, &info)
        guard info == 0 else { return nil }
        var vectors = [Float](repeating: 0, count: n * n)
        for column in 0..<n { for row in 0..<n { vectors[row * n + column] = a[column * n + row] } }
        return (values, vectors)
    }

    /// The name of the kernel family OpenBLAS chose at load time (e.g. `SkylakeX`, `Prescott`).
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// OpenBLAS's build configuration string.
    public static var configuration: String {
        guard let text = openblas_get_config() else { return "unknown" }
        return String(cString: text)
    }

    /// Sets OpenBLAS's own thread count.
    public static func setThreadCount(_ count: Int) {
        openblas_set_num_threads(Int32(count))
    }
}
