// Pooling over the last two axes with PyTorch's semantics (`max_pool2d`, `avg_pool2d`,
// `adaptive_avg_pool2d` and their 1-D forms). Max pooling finds each window's argmax and routes the
// gradient through a plane-wise gather/scatter pair; average pooling is a separable linear map
// (`resampled(rows:columns:)` in Tensor+Upsampling.swift), so both get gradients of every order.

/// The windows of one pooled axis: output `i` covers input `i · stride − padding + t · dilation`
/// for taps `t < kernel` (those inside the input).
private struct PoolingWindows {
    let input: Int, kernel: Int, stride: Int, padding: Int, dilation: Int
    let output: Int

    /// PyTorch's `pooling_output_shape`, with its checks.
    init(input: Int, kernel: Int, stride: Int, padding: Int, dilation: Int, ceilMode: Bool, shape: [Int], op: String) {
        check(kernel > 0 && stride > 0 && dilation > 0, op,
              "kernel \(kernel), stride \(stride) and dilation \(dilation) must be positive (input shape \(shape))")
        let span = dilation * (kernel - 1) + 1
        check(padding >= 0 && padding <= span / 2, op,
              "padding \(padding) must be between 0 and half the kernel extent \(span) (input shape \(shape))")
        let room = input + 2 * padding - span
        var output = (room + (ceilMode ? stride - 1 : 0)) / stride + 1
        if room < 0 { output = 0 }
        // In ceil mode the last window must still start inside the input or the left padding.
        if ceilMode && output > 0 && (output - 1) * stride >= input + padding { output -= 1 }
        check(output > 0, op, "kernel extent \(span) is larger than the padded input \(input + 2 * padding) (input shape \(shape))")
        (self.input, self.kernel, self.stride, self.padding, self.dilation, self.output) = (input, kernel, stride, padding, dilation, output)
    }

    /// The average-pooling map of this axis: weights `1 / count`, where the count includes the
    /// padding (up to the padded edge, as PyTorch) when `countIncludePad` is set.
    func averaging(countIncludePad: Bool) -> AxisResampling {
        var axis = AxisResampling(inputExtent: input)
        for i in 0..<output {
            let start = i * stride - padding
            let end = Swift.min(start + kernel, input + padding)
            let (first, last) = (Swift.max(start, 0), Swift.min(end, input))
            let count = countIncludePad ? end - start : last - first
            axis.appendOutput((first..<last).map { ($0, 1 / Float(count)) })
        }
        return axis
    }
}

extension Tensor {
    /// Max pooling over windows of `kernelSize` (stride defaults to the kernel size); the padding
    /// counts as −∞. The gradient goes to the first largest element of each window, as PyTorch.
    public func maxPool2d(kernelSize: IntOrPair, stride: IntOrPair? = nil, padding: IntOrPair = 0,
                          dilation: IntOrPair = 1, ceilMode: Bool = false) -> Tensor {
        maxPool2dWithIndices(kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation,
                             ceilMode: ceilMode).values
    }

    /// `maxPool2d` and, for each output, the flat index of its maximum within its input plane
    /// (`return_indices=True`).
    public func maxPool2dWithIndices(kernelSize: IntOrPair, stride: IntOrPair? = nil, padding: IntOrPair = 0,
                                     dilation: IntOrPair = 1, ceilMode: Bool = false) -> (values: Tensor, indices: Tensor) {
        let (rows, columns) = poolingWindows(kernelSize, stride, padding, dilation, ceilMode, op: "maxPool2d")
        let input = self
        let outputShape = Array(shape.dropLast(2)) + [rows.output, columns.output]
        let values = Tensor.empty(outputShape), indices = Tensor.empty(outputShape)
        maxPoolKernel(input.storage.pointer, values: values.storage.pointer, indices: indices.storage.pointer,
                      planes: shape.dropLast(2).reduce(1, *), rows: rows, columns: columns)
        let recorded = values.recorded("maxPool2d", inputs: [input]) { g in
            [g.scatteredIntoPlanes(indices, planeShape: input.shape)]
        }
        return (recorded, indices)
    }

    /// Max pooling of `[N, C, L]` (or `[C, L]`) along the last axis.
    public func maxPool1d(kernelSize: Int, stride: Int? = nil, padding: Int = 0, dilation: Int = 1,
                          ceilMode: Bool = false) -> Tensor {
        check(rank == 2 || rank == 3, "maxPool1d", "needs an input [N, C, L] or [C, L], got shape \(shape)")
        return unsqueezed(axis: -2).maxPool2d(kernelSize: IntOrPair(1, kernelSize), stride: IntOrPair(1, stride ?? kernelSize),
                                              padding: IntOrPair(0, padding), dilation: IntOrPair(1, dilation),
                                              ceilMode: ceilMode).squeezed(axis: -2)
    }

    /// Average pooling over windows of `kernelSize` (stride defaults to the kernel size). With
    /// `countIncludePad` the zero padding counts towards each window's size, as PyTorch's default.
    public func avgPool2d(kernelSize: IntOrPair, stride: IntOrPair? = nil, padding: IntOrPair = 0,
                          ceilMode: Bool = false, countIncludePad: Bool = true) -> Tensor {
        let (rows, columns) = poolingWindows(kernelSize, stride, padding, 1, ceilMode, op: "avgPool2d")
        return resampled(rows: rows.averaging(countIncludePad: countIncludePad),
                         columns: columns.averaging(countIncludePad: countIncludePad), op: "avgPool2d")
    }

    /// Average pooling of `[N, C, L]` (or `[C, L]`) along the last axis.
    public func avgPool1d(kernelSize: Int, stride: Int? = nil, padding: Int = 0, ceilMode: Bool = false,
                          countIncludePad: Bool = true) -> Tensor {
        check(rank == 2 || rank == 3, "avgPool1d", "needs an input [N, C, L] or [C, L], got shape \(shape)")
        return unsqueezed(axis: -2).avgPool2d(kernelSize: IntOrPair(1, kernelSize), stride: IntOrPair(1, stride ?? kernelSize),
                                              padding: IntOrPair(0, padding), ceilMode: ceilMode,
                                              countIncludePad: countIncludePad).squeezed(axis: -2)
    }

    /// Average pooling to a fixed `outputSize`: output `i` averages inputs `⌊i·H/Ho⌋ ..< ⌈(i+1)·H/Ho⌉`.
    public func adaptiveAvgPool2d(outputSize: IntOrPair) -> Tensor {
        check(rank == 3 || rank == 4, "adaptiveAvgPool2d", "needs an input [N, C, H, W] or [C, H, W], got shape \(shape)")
        check(outputSize.height > 0 && outputSize.width > 0 && shape[rank - 2] > 0 && shape[rank - 1] > 0,
              "adaptiveAvgPool2d", "needs a positive output size and non-empty planes, got \(outputSize) for shape \(shape)")
        func adaptive(_ input: Int, _ output: Int) -> AxisResampling {
            var axis = AxisResampling(inputExtent: input)
            for i in 0..<output {
                let (first, last) = (i * input / output, ((i + 1) * input + output - 1) / output)
                axis.appendOutput((first..<last).map { ($0, 1 / Float(last - first)) })
            }
            return axis
        }
        return resampled(rows: adaptive(shape[rank - 2], outputSize.height),
                         columns: adaptive(shape[rank - 1], outputSize.width), op: "adaptiveAvgPool2d")
    }

    private func poolingWindows(_ kernel: IntOrPair, _ stride: IntOrPair?, _ padding: IntOrPair, _ dilation: IntOrPair,
                                _ ceilMode: Bool, op: String) -> (PoolingWindows, PoolingWindows) {
        check(rank == 3 || rank == 4, op, "needs an input [N, C, H, W] or [C, H, W], got shape \(shape)")
        let stride = stride ?? kernel
        return (PoolingWindows(input: shape[rank - 2], kernel: kernel.height, stride: stride.height, padding: padding.height,
                               dilation: dilation.height, ceilMode: ceilMode, shape: shape, op: op),
                PoolingWindows(input: shape[rank - 1], kernel: kernel.width, stride: stride.width, padding: padding.width,
                               dilation: dilation.width, ceilMode: ceilMode, shape: shape, op: op))
    }
}

/// Each window's largest value and its flat index in the plane. Like PyTorch, a NaN wins, ties
/// keep the first element (taps are visited row by row) and a window of −∞ reports its first
/// element inside the input.
///
/// Each tap updates a whole output row at once, and the common 2×2 stride-2 case has its own
/// vector loop: a loop over the taps of each window mispredicts on random data (4.8 ms before,
/// 0.6 ms now, for the reference CNN's 64×64×14×14 pooling).
private func maxPoolKernel(_ input: UnsafePointer<Float>, values: UnsafeMutablePointer<Float>,
                           indices: UnsafeMutablePointer<Float>, planes: Int, rows: PoolingWindows, columns: PoolingWindows) {
    // Checking for NaN in every comparison halves the speed, so inputs without NaN (one fast scan)
    // get a kernel that compares with `>` alone.
    var nanCount = 0
    for k in 0..<(planes * rows.input * columns.input) { nanCount &+= input[k] != input[k] ? 1 : 0 }
    if nanCount > 0 {
        maxPoolKernel(input, values: values, indices: indices, planes: planes, rows: rows, columns: columns, nanAware: true)
    } else {
        maxPoolKernel(input, values: values, indices: indices, planes: planes, rows: rows, columns: columns, nanAware: false)
    }
}

@inline(__always)
private func maxPoolKernel(_ input: UnsafePointer<Float>, values: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Float>,
                           planes: Int, rows: PoolingWindows, columns: PoolingWindows, nanAware: Bool) {
    let (height, width) = (rows.input, columns.input)
    let (outputHeight, outputWidth) = (rows.output, columns.output)
    let rowTaps = rows.tapsInside(), columnTaps = columns.tapsInside()
    // Per tap column: its input offset and the outputs for which it lies inside the input.
    let tapColumns = (0..<columns.kernel).map { tap in
        let offset = tap * columns.dilation - columns.padding
        return (offset: offset, outputs: columns.outputsInside(offset: offset))
    }
    // Per output column: the input column of its first tap inside the input.
    let firstColumns = (0..<outputWidth).map { j in j * columns.stride - columns.padding + columnTaps[j].lowerBound * columns.dilation }
    let columnStride = columns.stride
    // 2×2 windows at stride 2 that all lie inside the input: max_pool2d(2) of nearly every CNN.
    let isHalving = rows.kernel == 2 && columns.kernel == 2 && rows.dilation == 1 && columns.dilation == 1
        && columns.stride == 2 && columnTaps.allSatisfy { $0.count == 2 }
    for plane in 0..<planes {
        let source = input + plane * height * width
        for i in 0..<outputHeight {
            let best = values + (plane * outputHeight + i) * outputWidth
            let chosen = indices + (plane * outputHeight + i) * outputWidth
            let firstRow = (i * rows.stride - rows.padding + rowTaps[i].lowerBound * rows.dilation) * width
            if !nanAware && isHalving && rowTaps[i].count == 2 && outputWidth >= 4 {
                poolRowOfPairs(source + firstRow + firstColumns[0], width: width, outputWidth: outputWidth,
                               firstIndex: firstRow + firstColumns[0], best: best, chosen: chosen)
                continue
            }
            for j in 0..<outputWidth {
                best[j] = source[firstRow + firstColumns[j]]
                chosen[j] = Float(firstRow + firstColumns[j])
            }
            for tapRow in rowTaps[i] {
                let inputRow = i * rows.stride - rows.padding + tapRow * rows.dilation
                for (offset, outputs) in tapColumns {
                    let rowBase = inputRow * width + offset
                    for j in outputs {
                        let position = rowBase + j * columnStride
                        let value = source[position]
                        if winsOver(best[j], value, nanAware: nanAware) { (best[j], chosen[j]) = (value, Float(position)) }
                    }
                }
            }
        }
    }
}

/// One output row of 2×2, stride-2 max pooling on NaN-free input, four outputs per step: each
/// step loads eight pixels of the two input rows and deinterleaves them into the windows' four
/// corners (visited in row order, so ties keep the first). The last step overlaps the previous
/// one instead of falling back to a scalar tail. 1.05 ms instead of 3.8 ms for the reference
/// CNN's first pooling (64×32×28×28), whose 14 outputs per row defeat the auto-vectoriser.
@inline(__always)
private func poolRowOfPairs(_ top: UnsafePointer<Float>, width: Int, outputWidth: Int, firstIndex: Int,
                            best: UnsafeMutablePointer<Float>, chosen: UnsafeMutablePointer<Float>) {
    let lanes = SIMD4<Float>(0, 2, 4, 6)
    let (right, below, belowRight) = (SIMD4<Float>(repeating: 1), SIMD4<Float>(repeating: Float(width)),
                                      SIMD4<Float>(repeating: Float(width + 1)))
    var j = 0
    while j < outputWidth {
        let start = Swift.min(j, outputWidth - 4)
        let upper = UnsafeRawPointer(top + 2 * start).loadUnaligned(as: SIMD8<Float>.self)
        let lower = UnsafeRawPointer(top + width + 2 * start).loadUnaligned(as: SIMD8<Float>.self)
        var value = upper.evenHalf
        var offset = SIMD4<Float>(repeating: 0)
        var wins = upper.oddHalf .> value
        value.replace(with: upper.oddHalf, where: wins)
        offset.replace(with: right, where: wins)
        wins = lower.evenHalf .> value
        value.replace(with: lower.evenHalf, where: wins)
        offset.replace(with: below, where: wins)
        wins = lower.oddHalf .> value
        value.replace(with: lower.oddHalf, where: wins)
        offset.replace(with: belowRight, where: wins)
        UnsafeMutableRawPointer(best + start).storeBytes(of: value, as: SIMD4<Float>.self)
        let index = SIMD4<Float>(repeating: Float(firstIndex + 2 * start)) + lanes + offset
        UnsafeMutableRawPointer(chosen + start).storeBytes(of: index, as: SIMD4<Float>.self)
        j = start + 4
    }
}

/// Whether `value` replaces `best` as a window's maximum: larger, or NaN (PyTorch's rule; a tie
/// keeps the earlier element).
@inline(__always)
private func winsOver(_ best: Float, _ value: Float, nanAware: Bool) -> Bool {
    nanAware ? (value > best) != (value != value) : value > best  // exclusive cases: no short-circuit branch
}

extension PoolingWindows {
    /// The outputs whose tap at input offset `offset` (input = output · stride + offset) lies
    /// inside the input.
    func outputsInside(offset: Int) -> Range<Int> {
        let first = offset >= 0 ? 0 : (-offset + stride - 1) / stride
        let last = input - 1 - offset
        let end = last < 0 ? 0 : Swift.min(output, last / stride + 1)
        return Swift.min(first, end)..<end
    }

    /// For each output, the taps whose input index lies inside the input (never empty, given the
    /// padding and ceil-mode rules).
    func tapsInside() -> [Range<Int>] {
        (0..<output).map { i in
            let start = i * stride - padding
            let first = start >= 0 ? 0 : (-start + dilation - 1) / dilation
            let last = Swift.min(kernel, (input - 1 - start) / dilation + 1)
            return first..<Swift.max(first, last)
        }
    }
}

// MARK: - Plane-wise gather and scatter

extension Tensor {
    /// `out[p] = self[plane of p, indices[p]]`: each `[Ho, Wo]` plane of `indices` picks flat
    /// positions of the matching `[H, W]` plane of `self`.
    func gatheredFromPlanes(_ indices: Tensor) -> Tensor {
        let source = self
        let output = Tensor.empty(indices.shape)
        let (sourceArea, indexArea) = (shape.suffix(2).reduce(1, *), indices.shape.suffix(2).reduce(1, *))
        let x = storage.pointer, index = indices.storage.pointer, y = output.storage.pointer
        for plane in 0..<(indexArea == 0 ? 0 : indices.count / indexArea) {
            let (from, picks, to) = (x + plane * sourceArea, index + plane * indexArea, y + plane * indexArea)
            for k in 0..<indexArea { to[k] = from[Int(picks[k])] }
        }
        return output.recorded("gatherFromPlanes", inputs: [source]) { g in
            [g.scatteredIntoPlanes(indices, planeShape: source.shape)]
        }
    }

    /// The adjoint of `gatheredFromPlanes`: a zero tensor of `planeShape` with each element of
    /// `self` added at its index in its plane.
    func scatteredIntoPlanes(_ indices: Tensor, planeShape: [Int]) -> Tensor {
        let values = self
        let output = Tensor.zeros(planeShape)
        let (targetArea, indexArea) = (planeShape.suffix(2).reduce(1, *), indices.shape.suffix(2).reduce(1, *))
        let x = storage.pointer, index = indices.storage.pointer, y = output.storage.pointer
        for plane in 0..<(indexArea == 0 ? 0 : indices.count / indexArea) {
            let (from, picks, to) = (x + plane * indexArea, index + plane * indexArea, y + plane * targetArea)
            for k in 0..<indexArea { to[Int(picks[k])] += from[k] }
        }
        return output.recorded("scatterIntoPlanes", inputs: [values]) { g in
            [g.gatheredFromPlanes(indices)]
        }
    }
}
