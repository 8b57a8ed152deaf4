// Matrix products through `cblas_sgemm`, with NumPy's rules for 1-D operands and broadcast batch
// axes. Transposes in backward rules are BLAS flags, not copies.

extension Tensor {
    /// The matrix product with broadcast batch axes (`[..., m, k] · [..., k, n]`); 1-D operands are
    /// treated as a row (left) or a column (right) vector, as NumPy does.
    public func matmul(_ other: Tensor) -> Tensor {
        check(rank >= 1 && other.rank >= 1, "matmul", "needs operands of rank ≥ 1, got shapes \(shape) and \(other.shape)")
        let left = rank == 1 ? reshape([1, shape[0]]) : self
        let right = other.rank == 1 ? other.reshape([other.shape[0], 1]) : other
        var product = Tensor.matmul(left, right, transposeA: false, transposeB: false)
        if rank == 1 { product = product.squeezed(axis: -2) }
        if other.rank == 1 { product = product.squeezed(axis: -1) }
        return product
    }

    /// `op(a) · op(b)` for operands of rank ≥ 2, where `op` transposes the last two axes when the
    /// flag is set. The batch axes broadcast.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool) -> Tensor {
        check(a.rank >= 2 && b.rank >= 2, "matmul", "needs operands of rank ≥ 2, got shapes \(a.shape) and \(b.shape)")
        let (aRows, aColumns) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
        let (bRows, bColumns) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
        let (m, k) = transposeA ? (aColumns, aRows) : (aRows, aColumns)
        let (kB, n) = transposeB ? (bColumns, bRows) : (bRows, bColumns)
        check(k == kB, "matmul", "inner extents differ: shapes \(a.shape)\(transposeA ? "ᵀ" : "") and \(b.shape)\(transposeB ? "ᵀ" : "") (\(k) vs \(kB))")
        let aBatch = Array(a.shape.dropLast(2)), bBatch = Array(b.shape.dropLast(2))
        let batch = broadcastShape(aBatch, bBatch, op: "matmul")
        let output = Tensor.empty(batch + [m, n])
        let batchCount = batch.reduce(1, *)

        if output.count > 0 {
            if k == 0 {
                output.storage.pointer.initialize(repeating: 0, count: output.count)
            } else if bBatch.isEmpty && !transposeA {
                // `[..., m, k] · [k, n]`: the batch folds into the rows of one product.
                BLAS.sgemm(transposeA: false, transposeB: transposeB, m: batchCount * m, n: n, k: k,
                           a: a.storage.pointer, leadingA: aColumns, b: b.storage.pointer, leadingB: bColumns,
                           c: output.storage.pointer, leadingC: n)
            } else {
                let aOffsets = batchOffsets(aBatch, in: batch, matrixSize: aRows * aColumns)
                let bOffsets = batchOffsets(bBatch, in: batch, matrixSize: bRows * bColumns)
                for index in 0..<batchCount {
                    BLAS.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                               a: a.storage.pointer + aOffsets[index], leadingA: aColumns,
                               b: b.storage.pointer + bOffsets[index], leadingB: bColumns,
                               c: output.storage.pointer + index * m * n, leadingC: n)
                }
            }
        }

        return output.recorded("matmul", inputs: [a, b]) { g in
            // C = op(A) op(B); each case writes dA and dB as products of stored operands.
            let gradientA: Tensor?, gradientB: Tensor?
            switch (transposeA, transposeB) {
            case (false, false):
                gradientA = a.requiresGrad ? matmul(g, b, transposeA: false, transposeB: true) : nil
                gradientB = b.requiresGrad ? matmul(a, g, transposeA: true, transposeB: false) : nil
            case (false, true):
                gradientA = a.requiresGrad ? matmul(g, b, transposeA: false, transposeB: false) : nil
                gradientB = b.requiresGrad ? matmul(g, a, transposeA: true, transposeB: false) : nil
            case (true, false):
                gradientA = a.requiresGrad ? matmul(b, g, transposeA: false, transposeB: true) : nil
                gradientB = b.requiresGrad ? matmul(a, g, transposeA: false, transposeB: false) : nil
            case (true, true):
                gradientA = a.requiresGrad ? matmul(b, g, transposeA: true, transposeB: true) : nil
                gradientB = b.requiresGrad ? matmul(g, a, transposeA: true, transposeB: true) : nil
            }
            return [gradientA.map { $0.sum(toShape: a.shape) }, gradientB.map { $0.sum(toShape: b.shape) }]
        }
    }

    /// `a · bᵀ` with the weight stored as `[out, in]` (a linear layer), with no copy of `b`.
    public func matmul(transposed b: Tensor) -> Tensor {
        Tensor.matmul(self, b, transposeA: false, transposeB: true)
    }

    /// The outer product of two vectors.
    public func outer(_ other: Tensor) -> Tensor {
        check(rank == 1 && other.rank == 1, "outer", "needs two vectors, got shapes \(shape) and \(other.shape)")
        return reshape([shape[0], 1]).matmul(other.reshape([1, other.shape[0]]))
    }

    /// The inner product of two vectors of equal length.
    public func dot(_ other: Tensor) -> Tensor {
        check(rank == 1 && other.rank == 1 && shape == other.shape, "dot",
              "needs two vectors of equal length, got shapes \(shape) and \(other.shape)")
        return (self * other).sum()
    }
}

/// For each flat index of the broadcast batch, the element offset of that operand's matrix.
private func batchOffsets(_ operandBatch: [Int], in batch: [Int], matrixSize: Int) -> [Int] {
    let batchCount = batch.reduce(1, *)
    let padding = batch.count - operandBatch.count
    let own = contiguousStrides(operandBatch)
    var offsets = [Int](repeating: 0, count: batchCount)
    var coordinates = [Int](repeating: 0, count: batch.count)
    for index in 0..<batchCount {
        var offset = 0
        for axis in padding..<batch.count where operandBatch[axis - padding] != 1 {
            offset += coordinates[axis] * own[axis - padding]
        }
        offsets[index] = offset * matrixSize
        var axis = batch.count - 1
        while axis >= 0 {
            coordinates[axis] += 1
            if coordinates[axis] < batch[axis] { break }
            coordinates[axis] = 0
            axis -= 1
        }
    }
    return offsets
}
