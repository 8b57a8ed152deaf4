// Resizing images (`torch.nn.functional.interpolate`, modes "nearest" and "bilinear") and the
// primitive behind it and average pooling: a linear map of every `[H, W]` plane that acts on rows
// and columns separately. Its gradient is its transpose and the transpose's gradient is the map
// itself, so all orders of gradients come from two loops.

/// One axis of a separable resampling: output index `i` is the weighted sum of input indices
/// `sources[offsets[i]..<offsets[i + 1]]` with `weights` at the same positions.
struct AxisResampling {
    let inputExtent: Int
    var outputExtent: Int { offsets.count - 1 }
    private(set) var offsets: [Int] = [0]
    private(set) var sources: [Int] = []
    private(set) var weights: [Float] = []

    init(inputExtent: Int) { self.inputExtent = inputExtent }

    /// Appends the next output index, made of `(source, weight)` terms.
    mutating func appendOutput(_ terms: [(source: Int, weight: Float)]) {
        for term in terms {
            assert(term.source >= 0 && term.source < inputExtent)
            sources.append(term.source)
            weights.append(term.weight)
        }
        offsets.append(sources.count)
    }
}

extension Tensor {
    /// Applies `rows` to axis −2 and `columns` to axis −1 of every plane:
    /// `out[i, j] = Σ rows[i][a] · columns[j][b] · in[a, b]`.
    func resampled(rows: AxisResampling, columns: AxisResampling, op: String) -> Tensor {
        check(rank >= 2 && shape[rank - 2] == rows.inputExtent && shape[rank - 1] == columns.inputExtent, op,
              "expects planes of \(rows.inputExtent)×\(columns.inputExtent), got shape \(shape)")
        let input = self
        let output = resampleKernel(self, rows: rows, columns: columns, transposed: false)
        return output.recorded(op, inputs: [input]) { g in
            [g.resampledTransposed(rows: rows, columns: columns, op: op)]
        }
    }

    /// The transpose of `resampled`: spreads each output element back over the terms that made it.
    private func resampledTransposed(rows: AxisResampling, columns: AxisResampling, op: String) -> Tensor {
        let gradient = self
        let output = resampleKernel(self, rows: rows, columns: columns, transposed: true)
        return output.recorded(op + "Backward", inputs: [gradient]) { g in
            [g.resampled(rows: rows, columns: columns, op: op)]
        }
    }
}

/// Both directions of the separable map, one pass per axis through a `[planes, H, Wo]` buffer.
private func resampleKernel(_ input: Tensor, rows: AxisResampling, columns: AxisResampling, transposed: Bool) -> Tensor {
    let (height, width) = (rows.inputExtent, columns.inputExtent)
    let (outputHeight, outputWidth) = (rows.outputExtent, columns.outputExtent)
    let planes = input.shape.dropLast(2).reduce(1, *)
    let leading = Array(input.shape.dropLast(2))
    let output = Tensor.zeros(leading + (transposed ? [height, width] : [outputHeight, outputWidth]))
    // Rows of `height` × columns of `outputWidth`: the image after the column map.
    let middle = Tensor.zeros([planes * height * outputWidth])
    let x = input.storage.pointer, y = output.storage.pointer, m = middle.storage.pointer
    rows.offsets.withUnsafeBufferPointer { rowOffsets in
    rows.sources.withUnsafeBufferPointer { rowSources in
    rows.weights.withUnsafeBufferPointer { rowWeights in
    columns.offsets.withUnsafeBufferPointer { columnOffsets in
    columns.sources.withUnsafeBufferPointer { columnSources in
    columns.weights.withUnsafeBufferPointer { columnWeights in
        for plane in 0..<planes {
            let buffer = m + plane * height * outputWidth
            if !transposed {
                let source = x + plane * height * width, destination = y + plane * outputHeight * outputWidth
                for row in 0..<height {
                    for j in 0..<outputWidth {
                        var total: Float = 0
                        for t in columnOffsets[j]..<columnOffsets[j + 1] { total += columnWeights[t] * source[row * width + columnSources[t]] }
                        buffer[row * outputWidth + j] = total
                    }
                }
                for i in 0..<outputHeight {
                    let line = destination + i * outputWidth
                    for t in rowOffsets[i]..<rowOffsets[i + 1] {
                        let weight = rowWeights[t], from = buffer + rowSources[t] * outputWidth
                        for j in 0..<outputWidth { line[j] += weight * from[j] }
                    }
                }
            } else {
                let source = x + plane * outputHeight * outputWidth, destination = y + plane * height * width
                for i in 0..<outputHeight {
                    let line = source + i * outputWidth
                    for t in rowOffsets[i]..<rowOffsets[i + 1] {
                        let weight = rowWeights[t], to = buffer + rowSources[t] * outputWidth
                        for j in 0..<outputWidth { to[j] += weight * line[j] }
                    }
                }
                for row in 0..<height {
                    for j in 0..<outputWidth {
                        let value = buffer[row * outputWidth + j]
                        for t in columnOffsets[j]..<columnOffsets[j + 1] { destination[row * width + columnSources[t]] += columnWeights[t] * value }
                    }
                }
            }
        }
    }}}}}}
    return output
}

// MARK: - Interpolation

extension Tensor {
    /// Nearest-neighbour resize of the last two axes to `size` (`interpolate(mode="nearest")`):
    /// output pixel `i` copies input pixel `min(⌊i · H / Ho⌋, H − 1)`.
    public func upsampleNearest2d(size: IntOrPair) -> Tensor {
        checkImage("upsampleNearest2d", size: size)
        return resampled(rows: .nearest(input: shape[rank - 2], output: size.height, scale: nil),
                         columns: .nearest(input: shape[rank - 1], output: size.width, scale: nil), op: "upsampleNearest2d")
    }

    /// Nearest-neighbour resize by `scale` (output `⌊H · scale⌋`); like PyTorch, the source index
    /// uses `1 / scale` rather than the ratio of the rounded sizes.
    public func upsampleNearest2d(scale: Float) -> Tensor {
        let size = scaledSize(scale, op: "upsampleNearest2d")
        checkImage("upsampleNearest2d", size: size)
        return resampled(rows: .nearest(input: shape[rank - 2], output: size.height, scale: scale),
                         columns: .nearest(input: shape[rank - 1], output: size.width, scale: scale), op: "upsampleNearest2d")
    }

    /// Bilinear resize of the last two axes to `size` (`interpolate(mode="bilinear")`). With
    /// `alignCorners` the corner pixels' centres map onto each other; without it the pixel areas'
    /// edges do (and sources outside the image are clamped to the edge).
    public func upsampleBilinear2d(size: IntOrPair, alignCorners: Bool = false) -> Tensor {
        checkImage("upsampleBilinear2d", size: size)
        return resampled(rows: .linear(input: shape[rank - 2], output: size.height, alignCorners: alignCorners, scale: nil),
                         columns: .linear(input: shape[rank - 1], output: size.width, alignCorners: alignCorners, scale: nil),
                         op: "upsampleBilinear2d")
    }

    /// Bilinear resize by `scale` (output `⌊H · scale⌋`).
    public func upsampleBilinear2d(scale: Float, alignCorners: Bool = false) -> Tensor {
        let size = scaledSize(scale, op: "upsampleBilinear2d")
        checkImage("upsampleBilinear2d", size: size)
        return resampled(rows: .linear(input: shape[rank - 2], output: size.height, alignCorners: alignCorners, scale: scale),
                         columns: .linear(input: shape[rank - 1], output: size.width, alignCorners: alignCorners, scale: scale),
                         op: "upsampleBilinear2d")
    }

    private func scaledSize(_ scale: Float, op: String) -> IntOrPair {
        check(rank >= 2, op, "needs an image [N, C, H, W], got shape \(shape)")
        check(scale > 0, op, "scale must be positive, got \(scale)")
        // PyTorch computes the size in double precision from the float scale.
        return IntOrPair(Int((Double(shape[rank - 2]) * Double(scale)).rounded(.down)),
                         Int((Double(shape[rank - 1]) * Double(scale)).rounded(.down)))
    }

    private func checkImage(_ op: String, size: IntOrPair) {
        check(rank == 3 || rank == 4, op, "needs an image [N, C, H, W] or [C, H, W], got shape \(shape)")
        check(size.height > 0 && size.width > 0, op, "output size must be positive, got \(size) for input shape \(shape)")
        check(shape[rank - 2] > 0 && shape[rank - 1] > 0, op, "input shape \(shape) has an empty plane")
    }
}

extension AxisResampling {
    /// PyTorch's source scale: `1 / scale` when a scale was given, otherwise `input / output`.
    private static func sourceScale(input: Int, output: Int, scale: Float?) -> Float {
        if let scale { return Float(1.0 / Double(scale)) }
        return Float(input) / Float(output)
    }

    /// Nearest neighbour as PyTorch's CPU kernel picks it (`nearest_idx`).
    static func nearest(input: Int, output: Int, scale: Float?) -> AxisResampling {
        var axis = AxisResampling(inputExtent: input)
        let ratio = sourceScale(input: input, output: output, scale: scale)
        for i in 0..<output {
            let source: Int
            if output == input { source = i } else if output == 2 * input { source = i / 2 } else {
                source = Swift.min(Int((Float(i) * ratio).rounded(.down)), input - 1)
            }
            axis.appendOutput([(source, 1)])
        }
        return axis
    }

    /// Linear interpolation as PyTorch's `area_pixel_compute_source_index` places it.
    static func linear(input: Int, output: Int, alignCorners: Bool, scale: Float?) -> AxisResampling {
        var axis = AxisResampling(inputExtent: input)
        let ratio: Float = alignCorners ? (output > 1 ? Float(input - 1) / Float(output - 1) : 0)
                                        : sourceScale(input: input, output: output, scale: scale)
        for i in 0..<output {
            let position = alignCorners ? ratio * Float(i) : Swift.max(ratio * (Float(i) + 0.5) - 0.5, 0)
            let lower = Swift.min(Int(position), input - 1)
            let upper = lower < input - 1 ? lower + 1 : lower
            let fraction = Swift.min(Swift.max(position - Float(lower), 0), 1)
            axis.appendOutput([(lower, 1 - fraction), (upper, fraction)])
        }
        return axis
    }
}
