// Loops for reductions over one block of adjacent axes, seen as `[outer, n, inner]`.

/// Splits `shape` around the adjacent axes `first...last`.
func reductionExtents(_ shape: [Int], first: Int, last: Int) -> (outer: Int, n: Int, inner: Int) {
    (shape[..<first].reduce(1, *), shape[first...last].reduce(1, *), shape[(last + 1)...].reduce(1, *))
}

/// Sums `x` viewed as `[outer, n, inner]` over the middle axis into `[outer, inner]`.
func sumKernel(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, outer: Int, n: Int, inner: Int) {
    if inner == 1 {
        for o in 0..<outer { out[o] = horizontalSum(x + o * n, n) }
        return
    }
    for o in 0..<outer {
        let destination = out + o * inner
        destination.initialize(repeating: 0, count: inner)
        for r in 0..<n {
            let source = x + (o * n + r) * inner
            for i in 0..<inner { destination[i] += source[i] }
        }
    }
}

/// Sum of `n` contiguous floats with eight independent accumulators (vectorisable and more
/// accurate than one running sum).
@inline(__always)
func horizontalSum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var accumulator = SIMD8<Float>()
    var i = 0
    while i + 8 <= n {
        accumulator += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
        i += 8
    }
    var total = accumulator.sum()
    while i < n { total += x[i]; i += 1 }
    return total
}

/// Maximum (or minimum with `largest: false`) over the middle axis, with the first index reaching it.
/// NaN wins, as in PyTorch.
func extremumKernel(_ x: UnsafePointer<Float>, values: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Float>?,
                    outer: Int, n: Int, inner: Int, largest: Bool) {
    for o in 0..<outer {
        for i in 0..<inner {
            let base = x + o * n * inner + i
            var best = base[0], bestIndex = 0
            if !best.isNaN {
                for r in 1..<max(n, 1) {
                    let v = base[r * inner]
                    if v.isNaN { best = v; bestIndex = r; break }
                    if largest ? v > best : v < best { best = v; bestIndex = r }
                }
            }
            values[o * inner + i] = best
            indices?[o * inner + i] = Float(bestIndex)
        }
    }
}
