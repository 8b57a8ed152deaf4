import Foundation

/// Gets OpenBLAS's fast kernels on CPUs that have them, without the user knowing.
///
/// Debian 12's OpenBLAS 0.3.21 does not recognise recent Xeons and falls back to its `Prescott`
/// kernels: `sgemm` runs at ~30 GFLOP/s instead of ~145 with the `SkylakeX` kernels on the same
/// machine. OpenBLAS reads `OPENBLAS_CORETYPE` once, when it is loaded — before `main` — so an
/// executable that wants another kernel must set the variable and re-execute itself.
///
/// `selectFastKernel()` runs first in every Tessera executable:
/// 1. A value of `OPENBLAS_CORETYPE` set by the user is never overridden.
/// 2. Otherwise the CPU's features (from `/proc/cpuinfo`) name the best kernel family; if OpenBLAS
///    chose something else, the process re-executes itself with `OPENBLAS_CORETYPE` set.
/// 3. After that re-execution a small product is checked against a double-precision reference;
///    if it is wrong, the process re-executes once more without the variable (the library's own
///    choice).
public enum BLASKernelSelection {
    /// Set in the environment of a re-executed process: the core type Tessera chose, or
    /// `fallback` after a failed probe.
    static let markerVariable = "TESSERA_BLAS_CORETYPE"

    public static func selectFastKernel() {
        let environment = ProcessInfo.processInfo.environment
        switch environment[markerVariable] {
        case nil:
            guard environment["OPENBLAS_CORETYPE"] == nil, let preferred = preferredCoreType(),
                  BLAS.coreName.lowercased() != preferred.lowercased() else { return }
            setenv("OPENBLAS_CORETYPE", preferred, 1)
            setenv(markerVariable, preferred, 1)
            reexecute()
            // Still here: exec failed; carry on with the library's own choice.
            unsetenv("OPENBLAS_CORETYPE")
            unsetenv(markerVariable)
        case "fallback":
            return
        default:
            guard environment["OPENBLAS_CORETYPE"] == environment[markerVariable] else { return }
            if !probeMatchesReference() {
                FileHandle.standardError.write(Data(
                    "tessera: OpenBLAS kernel \(BLAS.coreName) failed the correctness probe; using the library's default\n".utf8))
                unsetenv("OPENBLAS_CORETYPE")
                setenv(markerVariable, "fallback", 1)
                reexecute()
            }
        }
    }

    /// The OpenBLAS kernel family for this CPU's instruction set, if it is one Tessera knows.
    public static func preferredCoreType(cpuInfo: String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) -> String? {
        guard let cpuInfo,
              let flagsLine = cpuInfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        if ["avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"].allSatisfy(flags.contains) { return "SkylakeX" }
        if ["avx2", "fma"].allSatisfy(flags.contains) { return "Haswell" }
        return nil
    }

    /// Whether `sgemm` with the loaded kernel agrees with a double-precision product.
    public static func probeMatchesReference() -> Bool {
        let (m, n, k) = (37, 41, 53)  // odd sizes exercise the kernels' edge handling
        var generator = RandomGenerator(seed: 0x7E55E4A)
        let a = (0..<(m * k)).map { _ in generator.nextUniform() - 0.5 }
        let b = (0..<(k * n)).map { _ in generator.nextUniform() - 0.5 }
        var c = [Float](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    BLAS.sgemm(transposeA: false, transposeB: false, m: m, n: n, k: k, a: a.baseAddress!, leadingA: k,
                               b: b.baseAddress!, leadingB: n, c: c.baseAddress!, leadingC: n)
                }
            }
        }
        for i in 0..<m {
            for j in 0..<n {
                var reference = 0.0
                for p in 0..<k { reference += Double(a[i * k + p]) * Double(b[p * n + j]) }
                if Swift.abs(Double(c[i * n + j]) - reference) > 1e-4 * Swift.max(1, Swift.abs(reference)) { return false }
            }
        }
        return true
    }

    private static func reexecute() {
        execv("/proc/self/exe", CommandLine.unsafeArgv)
    }
}
