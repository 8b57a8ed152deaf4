import Foundation
import TesseraTensor

/// `gemm`: square matmul through the tensor API against a raw `cblas_sgemm` on the same buffers.
func gemmBenchmark(json: Bool) {
    var generator = RandomGenerator(seed: 0)
    for n in [64, 128, 256, 512, 1024] {
        let a = Tensor.randomNormal([n, n], generator: &generator)
        let b = Tensor.randomNormal([n, n], generator: &generator)
        let seconds = n >= 512 ? 1.0 : 0.5
        let tensorTiming = Timing.measure(warmup: 3, minimumIterations: 5, minimumSeconds: seconds) { _ = a.matmul(b) }
        let raw = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
        defer { raw.deallocate() }
        let rawTiming = Timing.measure(warmup: 3, minimumIterations: 5, minimumSeconds: seconds) {
            BLAS.sgemm(transposeA: false, transposeB: false, m: n, n: n, k: n, a: a.storage.pointer, leadingA: n,
                       b: b.storage.pointer, leadingB: n, c: raw, leadingC: n)
        }
        let flops = 2 * pow(Double(n), 3)
        var record = BenchmarkRecord("gemm", [("n", n)])
        record.add(tensorTiming)
        record.fields += [("gflops", rounded(flops / tensorTiming.medianMilliseconds / 1e6, digits: 2)),
                          ("raw_median_ms", rounded(rawTiming.medianMilliseconds)),
                          ("raw_gflops", rounded(flops / rawTiming.medianMilliseconds / 1e6, digits: 2)),
                          ("ratio_to_raw", rounded(rawTiming.medianMilliseconds / tensorTiming.medianMilliseconds, digits: 3)),
                          ("blas_core", BLAS.coreName)]
        record.emit(json: json)
    }
}

/// `elementwise`: add, mul, exp, tanh and sigmoid over 1M floats, as effective bandwidth (bytes read + written per
/// second) against `memcpy` of the same 4 MB measured in the same run.
func elementwiseBenchmark(json: Bool) {
    let count = 1 << 20
    var generator = RandomGenerator(seed: 1)
    let a = Tensor.randomNormal([count], generator: &generator)
    let b = Tensor.randomNormal([count], generator: &generator)
    let destination = UnsafeMutablePointer<Float>.allocate(capacity: count)
    defer { destination.deallocate() }
    let copyTiming = Timing.measure(minimumIterations: 100, minimumSeconds: 1) {
        memcpy(destination, a.storage.pointer, count * 4)
    }
    let memcpyGBps = Double(2 * count * 4) / copyTiming.medianMilliseconds / 1e6
    let cases: [(String, Int, () -> Tensor)] = [
        ("add", 3, { a + b }), ("mul", 3, { a * b }), ("exp", 2, { a.exp() }), ("tanh", 2, { a.tanh() }),
        ("sigmoid", 2, { a.sigmoid() }),
    ]
    for (name, arrays, operation) in cases {
        let timing = Timing.measure(minimumIterations: 100, minimumSeconds: 1) { _ = operation() }
        let gbps = Double(arrays * count * 4) / timing.medianMilliseconds / 1e6
        var record = BenchmarkRecord("elementwise", [("op", name), ("elements", count)])
        record.add(timing)
        record.fields += [("gbps", rounded(gbps, digits: 2)), ("memcpy_gbps", rounded(memcpyGBps, digits: 2)),
                          ("ratio_to_memcpy", rounded(gbps / memcpyGBps, digits: 3))]
        record.emit(json: json)
    }
}
