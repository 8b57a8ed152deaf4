import Foundation

// Building blocks of networks, composed from primitives so their gradients (of every order) come
// from the primitives' rules; `linear` and `softmaxCrossEntropy` are fused primitives instead,
// because they are measurably faster (numbers at their call sites in TesseraNN).

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
    public func softmax(alongAxis axis: Int = -1) -> Tensor {
        let shifted = self - withoutGradients { max(alongAxes: [axis], keepDims: true) }
        let exponentials = shifted.exp()
        return exponentials / exponentials.sum(alongAxes: [axis], keepDims: true)
    }

    /// `x - log Σ exp(x)` along `axis`, computed stably.
    public func logSoftmax(alongAxis axis: Int = -1) -> Tensor {
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
