import CBLAS

/// The one file that calls OpenBLAS.
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
