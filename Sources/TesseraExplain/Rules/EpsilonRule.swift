import TesseraNN
import TesseraTensor

/// LRP-ε (Bach et al. 2015; Montavon et al. 2019, eq. (2)): `R_j = Σ_k a_j w_jk / (ε + z_k) · R_k`,
/// ε taking the sign of `z_k`. The ε absorbs relevance where contributions are weak or cancel, so
/// the explanation keeps fewer, stronger factors; it is zennit's `Epsilon` (default ε = 1e-6).
public struct EpsilonRule: AffineRelevanceRule {
    /// Added to each denominator with its sign; larger values absorb more relevance.
    public var epsilon: Float

    public init(epsilon: Float = 1e-6) {
        self.epsilon = epsilon
    }

    public var description: String { "LRP-ε(\(epsilon))" }

    public func inputRelevance(affine layer: any AffineLayer, input: Tensor, relevance: Tensor) -> Tensor {
        let z = layer.forward(input, weight: layer.weight, bias: layer.bias)
        let s = relevance / stabilized(z, epsilon)
        return input * layer.transposed(s, weight: layer.weight, inputShape: input.shape)
    }
}
