// Building blocks of networks composed from primitives, so their gradients (of every order) come
// from the primitives' rules.

extension Tensor {
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
