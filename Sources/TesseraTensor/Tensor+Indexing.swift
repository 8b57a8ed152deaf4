// Index-driven ops: gather / scatter-add along an axis, index-select / index-add, one-hot,
// triangular masks. Index tensors hold whole numbers as floats; every index is checked.

/// Converts a float index to `Int`, stopping if it is not a whole number in `0..<extent`.
@inline(__always)
private func checkedIndex(_ value: Float, extent: Int, op: String, axis: Int) -> Int {
    let index = Int(exactly: value) ?? -1
    if index < 0 || index >= extent {
        shapeFailure(op, "index \(value) is out of range 0..<\(extent) along axis \(axis)")
    }
    return index
}

extension Tensor {
    /// `output[p] = self[p with coordinate `axis` replaced by indices[p]]` (PyTorch's `gather`).
    /// `indices` has the same rank; its extents may not exceed `self`'s except along `axis`.
    public func gather(alongAxis axis: Int, indices: Tensor) -> Tensor {
        let axis = normalizeAxis(axis, rank: rank, op: "gather")
        check(indices.rank == rank && (0..<rank).allSatisfy { $0 == axis || indices.shape[$0] <= shape[$0] }, "gather",
              "indices of shape \(indices.shape) do not fit input of shape \(shape) along axis \(axis)")
        let input = self
        let output = Tensor.empty(indices.shape)
        forEachIndexedPosition(indices, axis: axis, op: "gather") { position, inputOffset in
            output.storage.pointer[position] = input.storage.pointer[inputOffset]
        }
        return output.recorded("gather", inputs: [input]) { g in
            [Tensor.zeros(input.shape).scatterAdd(alongAxis: axis, indices: indices, source: g)]
        }
    }

    /// `self` with `source[p]` added at `self[p with coordinate `axis` = indices[p]]`.
    public func scatterAdd(alongAxis axis: Int, indices: Tensor, source: Tensor) -> Tensor {
        let axis = normalizeAxis(axis, rank: rank, op: "scatterAdd")
        check(indices.shape == source.shape, "scatterAdd", "indices shape \(indices.shape) differs from source shape \(source.shape)")
        check(indices.rank == rank && (0..<rank).allSatisfy { $0 == axis || indices.shape[$0] <= shape[$0] }, "scatterAdd",
              "indices of shape \(indices.shape) do not fit target of shape \(shape) along axis \(axis)")
        let target = self
        let output = copy()
        forEachIndexedPosition(indices, axis: axis, op: "scatterAdd") { position, targetOffset in
            output.storage.pointer[targetOffset] += source.storage.pointer[position]
        }
        return output.recorded("scatterAdd", inputs: [target, source]) { g in
            [g, source.requiresGrad ? g.gather(alongAxis: axis, indices: indices) : nil]
        }
    }

    /// Walks every position of `indices`, giving its flat position and the flat offset in `self`
    /// of the element it addresses.
    private func forEachIndexedPosition(_ indices: Tensor, axis: Int, op: String, _ body: (Int, Int) -> Void) {
        let own = strides
        let extents = indices.shape
        var coordinates = [Int](repeating: 0, count: rank)
        for position in 0..<indices.count {
            let index = checkedIndex(indices.storage.pointer[position], extent: shape[axis], op: op, axis: axis)
            var offset = 0
            for d in 0..<rank { offset += (d == axis ? index : coordinates[d]) * own[d] }
            body(position, offset)
            var d = rank - 1
            while d >= 0 {
                coordinates[d] += 1
                if coordinates[d] < extents[d] { break }
                coordinates[d] = 0
                d -= 1
            }
        }
    }

    /// The slices at `indices` (rank 1) along `axis`, in that order.
    public func indexSelect(alongAxis axis: Int, indices: Tensor) -> Tensor {
        let axis = normalizeAxis(axis, rank: rank, op: "indexSelect")
        check(indices.rank == 1, "indexSelect", "indices must have rank 1, got shape \(indices.shape)")
        let input = self
        let (outer, n, inner) = reductionExtents(shape, first: axis, last: axis)
        var outputShape = shape
        outputShape[axis] = indices.count
        let output = Tensor.empty(outputShape)
        let chosen = (0..<indices.count).map {
            checkedIndex(indices.storage.pointer[$0], extent: n, op: "indexSelect", axis: axis)
        }
        for o in 0..<outer {
            for (j, index) in chosen.enumerated() {
                (output.storage.pointer + (o * chosen.count + j) * inner)
                    .update(from: storage.pointer + (o * n + index) * inner, count: inner)
            }
        }
        return output.recorded("indexSelect", inputs: [input]) { g in
            [Tensor.zeros(input.shape).indexAdd(alongAxis: axis, indices: indices, source: g)]
        }
    }

    /// `self` with slice `j` of `source` added at slice `indices[j]` along `axis`.
    public func indexAdd(alongAxis axis: Int, indices: Tensor, source: Tensor) -> Tensor {
        let axis = normalizeAxis(axis, rank: rank, op: "indexAdd")
        var expected = shape
        expected[axis] = indices.count
        check(indices.rank == 1 && source.shape == expected, "indexAdd",
              "source shape \(source.shape) must be \(expected) for \(indices.count) indices into shape \(shape)")
        let target = self
        let (outer, n, inner) = reductionExtents(shape, first: axis, last: axis)
        let output = copy()
        for o in 0..<outer {
            for j in 0..<indices.count {
                let index = checkedIndex(indices.storage.pointer[j], extent: n, op: "indexAdd", axis: axis)
                let destination = output.storage.pointer + (o * n + index) * inner
                let from = source.storage.pointer + (o * indices.count + j) * inner
                for i in 0..<inner { destination[i] += from[i] }
            }
        }
        return output.recorded("indexAdd", inputs: [target, source]) { g in
            [g, source.requiresGrad ? g.indexSelect(alongAxis: axis, indices: indices) : nil]
        }
    }

    /// A tensor of shape `shape + [classes]` with a 1 at each index (not differentiable).
    public func oneHot(classes: Int) -> Tensor {
        let output = Tensor.zeros(shape + [classes])
        for position in 0..<count {
            let index = checkedIndex(storage.pointer[position], extent: classes, op: "oneHot", axis: rank)
            output.storage.pointer[position * classes + index] = 1
        }
        return output
    }

    /// Keeps elements on and above diagonal `k` of the last two axes, zeroing the rest.
    public func upperTriangle(diagonal k: Int = 0) -> Tensor {
        self * triangleMask(upper: true, diagonal: k)
    }

    /// Keeps elements on and below diagonal `k` of the last two axes, zeroing the rest.
    public func lowerTriangle(diagonal k: Int = 0) -> Tensor {
        self * triangleMask(upper: false, diagonal: k)
    }

    private func triangleMask(upper: Bool, diagonal k: Int) -> Tensor {
        check(rank >= 2, upper ? "upperTriangle" : "lowerTriangle", "needs rank ≥ 2, got shape \(shape)")
        let rows = shape[rank - 2], columns = shape[rank - 1]
        return Tensor(shape: [rows, columns]) { flat in
            let (i, j) = (flat / columns, flat % columns)
            return (upper ? j - i >= k : j - i <= k) ? 1 : 0
        }
    }

    /// `rows × columns` mask with ones on and below diagonal `k` (a causal attention mask).
    public static func lowerTriangularMask(rows: Int, columns: Int, diagonal k: Int = 0) -> Tensor {
        Tensor(shape: [rows, columns]) { flat in (flat % columns) - (flat / columns) <= k ? 1 : 0 }
    }
}
