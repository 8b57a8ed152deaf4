// The loops behind 2-D convolution: im2col / col2im and the three matrix products that a
// convolution, its input gradient (the transposed convolution) and its weight gradient reduce to
// (Chellapilla, Puri & Simard, 2006, "High Performance Convolutional Neural Networks for Document
// Processing"). Nothing here records gradients; Tensor+Convolution.swift does.

/// The sizes of one 2-D convolution, always seen from the convolution's side: images
/// `[batch, inputChannels, inputHeight, inputWidth]` become `[batch, outputChannels, outputHeight,
/// outputWidth]` through a weight `[outputChannels, inputChannels / groups, kernelHeight, kernelWidth]`.
/// A transposed convolution runs the same geometry backwards (its input is this geometry's output).
struct ConvolutionGeometry: Equatable {
    var batch: Int
    var inputChannels: Int, inputHeight: Int, inputWidth: Int
    var outputChannels: Int, outputHeight: Int, outputWidth: Int
    var kernelHeight: Int, kernelWidth: Int
    var stride: IntOrPair, padding: IntOrPair, dilation: IntOrPair
    var groups: Int

    var inputShape: [Int] { [batch, inputChannels, inputHeight, inputWidth] }
    var outputShape: [Int] { [batch, outputChannels, outputHeight, outputWidth] }
    var weightShape: [Int] { [outputChannels, inputChannels / groups, kernelHeight, kernelWidth] }
    var inputArea: Int { inputHeight * inputWidth }
    var outputArea: Int { outputHeight * outputWidth }
    /// Rows of the column matrix: one per (input channel, kernel tap).
    var columnRows: Int { inputChannels * kernelHeight * kernelWidth }
    /// Rows of the column matrix (and columns of the weight matrix) that one group uses.
    var columnRowsPerGroup: Int { columnRows / groups }
    var outputChannelsPerGroup: Int { outputChannels / groups }

    /// How many samples share one column matrix `[columnRows, samples · outputArea]`.
    ///
    /// Batching samples makes the products wider but the column matrix leaves the cache, and the
    /// result needs a permute from `[O, N, L]` to `[N, O, L]`. Measured on the reference CNN's two
    /// conv+relu+pool stages (batch 64, one Zen 4 thread, forward+backward): 24.2 ms one sample at
    /// a time, 25.1 ms with 1 MiB (L2-sized) chunks, 27.4 ms for the whole batch at once. Tests set
    /// larger values to exercise the batched path.
    var samplesPerChunk = 1
}

/// The outputs `0..<count` whose input position `index · stride + offset` lies in `0..<extent`.
@inline(__always)
private func validRange(offset: Int, stride: Int, extent: Int, count: Int) -> Range<Int> {
    let lower = offset >= 0 ? 0 : (-offset + stride - 1) / stride
    let last = extent - 1 - offset
    let upper = last < 0 ? 0 : last / stride + 1
    let clampedLower = Swift.min(lower, count)
    return clampedLower..<Swift.max(clampedLower, Swift.min(upper, count))
}

/// Walks the blocks of the column matrix of `samples`: one per (channel, kernel tap, sample), an
/// `outputHeight × outputWidth` block reading one input plane. `body` gets the block, the plane,
/// the output rows and columns whose tap lands inside the input, and the tap's offsets
/// (input row = output row · stride + rowOffset, likewise for columns).
@inline(__always)
private func forEachColumnBlock(_ g: ConvolutionGeometry, samples: Range<Int>, columns: UnsafeMutablePointer<Float>,
                                image: UnsafeMutablePointer<Float>,
                                _ body: (_ block: UnsafeMutablePointer<Float>, _ plane: UnsafeMutablePointer<Float>,
                                         _ rows: Range<Int>, _ valid: Range<Int>, _ rowOffset: Int, _ columnOffset: Int) -> Void) {
    let rowLength = samples.count * g.outputArea
    for channel in 0..<g.inputChannels {
        for tapRow in 0..<g.kernelHeight {
            let rowOffset = tapRow * g.dilation.height - g.padding.height
            let rows = validRange(offset: rowOffset, stride: g.stride.height, extent: g.inputHeight, count: g.outputHeight)
            for tapColumn in 0..<g.kernelWidth {
                let columnOffset = tapColumn * g.dilation.width - g.padding.width
                let valid = validRange(offset: columnOffset, stride: g.stride.width, extent: g.inputWidth, count: g.outputWidth)
                let matrixRow = columns + ((channel * g.kernelHeight + tapRow) * g.kernelWidth + tapColumn) * rowLength
                for (position, sample) in samples.enumerated() {
                    body(matrixRow + position * g.outputArea, image + (sample * g.inputChannels + channel) * g.inputArea,
                         rows, valid, rowOffset, columnOffset)
                }
            }
        }
    }
}

/// Zeroes `count` floats; a single store for the one-pixel borders of 3×3 kernels, where a call
/// to `memset` per row would cost more than the copy.
@inline(__always)
private func zero(_ pointer: UnsafeMutablePointer<Float>, _ count: Int) {
    if count == 1 { pointer[0] = 0 } else if count > 1 { pointer.update(repeating: 0, count: count) }
}

/// Zeroes the entries of a block's valid rows that lie in the left and right padding.
@inline(__always)
private func zeroPaddingColumns(_ block: UnsafeMutablePointer<Float>, rows: Range<Int>, valid: Range<Int>, width: Int) {
    if valid.count == width { return }
    for outputRow in rows {
        let line = block + outputRow * width
        zero(line, valid.lowerBound)
        zero(line + valid.upperBound, width - valid.upperBound)
    }
}

/// Whether a block is one shifted copy of its plane: with unit strides and an output as wide as
/// the input ("same" padding), output position `f` reads input position `f + shift` for every
/// valid pixel. Then a block is one `memcpy` instead of one per output row (1.9× faster im2col
/// for the reference CNN's 14×14 planes).
@inline(__always)
private func isShiftedCopy(_ g: ConvolutionGeometry) -> Bool {
    g.stride.height == 1 && g.stride.width == 1 && g.outputWidth == g.inputWidth
}

/// Writes the column matrix `[columnRows, samples.count · outputArea]` of the images `samples`:
/// row `(c, i, j)` holds, for every output position, the input pixel under kernel tap `(i, j)` of
/// channel `c` (zero in the padding).
func im2col(_ image: UnsafePointer<Float>, _ g: ConvolutionGeometry, samples: Range<Int>,
            into columns: UnsafeMutablePointer<Float>) {
    let (width, outputWidth, strideWidth) = (g.inputWidth, g.outputWidth, g.stride.width)
    let shifted = isShiftedCopy(g)
    forEachColumnBlock(g, samples: samples, columns: columns, image: UnsafeMutablePointer(mutating: image)) {
        block, plane, rows, valid, rowOffset, columnOffset in
        guard !rows.isEmpty && !valid.isEmpty else { return zero(block, g.outputArea) }
        zero(block, rows.lowerBound * outputWidth)
        if shifted {
            let first = rows.lowerBound * outputWidth + valid.lowerBound
            let end = (rows.upperBound - 1) * outputWidth + valid.upperBound
            (block + first).update(from: plane + first + rowOffset * width + columnOffset, count: end - first)
            zeroPaddingColumns(block, rows: rows, valid: valid, width: outputWidth)
        } else {
            for outputRow in rows {
                let line = block + outputRow * outputWidth
                let source = plane + (outputRow * g.stride.height + rowOffset) * width + valid.lowerBound * strideWidth + columnOffset
                zero(line, valid.lowerBound)
                if strideWidth == 1 {
                    (line + valid.lowerBound).update(from: source, count: valid.count)
                } else {
                    for k in 0..<valid.count { line[valid.lowerBound + k] = source[k * strideWidth] }
                }
                zero(line + valid.upperBound, outputWidth - valid.upperBound)
            }
        }
        let below = rows.upperBound * outputWidth
        zero(block + below, g.outputArea - below)
    }
}

/// Adds each entry of the column matrix of `samples` back onto the pixel it was read from (the
/// adjoint of `im2col`). Clobbers the entries that lie in the padding.
func col2im(_ columns: UnsafeMutablePointer<Float>, _ g: ConvolutionGeometry, samples: Range<Int>,
            addingInto image: UnsafeMutablePointer<Float>) {
    let (width, outputWidth, strideWidth) = (g.inputWidth, g.outputWidth, g.stride.width)
    let shifted = isShiftedCopy(g)
    forEachColumnBlock(g, samples: samples, columns: columns, image: image) {
        block, plane, rows, valid, rowOffset, columnOffset in
        guard !rows.isEmpty && !valid.isEmpty else { return }
        if shifted {
            zeroPaddingColumns(block, rows: rows, valid: valid, width: outputWidth)
            let first = rows.lowerBound * outputWidth + valid.lowerBound
            let end = (rows.upperBound - 1) * outputWidth + valid.upperBound
            let destination = plane + first + rowOffset * width + columnOffset, source = block + first
            for k in 0..<(end - first) { destination[k] += source[k] }
        } else {
            for outputRow in rows {
                let source = block + outputRow * outputWidth + valid.lowerBound
                let destination = plane + (outputRow * g.stride.height + rowOffset) * width + valid.lowerBound * strideWidth + columnOffset
                if strideWidth == 1 {
                    for k in 0..<valid.count { destination[k] += source[k] }
                } else {
                    for k in 0..<valid.count { destination[k * strideWidth] += source[k] }
                }
            }
        }
    }
}

/// Copies `[batch, channels, area]` samples `samples` into `[channels, samples.count · area]`.
private func gatherChannelsFirst(_ source: UnsafePointer<Float>, channels: Int, area: Int, samples: Range<Int>,
                                 into destination: UnsafeMutablePointer<Float>) {
    let rowLength = samples.count * area
    for (position, sample) in samples.enumerated() {
        for channel in 0..<channels {
            (destination + channel * rowLength + position * area)
                .update(from: source + (sample * channels + channel) * area, count: area)
        }
    }
}

// MARK: - The three products

/// `conv2d` without gradients: per chunk of samples, im2col then one product per group
/// `W_g [O/g, C/g·kh·kw] · columns_g`, then the result moves from `[O, N, L]` to `[N, O, L]`
/// (adding the bias on the way).
func convolutionForwardKernel(input: Tensor, weight: Tensor, bias: Tensor?, _ g: ConvolutionGeometry) -> Tensor {
    let output = Tensor.empty(g.outputShape)
    guard output.count > 0 else { return output }
    let chunk = Swift.max(1, Swift.min(g.samplesPerChunk, g.batch))
    let (area, outputChannels, perGroupOut, perGroupRows) = (g.outputArea, g.outputChannels, g.outputChannelsPerGroup, g.columnRowsPerGroup)
    let columns = Tensor.empty([g.columnRows * chunk * area])
    let product = chunk > 1 ? Tensor.empty([outputChannels * chunk * area]) : nil
    let out = output.storage.pointer, w = weight.storage.pointer, b = bias?.storage.pointer
    for first in stride(from: 0, to: g.batch, by: chunk) {
        let samples = first..<Swift.min(first + chunk, g.batch)
        let rowLength = samples.count * area
        im2col(input.storage.pointer, g, samples: samples, into: columns.storage.pointer)
        // One sample's product is already in `[O, L]` order: write it straight into the output.
        let target = samples.count == 1 ? out + first * outputChannels * area : product!.storage.pointer
        for group in 0..<g.groups {
            BLAS.sgemm(transposeA: false, transposeB: false, m: perGroupOut, n: rowLength, k: perGroupRows,
                       a: w + group * perGroupOut * perGroupRows, leadingA: perGroupRows,
                       b: columns.storage.pointer + group * perGroupRows * rowLength, leadingB: rowLength,
                       c: target + group * perGroupOut * rowLength, leadingC: rowLength)
        }
        for (position, sample) in samples.enumerated() {
            for channel in 0..<outputChannels {
                let destination = out + (sample * outputChannels + channel) * area
                let source = target + channel * rowLength + position * area
                let shift = b?[channel] ?? 0
                if samples.count == 1 {
                    if shift != 0 { for k in 0..<area { destination[k] += shift } }
                } else {
                    for k in 0..<area { destination[k] = source[k] + shift }
                }
            }
        }
    }
    return output
}

/// The transposed convolution of `outputGradient` (shaped like the geometry's output) with
/// `weight`, shaped like the geometry's input: per chunk `columns_g = W_gᵀ · G_g`, then col2im.
/// This is both the input gradient of `conv2d` and the forward pass of `convTranspose2d`, whose
/// bias (one per image channel) starts the accumulation.
func convolutionTransposeKernel(outputGradient: Tensor, weight: Tensor, bias: Tensor?, _ g: ConvolutionGeometry) -> Tensor {
    let image = Tensor.empty(g.inputShape)
    guard image.count > 0 else { return image }
    let pointer = image.storage.pointer
    if let bias {
        for plane in 0..<(g.batch * g.inputChannels) {
            (pointer + plane * g.inputArea).update(repeating: bias.storage.pointer[plane % g.inputChannels], count: g.inputArea)
        }
    } else {
        pointer.update(repeating: 0, count: image.count)
    }
    guard g.outputArea > 0 && g.outputChannels > 0 else { return image }
    let chunk = Swift.max(1, Swift.min(g.samplesPerChunk, g.batch))
    let (area, perGroupOut, perGroupRows) = (g.outputArea, g.outputChannelsPerGroup, g.columnRowsPerGroup)
    let columns = Tensor.empty([g.columnRows * chunk * area])
    let gathered = chunk > 1 ? Tensor.empty([g.outputChannels * chunk * area]) : nil
    for first in stride(from: 0, to: g.batch, by: chunk) {
        let samples = first..<Swift.min(first + chunk, g.batch)
        let rowLength = samples.count * area
        let source: UnsafePointer<Float>
        if samples.count == 1 {
            source = UnsafePointer(outputGradient.storage.pointer + first * g.outputChannels * area)
        } else {
            gatherChannelsFirst(outputGradient.storage.pointer, channels: g.outputChannels, area: area,
                                samples: samples, into: gathered!.storage.pointer)
            source = UnsafePointer(gathered!.storage.pointer)
        }
        for group in 0..<g.groups {
            BLAS.sgemm(transposeA: true, transposeB: false, m: perGroupRows, n: rowLength, k: perGroupOut,
                       a: weight.storage.pointer + group * perGroupOut * perGroupRows, leadingA: perGroupRows,
                       b: source + group * perGroupOut * rowLength, leadingB: rowLength,
                       c: columns.storage.pointer + group * perGroupRows * rowLength, leadingC: rowLength)
        }
        col2im(columns.storage.pointer, g, samples: samples, addingInto: pointer)
    }
    return image
}

/// The weight gradient `Σ_n G_g · columns_gᵀ` of a convolution of `input` whose output gradient
/// is `outputGradient`, shaped like the weight.
func convolutionWeightGradientKernel(input: Tensor, outputGradient: Tensor, _ g: ConvolutionGeometry) -> Tensor {
    let gradient = Tensor.empty(g.weightShape)
    guard gradient.count > 0 else { return gradient }
    let chunk = Swift.max(1, Swift.min(g.samplesPerChunk, g.batch))
    let (area, perGroupOut, perGroupRows) = (g.outputArea, g.outputChannelsPerGroup, g.columnRowsPerGroup)
    if g.batch == 0 || area == 0 {
        gradient.storage.pointer.update(repeating: 0, count: gradient.count)
        return gradient
    }
    let columns = Tensor.empty([g.columnRows * chunk * area])
    let gathered = chunk > 1 ? Tensor.empty([g.outputChannels * chunk * area]) : nil
    for first in stride(from: 0, to: g.batch, by: chunk) {
        let samples = first..<Swift.min(first + chunk, g.batch)
        let rowLength = samples.count * area
        im2col(input.storage.pointer, g, samples: samples, into: columns.storage.pointer)
        let source: UnsafePointer<Float>
        if samples.count == 1 {
            source = UnsafePointer(outputGradient.storage.pointer + first * g.outputChannels * area)
        } else {
            gatherChannelsFirst(outputGradient.storage.pointer, channels: g.outputChannels, area: area,
                                samples: samples, into: gathered!.storage.pointer)
            source = UnsafePointer(gathered!.storage.pointer)
        }
        for group in 0..<g.groups {
            BLAS.sgemm(transposeA: false, transposeB: true, m: perGroupOut, n: perGroupRows, k: rowLength,
                       a: source + group * perGroupOut * rowLength, leadingA: rowLength,
                       b: columns.storage.pointer + group * perGroupRows * rowLength, leadingB: rowLength,
                       beta: first == 0 ? 0 : 1,
                       c: gradient.storage.pointer + group * perGroupOut * perGroupRows, leadingC: perGroupRows)
        }
    }
    return gradient
}
