import TesseraNN
import TesseraTensor

/// LRP-0 (Bach et al. 2015; Montavon et al. 2019, eq. (1)): `R_j = Σ_k a_j w_jk / z_k · R_k` with
/// `z_k = Σ_j a_j w_jk + b_k`. Conservative up to the bias's share; on a ReLU network it equals
/// gradient × input. A neuron with `z_k = 0` passes no relevance (rather than dividing by zero).
public struct ZeroRule: AffineRelevanceRule {
    public init() {}

    public var description: String { "LRP-0" }

    public func inputRelevance(affine layer: any AffineLayer, input: Tensor, relevance: Tensor) -> Tensor {
        let z = layer.forward(input, weight: layer.weight, bias: layer.bias)
        let isZero = z.equal(0)
        let s = relevance * (1 - isZero) / (z + isZero)
        return input * layer.transposed(s, weight: layer.weight, inputShape: input.shape)
    }
}
