#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

// Four-lane helpers for the optimizers' per-tensor loops.
//
// Each rule is written once on `SIMD4<Float>` and run over the tensor four elements at a time;
// the last, partial group is loaded zero-padded and stored back lane by lane, so the same code
// handles the tail. Why not plain scalar loops: on Linux `Float.squareRoot()` compiles to
// `sqrtss` plus a call to `sqrtf` for negative inputs (glibc's errno), and that call stops the
// auto-vectorizer. On an 85k-parameter MLP (AMD EPYC) Adam's update took 218 µs as a scalar
// loop and 62 µs in this form; SGD with momentum went from 140 µs to about 15 µs once the
// per-element branches were gone.

typealias Float4 = SIMD4<Float>

/// Calls `body(index, width)` for each group of four consecutive elements of `0..<count`;
/// `width` is 4 except possibly for the last group.
@inline(__always)
func forEachGroupOfFour(_ count: Int, _ body: (_ index: Int, _ width: Int) -> Void) {
    var index = 0
    while index + 4 <= count {
        body(index, 4)
        index += 4
    }
    if index < count { body(index, count - index) }
}

/// Elements `index..<index + width` of `pointer`, zero-padded to four lanes.
@inline(__always)
func load(_ pointer: UnsafeMutablePointer<Float>, _ index: Int, _ width: Int) -> Float4 {
    if width == 4 { return UnsafeRawPointer(pointer + index).loadUnaligned(as: Float4.self) }
    var lanes = Float4()
    for lane in 0..<width { lanes[lane] = pointer[index + lane] }
    return lanes
}

/// Writes the first `width` lanes of `lanes` to `pointer[index...]`.
@inline(__always)
func store(_ lanes: Float4, _ pointer: UnsafeMutablePointer<Float>, _ index: Int, _ width: Int) {
    if width == 4 {
        UnsafeMutableRawPointer(pointer + index).storeBytes(of: lanes, as: Float4.self)
        return
    }
    for lane in 0..<width { pointer[index + lane] = lanes[lane] }
}

/// The correctly rounded square root of each lane, as one vector instruction where available.
@inline(__always)
func squareRoot(_ lanes: Float4) -> Float4 {
    #if arch(x86_64)
    return _mm_sqrt_ps(lanes)
    #else
    return lanes.squareRoot()
    #endif
}
