import Foundation

// Building blocks of networks, composed from primitives so their gradients (of every order) come
// from the primitives' rules; `linear`, `softmaxCrossEntropy`, last-axis `softmax` and
// `layerNormalized` are fused primitives instead, because they are measurably faster (numbers in
// their doc comments), with backward rules that are themselves differentiable under `createGraph`.

extension Tensor {
    /// `x · Wᵀ + b` for `x` of shape `[..., inputSize]`, a weight `[outputSize, inputSize]` and an
    /// optional bias `[outputSize]` (a linear layer, weights stored as PyTorch does).
    ///
    /// One primitive instead of `matmul` then `+`: the bias is written into every output row and
    /// `sgemm` adds the product onto it (beta = 1), saving a pass over the output, a buffer and a
    /// graph node per layer; its gradient is the batch sum of the output gradient. The backward
    /// rule is built from differentiable ops, so higher-order gradients still work.
    public func linear(weight: Tensor, bias: Tensor?) -> Tensor {
        check(rank >= 1 && weight.rank == 2 && shape[rank - 1] == weight.shape[1], "linear",
              "needs an input [..., in] and a weight [out, in], got shapes \(shape) and \(weight.shape)")
        let (inputSize, outputSize) = (weight.shape[1], weight.shape[0])
        if let bias {
            check(bias.shape == [outputSize], "linear", "bias must have shape [\(outputSize)], got \(bias.shape)")
        }
        let rows = shape.dropLast().reduce(1, *)
        let outputShape = Array(shape.dropLast()) + [outputSize]
        let output = Tensor.empty(outputShape)
        let out = output.storage.pointer
        if let bias {
            for row in 0..<rows { (out + row * outputSize).update(from: bias.storage.pointer, count: outputSize) }
        }
        if rows > 0 && outputSize > 0 {
            if inputSize > 0 {
                BLAS.sgemm(transposeA: false, transposeB: true, m: rows, n: outputSize, k: inputSize,
                           a: storage.pointer, leadingA: inputSize, b: weight.storage.pointer, leadingB: inputSize,
                           beta: bias == nil ? 0 : 1, c: out, leadingC: outputSize)
            } else if bias == nil {
                out.update(repeating: 0, count: output.count)
            }
        }
        let input = self
        return output.recorded("linear", inputs: [input, weight] + (bias.map { [$0] } ?? [])) { g in
            let flatGradient = g.reshape([rows, outputSize])
            let flatInput = input.reshape([rows, inputSize])
            return [input.requiresGrad ? flatGradient.matmul(weight).reshape(input.shape) : nil,
                    weight.requiresGrad ? Tensor.matmul(flatGradient, flatInput, transposeA: true, transposeB: false) : nil]
                + (bias.map { [$0.requiresGrad ? flatGradient.sum(alongAxes: [0]) : nil] } ?? [])
        }
    }

    /// `exp(x) / Σ exp(x)` along `axis`, shifted by the (constant) maximum for stability.
    ///
    /// Along the last axis (attention, policies) a fused primitive: one pass per row forward and
    /// a first-order backward `y · (g − Σ g·y)` in one pass, where the composed form takes five
    /// ops and their buffers each way: forward + backward of `[32, 4, 64, 64]` attention scores
    /// in 1.2 ms instead of 2.6 (`tessera-bench normalization`). With `createGraph` the backward
    /// is built from the composed form (`composedSoftmax`), so it can be differentiated again. A row
    /// holding a NaN is NaN, as in PyTorch.
    public func softmax(alongAxis axis: Int = -1) -> Tensor {
        let axis = normalizeAxis(axis, rank: rank, op: "softmax")
        guard axis == rank - 1, count > 0 else { return composedSoftmax(alongAxis: axis) }
        let width = shape[axis], rows = count / width
        let output = Tensor.empty(shape)
        for row in 0..<rows {
            rowSoftmax(storage.pointer + row * width, output.storage.pointer + row * width, width)
        }
        let input = self
        return output.recorded("softmax", inputs: [input]) { [unowned output] g in
            if GradientMode.isEnabled {
                let y = input.composedSoftmax(alongAxis: axis)
                return [y * (g - (g * y).sum(alongAxes: [axis], keepDims: true))]
            }
            check(g.shape == input.shape, "softmax", "output gradient of shape \(g.shape) for an output of shape \(input.shape)")
            let gradient = Tensor.empty(input.shape)
            for row in 0..<rows {
                let offset = row * width
                rowSoftmaxBackward(output.storage.pointer + offset, g.storage.pointer + offset,
                                   gradient.storage.pointer + offset, width)
            }
            return [gradient]
        }
    }

    /// Softmax composed from `max`, `exp`, `sum` and `/`: any axis, gradients of every order from
    /// those ops' rules.
    func composedSoftmax(alongAxis axis: Int) -> Tensor {
        let shifted = self - withoutGradients { max(alongAxes: [axis], keepDims: true) }
        let exponentials = shifted.exp()
        return exponentials / exponentials.sum(alongAxes: [axis], keepDims: true)
    }

    /// Layer normalization (Ba et al., 2016) of each row of `featureCount` trailing elements:
    /// `(x − mean) / √(var + ε) · weight + bias`, with the biased variance, as PyTorch's
    /// `layer_norm`; `weight` and `bias` hold `featureCount` elements in any shape.
    ///
    /// A fused primitive: the composed form (mean, subtract, square, mean, rsqrt, multiply, scale,
    /// shift) costs eight passes and buffers forward and about twice that backward: forward +
    /// backward of `[2048, 128]` in 0.39 ms instead of 0.80 (`tessera-bench normalization`). The
    /// first-order backward is one pass per row, `x̂ = (x − mean)·r`, `ĝ = g·weight`,
    /// `dx = r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))`; with `createGraph` the same formula is built from
    /// differentiable ops, so it can be differentiated again.
    public func layerNormalized(featureCount: Int, weight: Tensor?, bias: Tensor?, epsilon: Float) -> Tensor {
        check(featureCount > 0 && rank >= 1 && count % featureCount == 0, "layerNormalized",
              "\(featureCount) features do not divide the rows of shape \(shape)")
        for (name, parameter) in [("weight", weight), ("bias", bias)] {
            guard let parameter else { continue }
            check(parameter.count == featureCount, "layerNormalized",
                  "\(name) of shape \(parameter.shape) must hold \(featureCount) elements for input \(shape)")
        }
        let width = featureCount, rows = count / featureCount
        let output = Tensor.empty(shape)
        var means = [Float](repeating: 0, count: rows), scales = [Float](repeating: 0, count: rows)
        // Absent weight and bias act as ones and zeros, so every row takes the same vector loop.
        let scale = weight?.scalars ?? [Float](repeating: 1, count: width)
        let shift = bias?.scalars ?? [Float](repeating: 0, count: width)
        scale.withUnsafeBufferPointer { w in
            shift.withUnsafeBufferPointer { b in
                for row in 0..<rows {
                    let x = storage.pointer + row * width, y = output.storage.pointer + row * width
                    let (mean, variance) = rowMoments(x, width)
                    let r = 1 / (variance + epsilon).squareRoot()
                    (means[row], scales[row]) = (mean, r)
                    mapRows(x, w.baseAddress!, b.baseAddress!, y, width) { x, w, b in (x - mean) * r * w + b }
                }
            }
        }
        let input = self
        let inputs = [input] + [weight, bias].compactMap { $0 }
        return output.recorded("layerNormalized", inputs: inputs) { g in
            if GradientMode.isEnabled {
                return composedLayerNormGradients(input: input, weight: weight, bias: bias, gradient: g,
                                                  featureCount: width, epsilon: epsilon)
            }
            check(g.shape == input.shape, "layerNormalized",
                  "output gradient of shape \(g.shape) for an output of shape \(input.shape)")
            let inputGradient = input.requiresGrad ? Tensor.empty(input.shape) : nil
            let weightGradient = weight.flatMap { $0.requiresGrad ? Tensor.zeros($0.shape) : nil }
            let biasGradient = bias.flatMap { $0.requiresGrad ? Tensor.zeros($0.shape) : nil }
            // Per row: x̂ and ĝ into scratch rows, their two means, then dx, and the weight and
            // bias gradients accumulated over rows.
            let normalized = Tensor.empty([width]), scaled = Tensor.empty([width])
            let (n, h) = (normalized.storage.pointer, scaled.storage.pointer)
            scale.withUnsafeBufferPointer { w in
                let w = w.baseAddress!
                for row in 0..<rows {
                    let x = input.storage.pointer + row * width, gy = g.storage.pointer + row * width
                    let (mean, r) = (means[row], scales[row])
                    mapRow(x, n, width) { ($0 - mean) * r }
                    mapRows(gy, w, w, h, width) { g, w, _ in g * w }
                    if let inputGradient {
                        let meanScaled = rowDot(h, nil, width) / Float(width)
                        let meanScaledNormalized = rowDot(h, n, width) / Float(width)
                        mapRows(h, n, n, inputGradient.storage.pointer + row * width, width) { h, n, _ in
                            r * (h - meanScaled - n * meanScaledNormalized)
                        }
                    }
                    if let weightGradient {
                        let dw = weightGradient.storage.pointer
                        mapRows(dw, gy, n, dw, width) { dw, g, n in dw + g * n }
                    }
                    if let biasGradient {
                        let db = biasGradient.storage.pointer
                        mapRows(db, gy, gy, db, width) { db, g, _ in db + g }
                    }
                }
            }
            return [inputGradient] + (weight == nil ? [] : [weightGradient]) + (bias == nil ? [] : [biasGradient])
        }
    }

    /// `x - log Σ exp(x)` along `axis`, computed stably.
    ///
    /// Along the last axis (policies' log-probabilities, cross entropy with ignored targets) a
    /// fused primitive like ``softmax(alongAxis:)``: one pass per row each way, backward
    /// `g − softmax(x) · Σ g`; with `createGraph` the backward is built from differentiable ops.
    public func logSoftmax(alongAxis axis: Int = -1) -> Tensor {
        let axis = normalizeAxis(axis, rank: rank, op: "logSoftmax")
        guard axis == rank - 1, count > 0 else { return composedLogSoftmax(alongAxis: axis) }
        let width = shape[axis], rows = count / width
        let output = Tensor.empty(shape)
        for row in 0..<rows {
            let x = storage.pointer + row * width
            // (x − shift) − log Σ: the shift and the log-sum kept apart, so a large shift does
            // not round the small log-sum away.
            let (shift, logTotal) = rowLogSumExp(x, width)
            mapRow(x, output.storage.pointer + row * width, width) { ($0 - shift) - logTotal }
        }
        let input = self
        return output.recorded("logSoftmax", inputs: [input]) { [unowned output] g in
            if GradientMode.isEnabled {
                return [g - input.composedSoftmax(alongAxis: axis) * g.sum(alongAxes: [axis], keepDims: true)]
            }
            check(g.shape == input.shape, "logSoftmax", "output gradient of shape \(g.shape) for an output of shape \(input.shape)")
            let gradient = Tensor.empty(input.shape)
            for row in 0..<rows {
                let offset = row * width
                let (y, gy) = (output.storage.pointer + offset, g.storage.pointer + offset)
                let total = rowDot(gy, nil, width)
                mapRows(gy, y, y, gradient.storage.pointer + offset, width) { g, y, _ in g - exponential(y) * total }
            }
            return [gradient]
        }
    }

    /// Log-softmax composed from `max`, `exp`, `sum` and `log`: any axis.
    func composedLogSoftmax(alongAxis axis: Int) -> Tensor {
        let shifted = self - withoutGradients { max(alongAxes: [axis], keepDims: true) }
        return shifted - shifted.exp().sum(alongAxes: [axis], keepDims: true).log()
    }

    /// `log Σ_c exp(x_c) − x_label` for each row of `self` (`[..., classes]`), with class-index
    /// `labels` of shape `self.shape.dropLast()`: the per-sample cross entropy of softmax(logits).
    ///
    /// One pass per row instead of the ~10 ops of `logSoftmax` and a gather, and a first-order
    /// backward `g · (softmax − onehot)` in one pass from the saved `log Σ exp` of each row. With
    /// `createGraph` the backward is composed from `softmax`, so it can be differentiated again.
    public func softmaxCrossEntropy(labels: Tensor) -> Tensor {
        check(rank >= 1 && labels.shape == Array(shape.dropLast()), "softmaxCrossEntropy",
              "labels of shape \(labels.shape) must be \(Array(shape.dropLast())) for logits \(shape)")
        let classes = shape[rank - 1]
        let rows = labels.count
        let x = storage.pointer, label = labels.storage.pointer
        var classIndices = [Int](repeating: 0, count: rows)
        for row in 0..<rows {
            let index = Int(exactly: label[row]) ?? -1
            check(index >= 0 && index < classes, "softmaxCrossEntropy",
                  "label \(label[row]) is not a class index in 0..<\(classes)")
            classIndices[row] = index
        }
        // Per row, the shift (the maximum) and log Σ exp(x − shift), kept apart so that a loss
        // near 0 is not the difference of two large numbers.
        let losses = Tensor.empty(labels.shape)
        var shifts = [Float](repeating: 0, count: rows), logTotals = [Float](repeating: 0, count: rows)
        for row in 0..<rows {
            let logits = x + row * classes
            (shifts[row], logTotals[row]) = rowLogSumExp(logits, classes)
            losses.storage.pointer[row] = logTotals[row] - (logits[classIndices[row]] - shifts[row])
        }
        let input = self
        return losses.recorded("softmaxCrossEntropy", inputs: [input]) { g in
            let perRow = g.reshape([rows, 1])
            if GradientMode.isEnabled {
                let oneHot = labels.reshape([rows]).oneHot(classes: classes)
                return [((input.reshape([rows, classes]).softmax(alongAxis: -1) - oneHot) * perRow).reshape(input.shape)]
            }
            let gradient = Tensor.empty(input.shape)
            for row in 0..<rows {
                let (source, destination) = (x + row * classes, gradient.storage.pointer + row * classes)
                let (scale, shift, logTotal) = (perRow.storage.pointer[row], shifts[row], logTotals[row])
                mapRow(source, destination, classes) { scale * exponential(($0 - shift) - logTotal) }
                destination[classIndices[row]] -= scale
            }
            return [gradient]
        }
    }

    /// Zeroes each element with probability `probability` and scales the rest by `1 / (1 - p)`
    /// (inverted dropout, so evaluation needs no rescaling). Identity when `training` is false.
    public func dropout(probability: Float, training: Bool = true, generator: inout RandomGenerator) -> Tensor {
        check(probability >= 0 && probability < 1, "dropout", "probability must be in [0, 1), got \(probability)")
        guard training && probability > 0 else { return self }
        let keep = Tensor.bernoulli(shape, probability: 1 - probability, generator: &generator)
        return self * (keep / (1 - probability))
    }

    /// Rows of the table `self` (`[vocabulary, dimensions]`) for each index in `indices`; the
    /// result has shape `indices.shape + [dimensions]`.
    public func embeddingLookup(_ indices: Tensor) -> Tensor {
        check(rank == 2, "embeddingLookup", "the table must be [vocabulary, dimensions], got shape \(shape)")
        return indexSelect(alongAxis: 0, indices: indices.reshape([indices.count])).reshape(indices.shape + [shape[1]])
    }
}

/// The gradients of ``Tensor/layerNormalized(featureCount:weight:bias:epsilon:)`` for the output
/// gradient `gradient`, built from differentiable ops (for `createGraph`): input, then weight and
/// bias when given.
private func composedLayerNormGradients(input: Tensor, weight: Tensor?, bias: Tensor?, gradient: Tensor,
                                        featureCount: Int, epsilon: Float) -> [Tensor?] {
    let rows = input.count / featureCount
    let x = input.reshape([rows, featureCount]), g = gradient.reshape([rows, featureCount])
    let centered = x - x.mean(alongAxes: [1], keepDims: true)
    let r = ((centered * centered).mean(alongAxes: [1], keepDims: true) + epsilon).rsqrt()
    let normalized = centered * r
    let scaled = weight.map { g * $0.reshape([featureCount]) } ?? g
    let inputGradient = r * (scaled - scaled.mean(alongAxes: [1], keepDims: true)
        - normalized * (scaled * normalized).mean(alongAxes: [1], keepDims: true))
    return [inputGradient.reshape(input.shape)]
        + (weight.map { [(g * normalized).sum(alongAxes: [0]).reshape($0.shape)] } ?? [])
        + (bias.map { [g.sum(alongAxes: [0]).reshape($0.shape)] } ?? [])
}

/// Mean and biased variance of `count` floats (two passes, so the variance is not the difference
/// of two large sums).
private func rowMoments(_ x: UnsafePointer<Float>, _ count: Int) -> (mean: Float, variance: Float) {
    let mean = rowDot(x, nil, count) / Float(count)
    var lanes = Float8(), c = 0
    while c + 8 <= count {
        let centered = UnsafeRawPointer(x + c).loadUnaligned(as: Float8.self) - mean
        lanes += centered * centered
        c += 8
    }
    var squares = lanes.sum()
    while c < count { squares += (x[c] - mean) * (x[c] - mean); c += 1 }
    return (mean, squares / Float(count))
}

/// `Σ a[c]·b[c]` over `count` floats, or `Σ a[c]` without `b`, in eight lanes.
private func rowDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>?, _ count: Int) -> Float {
    var lanes = Float8(), c = 0
    while c + 8 <= count {
        let left = UnsafeRawPointer(a + c).loadUnaligned(as: Float8.self)
        lanes += b.map { left * UnsafeRawPointer($0 + c).loadUnaligned(as: Float8.self) } ?? left
        c += 8
    }
    var total = lanes.sum()
    while c < count { total += a[c] * (b?[c] ?? 1); c += 1 }
    return total
}

/// `destination[c] = f(a[c], b[c], d[c])` for `count` floats, eight at a time (destination may be
/// one of the sources).
private func mapRows(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: UnsafePointer<Float>,
                     _ destination: UnsafeMutablePointer<Float>, _ count: Int, _ f: (Float8, Float8, Float8) -> Float8) {
    func load(_ p: UnsafePointer<Float>, _ c: Int) -> Float8 { UnsafeRawPointer(p + c).loadUnaligned(as: Float8.self) }
    var c = 0
    while c + 8 <= count {
        UnsafeMutableRawPointer(destination + c).storeBytes(of: f(load(a, c), load(b, c), load(d, c)), as: Float8.self)
        c += 8
    }
    while c < count {
        destination[c] = f(Float8(repeating: a[c]), Float8(repeating: b[c]), Float8(repeating: d[c]))[0]
        c += 1
    }
}

/// `y = exp(x − max) / Σ exp(x − max)` over `count` floats.
private func rowSoftmax(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
    var peakLanes = Float8(repeating: -.infinity), c = 0
    while c + 8 <= count {
        let lanes = UnsafeRawPointer(x + c).loadUnaligned(as: Float8.self)
        peakLanes.replace(with: lanes, where: lanes .> peakLanes)  // a NaN is skipped here and poisons the sum
        c += 8
    }
    var peak = peakLanes[0]
    for lane in 1..<8 { peak = Swift.max(peak, peakLanes[lane]) }
    while c < count { peak = Swift.max(peak, x[c]); c += 1 }
    mapRow(x, y, count) { exponential($0 - peak) }
    let reciprocal = 1 / rowDot(y, nil, count)
    mapRow(y, y, count) { $0 * reciprocal }
}

/// `dx = y · (g − Σ g·y)` over `count` floats: the softmax's vector–Jacobian product.
private func rowSoftmaxBackward(_ y: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                                _ count: Int) {
    let dot = rowDot(g, y, count)
    mapRows(y, g, g, dx, count) { y, g, _ in y * (g - dot) }
}

/// `log Σ exp(x)` over `count` floats as `shift + logTotal`, with `shift` their maximum; NaN if any is NaN.
private func rowLogSumExp(_ x: UnsafePointer<Float>, _ count: Int) -> (shift: Float, logTotal: Float) {
    var peak = -Float.infinity
    for c in 0..<count where x[c] > peak { peak = x[c] }
    if !peak.isFinite { peak = 0 }  // all −∞ (or +∞): no shift, as logSumExp does
    var lanes = Float8()
    var c = 0
    while c + 8 <= count {
        lanes += exponential(UnsafeRawPointer(x + c).loadUnaligned(as: Float8.self) - peak)
        c += 8
    }
    var total = lanes.sum()
    while c < count { total += Foundation.exp(x[c] - peak); c += 1 }
    return (peak, Foundation.log(total))
}

/// `destination[c] = f(source[c])` for `count` floats, eight at a time.
@inline(__always)
private func mapRow(_ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<Float>, _ count: Int,
                    _ f: (Float8) -> Float8) {
    var c = 0
    while c + 8 <= count {
        let result = f(UnsafeRawPointer(source + c).loadUnaligned(as: Float8.self))
        UnsafeMutableRawPointer(destination + c).storeBytes(of: result, as: Float8.self)
        c += 8
    }
    if c < count {
        var lanes = Float8()
        for lane in 0..<(count - c) { lanes[lane] = source[c + lane] }
        let result = f(lanes)
        for lane in 0..<(count - c) { destination[c + lane] = result[lane] }
    }
}
