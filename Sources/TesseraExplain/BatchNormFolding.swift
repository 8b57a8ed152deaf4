import TesseraNN
import TesseraTensor

/// Canonisation (Montavon et al. 2019, Sect. 10.4; zennit's `SequentialMergeBatchNorm`): a batch
/// norm in evaluation mode right after an affine layer is itself affine, so the two are one affine
/// layer, and the rules apply to that layer as a whole.
///
/// With `scale = γ / √(runningVariance + ε)`: `w' = w · scale` (per output channel) and
/// `b' = (b − runningMean) · scale + β`.
public func foldBatchNorm(_ norm: BatchNorm, into layer: any AffineLayer) -> (weight: Tensor, bias: Tensor) {
    withoutGradients {
        let channels = norm.featureCount
        let scale = (norm.weight ?? Tensor.ones([channels])) * (norm.runningVariance.value + norm.epsilon).rsqrt()
        let weight = layer.weight.detached()
        let perOutput = scale.reshape([channels] + [Int](repeating: 1, count: weight.rank - 1))
        let bias = layer.bias?.detached() ?? Tensor.zeros([channels])
        return (weight * perOutput, (bias - norm.runningMean.value) * scale + (norm.bias ?? Tensor.zeros([channels])))
    }
}

/// An affine layer followed by a batch norm, folded into one: the original layer's map with the
/// folded parameters. Made by the ``Explainer``; it never changes the model's own parameters.
public final class FoldedAffineLayer: AffineLayer {
    /// The layer whose map this is (a `Linear` or a convolution).
    public let original: any AffineLayer
    public let weight: Tensor
    public let bias: Tensor?

    public init(_ original: any AffineLayer, foldingIn norm: BatchNorm) {
        self.original = original
        (weight, bias) = foldBatchNorm(norm, into: original)
    }

    public var isConvolution: Bool { original.isConvolution }

    public func affine(_ input: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        original.affine(input, weight: weight, bias: bias)
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        original.affine(input, weight: weight, bias: bias)
    }
}

/// `layers` with every (affine layer, batch norm) pair replaced by one ``FoldedAffineLayer`` named
/// after the affine layer; residual bodies are folded too.
public func foldingBatchNorms(_ layers: [ExplainableLayer]) -> [ExplainableLayer] {
    var result: [ExplainableLayer] = []
    for entry in layers {
        if let body = entry.residualBody {
            result.append(.residual(name: entry.name, body: foldingBatchNorms(body)))
        } else if let norm = entry.layer as? BatchNorm, let last = result.last, last.residualBody == nil,
                  let affine = last.layer as? any AffineLayer, affine.weight.shape[0] == norm.featureCount {
            result[result.count - 1] = ExplainableLayer(name: last.name, layer: FoldedAffineLayer(affine, foldingIn: norm))
        } else {
            result.append(entry)
        }
    }
    return result
}
