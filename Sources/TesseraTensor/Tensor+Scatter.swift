// Segment reductions over rows: the scatter ops graph networks aggregate messages with.
//
// Each takes a source of shape `[E, …]` (one row per edge, say) and a rank-1 index of length E
// naming, for every row, the segment (target node) it belongs to, and returns `[count, …]`.
// Segments no row points to are 0, as `torch.Tensor.scatter_reduce(…, include_self=False)` leaves
// a zero-initialised output. Repeated indices are the point: every row with index i goes to
// segment i. Gathering rows by index is ``Tensor/indexSelect(alongAxis:indices:)``.

extension Tensor {
    /// `output[i] = Σ_{e : indices[e] = i} self[e]` (PyTorch's `index_add_` into zeros).
    public func scatterSum(indices: Tensor, count: Int) -> Tensor {
        check(rank >= 1, "scatterSum", "needs rows to scatter, got a scalar")
        check(indices.rank == 1 && indices.count == shape[0], "scatterSum",
              "indices of shape \(indices.shape) must name one segment for each of the \(shape[0]) rows of \(shape)")
        check(count >= 0, "scatterSum", "segment count must not be negative, got \(count)")
        return Tensor.zeros([count] + shape.dropFirst()).indexAdd(alongAxis: 0, indices: indices, source: self)
    }

    /// The mean of each segment's rows (`scatter_reduce(reduce="mean", include_self=False)`).
    /// The division by each segment's row count is a constant, so the gradient is the sum's,
    /// scaled.
    public func scatterMean(indices: Tensor, count: Int) -> Tensor {
        let sums = scatterSum(indices: indices, count: count)
        let rows = Tensor.segmentSizes(indices, count: count, op: "scatterMean")
        let inverse = Tensor(shape: [count] + [Int](repeating: 1, count: rank - 1)) { 1 / Swift.max(rows[$0], 1) }
        return sums * inverse
    }

    /// The elementwise maximum of each segment's rows (`scatter_reduce(reduce="amax",
    /// include_self=False)`). A segment whose rows are all −∞ is −∞; only a segment no row
    /// points to is 0. The gradient goes to the rows that attain the maximum, shared evenly among
    /// ties, as PyTorch does — except that where a maximum is exactly 0, PyTorch's backward also
    /// counts the zero it started from as a tie (two tied zeros get 1/3 each, not 1/2).
    public func scatterMax(indices: Tensor, count: Int) -> Tensor {
        check(rank >= 1, "scatterMax", "needs rows to scatter, got a scalar")
        check(indices.rank == 1 && indices.count == shape[0], "scatterMax",
              "indices of shape \(indices.shape) must name one segment for each of the \(shape[0]) rows of \(shape)")
        check(count >= 0, "scatterMax", "segment count must not be negative, got \(count)")
        let input = self
        let width = count == 0 || shape[0] == 0 ? elementCount(Array(shape.dropFirst()), op: "scatterMax") : self.count / shape[0]
        let segments = Tensor.segmentIndices(indices, count: count, op: "scatterMax")
        let output = Tensor.full([count] + shape.dropFirst(), -Float.infinity)
        let out = output.storage.pointer, source = storage.pointer
        for (row, segment) in segments.enumerated() {
            let from = source + row * width, to = out + segment * width
            for j in 0..<width where from[j] > to[j] || from[j].isNaN { to[j] = from[j] }
        }
        // Empty segments are found by their row count: testing for a left-over −∞ would also
        // zero a segment whose rows are all −∞.
        var filled = [Bool](repeating: false, count: count)
        for segment in segments { filled[segment] = true }
        for segment in 0..<count where !filled[segment] { (out + segment * width).update(repeating: 0, count: width) }
        return output.recorded("scatterMax", inputs: [input]) { [unowned output] g in
            // 1/(number of tied maxima) where a row attains its segment's maximum, else 0.
            let share = Tensor.zeros(input.shape)
            var ties = [Float](repeating: 0, count: output.count)
            let maxima = output.storage.pointer, values = input.storage.pointer, mask = share.storage.pointer
            for (row, segment) in segments.enumerated() {
                for j in 0..<width where values[row * width + j] == maxima[segment * width + j] { ties[segment * width + j] += 1 }
            }
            for (row, segment) in segments.enumerated() {
                for j in 0..<width where values[row * width + j] == maxima[segment * width + j] {
                    mask[row * width + j] = 1 / ties[segment * width + j]
                }
            }
            return [g.indexSelect(alongAxis: 0, indices: indices) * share]
        }
    }

    /// Every index as an `Int`, checked to be a whole number in `0..<count`.
    static func segmentIndices(_ indices: Tensor, count: Int, op: String) -> [Int] {
        (0..<indices.count).map { position in
            let value = indices.storage.pointer[position]
            guard let index = Int(exactly: value), index >= 0, index < count else {
                shapeFailure(op, "index \(value) at position \(position) is out of range 0..<\(count)")
            }
            return index
        }
    }

    /// How many rows each of `count` segments receives.
    static func segmentSizes(_ indices: Tensor, count: Int, op: String) -> [Float] {
        var sizes = [Float](repeating: 0, count: count)
        for index in segmentIndices(indices, count: count, op: op) { sizes[index] += 1 }
        return sizes
    }
}
