import Foundation

// Reductions over any set of axes, with or without the reduced axes kept as extent 1.

extension Tensor {
    /// Sorted, de-duplicated, non-negative axes; all axes when `axes` is `nil`.
    func resolvedAxes(_ axes: [Int]?, op: String) -> [Int] {
        guard let axes else { return Array(0..<rank) }
        let resolved = Set(axes.map { normalizeAxis($0, rank: rank, op: op) })
        check(resolved.count == axes.count, op, "axes \(axes) repeat an axis of shape \(shape)")
        return resolved.sorted()
    }

    /// The shape with `axes` set to 1 (kept) or removed.
    func reducedShape(_ axes: [Int], keepDims: Bool) -> [Int] {
        keepDims ? shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
                 : shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
    }

    /// Sums over each maximal run of adjacent axes in turn (one pass per run).
    private func sumValues(_ axes: [Int]) -> Tensor {
        var current = self
        var runs: [(Int, Int)] = []
        for axis in axes {
            if let last = runs.last, last.1 == axis - 1 { runs[runs.count - 1].1 = axis } else { runs.append((axis, axis)) }
        }
        for (first, last) in runs.reversed() {
            let (outer, n, inner) = reductionExtents(current.shape, first: first, last: last)
            var keptShape = current.shape
            for axis in first...last { keptShape[axis] = 1 }
            let output = Tensor.empty(keptShape)
            if n == 0 { output.storage.pointer.initialize(repeating: 0, count: output.count) } else {
                sumKernel(current.storage.pointer, output.storage.pointer, outer: outer, n: n, inner: inner)
            }
            current = output
        }
        return current
    }

    /// Sum over `axes` (all axes when `nil`).
    public func sum(alongAxes axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let input = self
        let axes = resolvedAxes(axes, op: "sum")
        // Nothing to reduce (a scalar): recording on `self` would overwrite its own gradient node.
        if axes.isEmpty { return self }
        let keptShape = reducedShape(axes, keepDims: true)
        let output = sumValues(axes).reshapedStorage(reducedShape(axes, keepDims: keepDims))
        return output.recorded("sum", inputs: [input]) { g in
            [g.reshape(keptShape).expand(to: input.shape)]
        }
    }

    public func sum(alongAxis axis: Int, keepDims: Bool = false) -> Tensor { sum(alongAxes: [axis], keepDims: keepDims) }

    /// Sums the broadcast axes of a gradient away so it matches an operand's `shape`.
    public func sum(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        let leading = rank - target.count
        check(leading >= 0, "sum(toShape:)", "cannot reduce shape \(shape) to \(target)")
        var axes = Array(0..<leading)
        for (i, extent) in target.enumerated() where extent == 1 && shape[leading + i] != 1 { axes.append(leading + i) }
        let summed = axes.isEmpty ? self : sum(alongAxes: axes, keepDims: true)
        return summed.reshape(target)
    }

    /// Mean over `axes` (all axes when `nil`).
    public func mean(alongAxes axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let resolved = resolvedAxes(axes, op: "mean")
        let n = resolved.reduce(1) { $0 * shape[$1] }
        return sum(alongAxes: resolved, keepDims: keepDims) / Float(n)
    }

    public func mean(alongAxis axis: Int, keepDims: Bool = false) -> Tensor { mean(alongAxes: [axis], keepDims: keepDims) }

    /// Variance over `axes` with Bessel's `correction` (1 = unbiased, PyTorch's default; 0 = biased).
    public func variance(alongAxes axes: [Int]? = nil, correction: Int = 1, keepDims: Bool = false) -> Tensor {
        let resolved = resolvedAxes(axes, op: "variance")
        let n = resolved.reduce(1) { $0 * shape[$1] }
        let centered = self - mean(alongAxes: resolved, keepDims: true)
        return (centered * centered).sum(alongAxes: resolved, keepDims: keepDims) / Float(Swift.max(n - correction, 0))
    }

    /// Standard deviation over `axes` with Bessel's `correction`.
    public func standardDeviation(alongAxes axes: [Int]? = nil, correction: Int = 1, keepDims: Bool = false) -> Tensor {
        variance(alongAxes: axes, correction: correction, keepDims: keepDims).sqrt()
    }

    /// `log Σ exp(x)` over `axes`, computed stably by factoring out the maximum.
    public func logSumExp(alongAxes axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let resolved = resolvedAxes(axes, op: "logSumExp")
        let peak = withoutGradients { max(alongAxes: resolved, keepDims: true) }
        let finitePeak = mapUnary(peak) { $0.isFinite ? $0 : 0 }
        let result = (self - finitePeak).exp().sum(alongAxes: resolved, keepDims: true).log() + finitePeak
        return keepDims ? result : result.reshape(reducedShape(resolved, keepDims: false))
    }

    /// The p-norm over `axes` (2 by default).
    /// At a zero vector the gradient is 0 (PyTorch's subgradient), not the 0/0 of the chain rule.
    public func norm(_ p: Float = 2, alongAxes axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        if p == 1 { return abs().sum(alongAxes: axes, keepDims: keepDims) }
        let powered = p == 2 ? (self * self).sum(alongAxes: axes, keepDims: keepDims)
                             : abs().pow(p).sum(alongAxes: axes, keepDims: keepDims)
        // Route zero sums through a constant so neither the root nor the power divides by zero.
        let isZero = powered.equal(0)
        let root = Tensor.where(isZero, Tensor(1), powered).pow(1 / p)
        return root * (1 - isZero)
    }

    // MARK: - Extrema

    private func extremum(_ axes: [Int]?, keepDims: Bool, largest: Bool, op: String) -> Tensor {
        let input = self
        let resolved = resolvedAxes(axes, op: op)
        check(resolved.allSatisfy { shape[$0] > 0 }, op, "cannot reduce an empty axis of shape \(shape)")
        if resolved.isEmpty { return self }  // as in `sum`: no new tensor to record on
        var current = self
        for axis in resolved.reversed() {
            let (outer, n, inner) = reductionExtents(current.shape, first: axis, last: axis)
            var keptShape = current.shape
            keptShape[axis] = 1
            let output = Tensor.empty(keptShape)
            extremumKernel(current.storage.pointer, values: output.storage.pointer, indices: nil,
                           outer: outer, n: n, inner: inner, largest: largest)
            current = output
        }
        let kept = current
        let output = kept.reshapedStorage(reducedShape(resolved, keepDims: keepDims))
        return output.recorded(op, inputs: [input]) { g in
            // Ties share the gradient equally (PyTorch's amax/amin rule).
            let hits = input.equal(kept)
            let share = hits / hits.sum(alongAxes: resolved, keepDims: true)
            return [g.reshape(kept.shape) * share]
        }
    }

    /// Largest values over `axes` (all when `nil`).
    public func max(alongAxes axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        extremum(axes, keepDims: keepDims, largest: true, op: "max")
    }

    /// Smallest values over `axes` (all when `nil`).
    public func min(alongAxes axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        extremum(axes, keepDims: keepDims, largest: false, op: "min")
    }

    private func extremumWithIndex(_ axis: Int, keepDims: Bool, largest: Bool, op: String) -> (values: Tensor, indices: Tensor) {
        let axis = normalizeAxis(axis, rank: rank, op: op)
        check(shape[axis] > 0, op, "cannot reduce the empty axis \(axis) of shape \(shape)")
        let (outer, n, inner) = reductionExtents(shape, first: axis, last: axis)
        var keptShape = shape
        keptShape[axis] = 1
        let values = Tensor.empty(keptShape), indices = Tensor.empty(keptShape)
        extremumKernel(storage.pointer, values: values.storage.pointer, indices: indices.storage.pointer,
                       outer: outer, n: n, inner: inner, largest: largest)
        // The gradient goes to the chosen element only, as PyTorch's max(dim).
        let chosen = requiresGrad && GradientMode.isEnabled ? gather(alongAxis: axis, indices: indices) : values
        let finalShape = reducedShape([axis], keepDims: keepDims)
        return (chosen.reshape(finalShape), indices.reshape(finalShape))
    }

    /// Largest value along `axis` and the index of its first occurrence.
    public func max(alongAxis axis: Int, keepDims: Bool = false) -> (values: Tensor, indices: Tensor) {
        extremumWithIndex(axis, keepDims: keepDims, largest: true, op: "max")
    }

    /// Smallest value along `axis` and the index of its first occurrence.
    public func min(alongAxis axis: Int, keepDims: Bool = false) -> (values: Tensor, indices: Tensor) {
        extremumWithIndex(axis, keepDims: keepDims, largest: false, op: "min")
    }

    /// Index of the largest value along `axis` (of the flattened tensor when `nil`).
    public func argmax(alongAxis axis: Int? = nil, keepDims: Bool = false) -> Tensor {
        guard let axis else { return withoutGradients { reshape([count]).max(alongAxis: 0).indices } }
        return withoutGradients { max(alongAxis: axis, keepDims: keepDims).indices }
    }

    /// Index of the smallest value along `axis` (of the flattened tensor when `nil`).
    public func argmin(alongAxis axis: Int? = nil, keepDims: Bool = false) -> Tensor {
        guard let axis else { return withoutGradients { reshape([count]).min(alongAxis: 0).indices } }
        return withoutGradients { min(alongAxis: axis, keepDims: keepDims).indices }
    }
}
