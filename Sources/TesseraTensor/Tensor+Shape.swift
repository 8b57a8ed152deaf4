// Shape ops. `reshape` shares storage; everything else copies into a new contiguous tensor
// through one strided-copy kernel.

extension Tensor {
    /// The same storage seen with another shape, outside the graph (for kernels' own use).
    func reshapedStorage(_ newShape: [Int]) -> Tensor {
        newShape == shape ? self : Tensor(shape: newShape, storage: storage)
    }

    /// The same elements in a new shape; one extent may be `-1` (inferred). Shares storage.
    public func reshape(_ newShape: [Int]) -> Tensor {
        var resolved = newShape
        let unknown = newShape.indices.filter { newShape[$0] == -1 }
        check(unknown.count <= 1, "reshape", "at most one extent may be -1, got \(newShape)")
        if let axis = unknown.first {
            let known = newShape.enumerated().filter { $0.offset != axis }.reduce(1) { $0 * $1.element }
            check(known > 0 && count % known == 0, "reshape", "cannot reshape \(shape) (\(count) elements) into \(newShape)")
            resolved[axis] = count / known
        }
        check(elementCount(resolved, op: "reshape") == count, "reshape",
              "cannot reshape \(shape) (\(count) elements) into \(newShape)")
        if resolved == shape { return self }
        let input = self
        return Tensor(shape: resolved, storage: storage).recorded("reshape", inputs: [input]) { g in
            [g.reshape(input.shape)]
        }
    }

    /// Merges axes `startAxis...endAxis` into one.
    public func flattened(startAxis: Int = 0, endAxis: Int = -1) -> Tensor {
        if rank == 0 { return reshape([1]) }
        let first = normalizeAxis(startAxis, rank: rank, op: "flattened"), last = normalizeAxis(endAxis, rank: rank, op: "flattened")
        check(first <= last, "flattened", "startAxis \(startAxis) comes after endAxis \(endAxis) for shape \(shape)")
        return reshape(Array(shape[..<first]) + [shape[first...last].reduce(1, *)] + Array(shape[(last + 1)...]))
    }

    /// Inserts an axis of extent 1 at `axis` (which may equal the rank, or be negative).
    public func unsqueezed(axis: Int) -> Tensor {
        let position = axis < 0 ? axis + rank + 1 : axis
        check(position >= 0 && position <= rank, "unsqueezed", "axis \(axis) is out of range for rank \(rank)")
        var newShape = shape
        newShape.insert(1, at: position)
        return reshape(newShape)
    }

    /// Removes axes of extent 1 (`axis` only, or all when `nil`).
    public func squeezed(axis: Int? = nil) -> Tensor {
        guard let axis else { return reshape(shape.filter { $0 != 1 }) }
        let position = normalizeAxis(axis, rank: rank, op: "squeezed")
        check(shape[position] == 1, "squeezed", "axis \(axis) of shape \(shape) has extent \(shape[position]), not 1")
        var newShape = shape
        newShape.remove(at: position)
        return reshape(newShape)
    }

    /// Reorders the axes: output axis `i` is input axis `axes[i]`.
    public func permuted(_ axes: [Int]) -> Tensor {
        let resolved = axes.map { normalizeAxis($0, rank: rank, op: "permuted") }
        check(resolved.count == rank && Set(resolved).count == rank, "permuted",
              "\(axes) is not a permutation of the \(rank) axes of shape \(shape)")
        if resolved == Array(0..<rank) { return self }
        let input = self
        let own = strides
        let output = Tensor.empty(resolved.map { shape[$0] })
        stridedCopy(shape: output.shape, from: storage.pointer, sourceStrides: resolved.map { own[$0] },
                    to: output.storage.pointer, destinationStrides: output.strides)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, axis) in resolved.enumerated() { inverse[axis] = i }
        return output.recorded("permute", inputs: [input]) { g in [g.permuted(inverse)] }
    }

    /// Swaps two axes (the last two by default: a matrix transpose).
    public func transposed(_ first: Int = -2, _ second: Int = -1) -> Tensor {
        check(rank >= 2 || (rank == 1 && first == -2 && second == -1), "transposed", "needs rank ≥ 2, got shape \(shape)")
        if rank < 2 { return self }
        var axes = Array(0..<rank)
        axes.swapAt(normalizeAxis(first, rank: rank, op: "transposed"), normalizeAxis(second, rank: rank, op: "transposed"))
        return permuted(axes)
    }

    /// Broadcasts to `target` (NumPy rules), copying.
    public func expand(to target: [Int]) -> Tensor {
        if target == shape { return self }
        check(broadcastShape(shape, target, op: "expand") == target, "expand", "cannot expand shape \(shape) to \(target)")
        let input = self
        let output = Tensor.empty(target)
        let padding = target.count - rank
        let own = strides
        let sourceStrides = (0..<target.count).map { axis in
            axis < padding || shape[axis - padding] == 1 ? 0 : own[axis - padding]
        }
        stridedCopy(shape: target, from: storage.pointer, sourceStrides: sourceStrides,
                    to: output.storage.pointer, destinationStrides: output.strides)
        return output.recorded("expand", inputs: [input]) { g in [g.sum(toShape: input.shape)] }
    }

    /// Tiles the tensor `counts[i]` times along each axis (PyTorch's `repeat`).
    public func repeated(_ counts: [Int]) -> Tensor {
        check(counts.count >= rank && counts.allSatisfy { $0 >= 0 }, "repeated",
              "needs at least \(rank) non-negative counts for shape \(shape), got \(counts)")
        let padded = [Int](repeating: 1, count: counts.count - rank) + shape
        var interleaved: [Int] = [], expanded: [Int] = []
        for (extent, times) in zip(padded, counts) {
            interleaved += [1, extent]
            expanded += [times, extent]
        }
        return reshape(interleaved).expand(to: expanded).reshape(zip(padded, counts).map { $0 * $1 })
    }

    // MARK: - Regions: slices and padding

    /// The elements at `start + k * step` for `k < extent` along every axis.
    func region(starts: [Int], steps: [Int], extents: [Int]) -> Tensor {
        let input = self
        let own = strides
        let output = Tensor.empty(extents)
        let offset = zip(starts, own).reduce(0) { $0 + $1.0 * $1.1 }
        stridedCopy(shape: extents, from: storage.pointer + offset, sourceStrides: zip(steps, own).map(*),
                    to: output.storage.pointer, destinationStrides: output.strides)
        return output.recorded("slice", inputs: [input]) { g in
            [g.embedded(in: input.shape, starts: starts, steps: steps, fill: 0)]
        }
    }

    /// A tensor of `outerShape` filled with `fill`, with `self` written at the region `starts`/`steps`.
    func embedded(in outerShape: [Int], starts: [Int], steps: [Int], fill: Float) -> Tensor {
        let input = self
        let output = Tensor.full(outerShape, fill)
        let outer = output.strides
        let offset = zip(starts, outer).reduce(0) { $0 + $1.0 * $1.1 }
        stridedCopy(shape: shape, from: storage.pointer, sourceStrides: strides,
                    to: output.storage.pointer + offset, destinationStrides: zip(steps, outer).map(*))
        return output.recorded("embed", inputs: [input]) { g in
            [g.region(starts: starts, steps: steps, extents: input.shape)]
        }
    }

    /// Elements `start, start + step, …` before `end` along `axis`; negative bounds count from the end.
    public func slice(alongAxis axis: Int, start: Int = 0, end: Int? = nil, step: Int = 1) -> Tensor {
        let axis = normalizeAxis(axis, rank: rank, op: "slice")
        let extent = shape[axis]
        check(step > 0, "slice", "step must be positive, got \(step) (use flipped(alongAxes:) to reverse)")
        let lower = Swift.min(Swift.max(start < 0 ? start + extent : start, 0), extent)
        let upper = Swift.min(Swift.max((end ?? extent) < 0 ? (end ?? extent) + extent : (end ?? extent), lower), extent)
        var starts = [Int](repeating: 0, count: rank), steps = [Int](repeating: 1, count: rank), extents = shape
        starts[axis] = lower
        steps[axis] = step
        extents[axis] = (upper - lower + step - 1) / step
        if extents == shape { return self }
        return region(starts: starts, steps: steps, extents: extents)
    }

    /// The sub-tensor at `index` along `axis`, with that axis removed.
    public func select(alongAxis axis: Int, index: Int) -> Tensor {
        let axis = normalizeAxis(axis, rank: rank, op: "select")
        let resolved = index < 0 ? index + shape[axis] : index
        check(resolved >= 0 && resolved < shape[axis], "select", "index \(index) is out of range for axis \(axis) of shape \(shape)")
        return slice(alongAxis: axis, start: resolved, end: resolved + 1).squeezed(axis: axis)
    }

    /// Pads with `value`; `padding[i]` is (before, after) for axis `i` (missing leading axes get none).
    public func padded(_ padding: [(before: Int, after: Int)], value: Float = 0) -> Tensor {
        check(padding.count <= rank && padding.allSatisfy { $0.before >= 0 && $0.after >= 0 }, "padded",
              "needs at most \(rank) non-negative (before, after) pairs for shape \(shape)")
        let full = [(before: Int, after: Int)](repeating: (0, 0), count: rank - padding.count) + padding
        return embedded(in: zip(shape, full).map { $0 + $1.before + $1.after }, starts: full.map(\.before),
                        steps: [Int](repeating: 1, count: rank), fill: value)
    }

    /// Reverses the order of elements along `axes`.
    public func flipped(alongAxes axes: [Int]) -> Tensor {
        let input = self
        let resolved = resolvedAxes(axes, op: "flipped")
        var sourceStrides = strides
        var offset = 0
        for axis in resolved where shape[axis] > 0 {
            offset += (shape[axis] - 1) * sourceStrides[axis]
            sourceStrides[axis] = -sourceStrides[axis]
        }
        let output = Tensor.empty(shape)
        stridedCopy(shape: shape, from: storage.pointer + offset, sourceStrides: sourceStrides,
                    to: output.storage.pointer, destinationStrides: output.strides)
        return output.recorded("flip", inputs: [input]) { g in [g.flipped(alongAxes: resolved)] }
    }

    // MARK: - Joining and splitting

    /// Joins tensors along an existing `axis`; all other extents must match.
    public static func concatenate(_ tensors: [Tensor], alongAxis axis: Int = 0) -> Tensor {
        check(!tensors.isEmpty, "concatenate", "needs at least one tensor")
        let first = tensors[0]
        let axis = normalizeAxis(axis, rank: first.rank, op: "concatenate")
        for tensor in tensors {
            check(tensor.rank == first.rank && tensor.shape.enumerated().allSatisfy { $0.offset == axis || $0.element == first.shape[$0.offset] },
                  "concatenate", "shapes \(tensors.map(\.shape)) differ outside axis \(axis)")
        }
        var outputShape = first.shape
        outputShape[axis] = tensors.reduce(0) { $0 + $1.shape[axis] }
        let output = Tensor.empty(outputShape)
        let outer = first.shape[..<axis].reduce(1, *)
        let rowLength = outputShape[axis...].reduce(1, *)
        var column = 0
        for tensor in tensors {
            let width = tensor.shape[axis...].reduce(1, *)
            for o in 0..<outer {
                (output.storage.pointer + o * rowLength + column).update(from: tensor.storage.pointer + o * width, count: width)
            }
            column += width
        }
        let extents = tensors.map { $0.shape[axis] }
        return output.recorded("concatenate", inputs: tensors) { g in
            var start = 0
            return extents.map { extent in
                defer { start += extent }
                return g.slice(alongAxis: axis, start: start, end: start + extent)
            }
        }
    }

    /// Joins equal-shaped tensors along a new `axis`.
    public static func stack(_ tensors: [Tensor], alongAxis axis: Int = 0) -> Tensor {
        check(!tensors.isEmpty, "stack", "needs at least one tensor")
        check(tensors.allSatisfy { $0.shape == tensors[0].shape }, "stack", "shapes \(tensors.map(\.shape)) differ")
        return concatenate(tensors.map { $0.unsqueezed(axis: axis) }, alongAxis: axis)
    }

    /// Pieces of the given sizes along `axis`.
    public func split(sizes: [Int], alongAxis axis: Int = 0) -> [Tensor] {
        let axis = normalizeAxis(axis, rank: rank, op: "split")
        check(sizes.reduce(0, +) == shape[axis] && sizes.allSatisfy { $0 >= 0 }, "split",
              "sizes \(sizes) do not add up to extent \(shape[axis]) of axis \(axis) in shape \(shape)")
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return slice(alongAxis: axis, start: start, end: start + size)
        }
    }

    /// `count` pieces along `axis`, the last possibly smaller (PyTorch's `chunk`).
    public func chunked(_ count: Int, alongAxis axis: Int = 0) -> [Tensor] {
        check(count > 0, "chunked", "count must be positive, got \(count)")
        let extent = shape[normalizeAxis(axis, rank: rank, op: "chunked")]
        let size = Swift.max(1, (extent + count - 1) / count)
        var sizes: [Int] = []
        var remaining = extent
        while remaining > 0 { sizes.append(Swift.min(size, remaining)); remaining -= size }
        return split(sizes: sizes.isEmpty ? [0] : sizes, alongAxis: axis)
    }
}
