import Foundation

// The loops behind elementwise ops. Each takes the scalar function as a closure that the compiler
// inlines into the loop (the functions are `@inline(__always)`), so `a + b` runs as a vectorised
// loop with no call per element.

/// `f(x)` for every element.
@inline(__always)
func mapUnary(_ input: Tensor, _ f: (Float) -> Float) -> Tensor {
    let output = Tensor.empty(input.shape)
    let source = input.storage.pointer, destination = output.storage.pointer
    for i in 0..<input.count { destination[i] = f(source[i]) }
    return output
}

/// `f(a, b)` with NumPy broadcasting.
@inline(__always)
func mapBinary(_ a: Tensor, _ b: Tensor, op: String, _ f: (Float, Float) -> Float) -> Tensor {
    let x = a.storage.pointer, y = b.storage.pointer
    if a.shape == b.shape {
        let output = Tensor.empty(a.shape)
        let z = output.storage.pointer
        for i in 0..<a.count { z[i] = f(x[i], y[i]) }
        return output
    }
    let output = Tensor.empty(broadcastShape(a.shape, b.shape, op: op))
    let z = output.storage.pointer
    if b.count == 1 && a.count == output.count {
        let v = y[0]
        for i in 0..<output.count { z[i] = f(x[i], v) }
        return output
    }
    if a.count == 1 && b.count == output.count {
        let u = x[0]
        for i in 0..<output.count { z[i] = f(u, y[i]) }
        return output
    }
    let layout = StridedLayout(output: output.shape, operands: [a.shape, b.shape])
    let n = layout.rowLength
    let strideA = layout.rowStride(0), strideB = layout.rowStride(1)
    layout.forEachRow { offsets, start in
        let xs = x + offsets[0], ys = y + offsets[1], zs = z + start
        if strideA == 1 && strideB == 1 {
            for i in 0..<n { zs[i] = f(xs[i], ys[i]) }
        } else if strideA == 1 && strideB == 0 {
            let v = ys[0]
            for i in 0..<n { zs[i] = f(xs[i], v) }
        } else if strideA == 0 && strideB == 1 {
            let u = xs[0]
            for i in 0..<n { zs[i] = f(u, ys[i]) }
        } else {
            for i in 0..<n { zs[i] = f(xs[i * strideA], ys[i * strideB]) }
        }
    }
    return output
}

/// `f(a, b, c)` with broadcasting (used by `where`).
@inline(__always)
func mapTernary(_ a: Tensor, _ b: Tensor, _ c: Tensor, op: String, _ f: (Float, Float, Float) -> Float) -> Tensor {
    let shape = broadcastShape(broadcastShape(a.shape, b.shape, op: op), c.shape, op: op)
    let output = Tensor.empty(shape)
    let x = a.storage.pointer, y = b.storage.pointer, w = c.storage.pointer, z = output.storage.pointer
    let layout = StridedLayout(output: shape, operands: [a.shape, b.shape, c.shape])
    let n = layout.rowLength
    let sa = layout.rowStride(0), sb = layout.rowStride(1), sc = layout.rowStride(2)
    layout.forEachRow { offsets, start in
        let xs = x + offsets[0], ys = y + offsets[1], ws = w + offsets[2], zs = z + start
        for i in 0..<n { zs[i] = f(xs[i * sa], ys[i * sb], ws[i * sc]) }
    }
    return output
}
