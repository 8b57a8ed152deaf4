/// How the operands of an elementwise op or a strided copy are walked.
///
/// Each operand has strides in the output's index space (0 along broadcast axes, negative for a
/// flip), and adjacent axes that every operand walks contiguously are merged, so
/// `[64, 32, 28, 28] + [32, 1, 1]` becomes rows of 784 elements with the second operand fixed along
/// each row. Kernels then run one tight loop per row.
struct StridedLayout {
    /// The merged output shape; its last axis is the row.
    private(set) var shape: [Int]
    /// Per operand, the merged strides (elements) for each axis of `shape`.
    private(set) var strides: [[Int]]

    /// Operands of the given shapes broadcast against `output`.
    init(output: [Int], operands: [[Int]]) {
        let rank = output.count
        let strides = operands.map { operandShape -> [Int] in
            let own = contiguousStrides(operandShape)
            let padding = rank - operandShape.count
            return (0..<rank).map { axis in
                axis < padding || operandShape[axis - padding] == 1 ? 0 : own[axis - padding]
            }
        }
        self.init(shape: output, strides: strides)
    }

    /// Operands with explicit strides over `shape`.
    init(shape: [Int], strides: [[Int]]) {
        var shape = shape
        var strides = strides
        // Merge axis i into axis i+1 where every operand is contiguous across the pair.
        var axis = shape.count - 2
        while axis >= 0 {
            let mergeable = strides.allSatisfy { $0[axis] == $0[axis + 1] * shape[axis + 1] }
            if mergeable || shape[axis] == 1 {  // an extent-1 axis contributes nothing
                shape[axis + 1] *= shape[axis]
                shape.remove(at: axis)
                for k in strides.indices { strides[k].remove(at: axis) }
            }
            axis -= 1
        }
        if shape.isEmpty {
            shape = [1]
            strides = strides.map { _ in [0] }
        }
        self.shape = shape
        self.strides = strides
    }

    var rowLength: Int { shape[shape.count - 1] }
    /// The stride of operand `k` along a row (0 = fixed, 1 = contiguous, or other).
    func rowStride(_ operand: Int) -> Int { strides[operand][shape.count - 1] }

    /// Calls `body(offsets, outputOffset)` at the start of every row; `offsets[k]` is operand k's offset.
    @inline(__always)
    func forEachRow(_ body: (UnsafePointer<Int>, Int) -> Void) {
        let operandCount = strides.count
        let outerRank = shape.count - 1
        let rowLength = self.rowLength
        let total = shape.reduce(1, *)
        if total == 0 { return }
        withUnsafeTemporaryAllocation(of: Int.self, capacity: operandCount + outerRank) { scratch in
            let offsets = scratch.baseAddress!
            let counters = offsets + operandCount
            for k in 0..<operandCount { offsets[k] = 0 }
            for axis in 0..<outerRank { counters[axis] = 0 }
            var outputOffset = 0
            while outputOffset < total {
                body(UnsafePointer(offsets), outputOffset)
                outputOffset += rowLength
                // Advance the outer multi-index like an odometer.
                var axis = outerRank - 1
                while axis >= 0 {
                    counters[axis] += 1
                    for k in 0..<operandCount { offsets[k] += strides[k][axis] }
                    if counters[axis] < shape[axis] { break }
                    for k in 0..<operandCount { offsets[k] -= strides[k][axis] * shape[axis] }
                    counters[axis] = 0
                    axis -= 1
                }
            }
        }
    }
}

/// Copies `shape` elements from `source` (walked with `sourceStrides`) to `destination` (walked with
/// `destinationStrides`). The pointers address the first element of the walk; strides may be zero
/// (broadcast) or negative (flip).
func stridedCopy(shape: [Int], from source: UnsafePointer<Float>, sourceStrides: [Int],
                 to destination: UnsafeMutablePointer<Float>, destinationStrides: [Int]) {
    if shape.contains(0) { return }
    let layout = StridedLayout(shape: shape, strides: [sourceStrides, destinationStrides])
    let n = layout.rowLength
    let s = layout.rowStride(0), d = layout.rowStride(1)
    layout.forEachRow { offsets, _ in
        let from = source + offsets[0], to = destination + offsets[1]
        if s == 1 && d == 1 {
            to.update(from: from, count: n)
        } else if s == 0 && d == 1 {
            to.update(repeating: from[0], count: n)
        } else {
            for i in 0..<n { to[i * d] = from[i * s] }
        }
    }
}
