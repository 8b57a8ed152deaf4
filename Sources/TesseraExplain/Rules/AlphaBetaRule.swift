import TesseraNN
import TesseraTensor

/// The αβ rule (Bach et al. 2015, eq. (60); Montavon et al. 2019, Sect. 10.2.3):
/// `R_j = Σ_k (α (a_j w_jk)⁺ / Σ_j (a_j w_jk)⁺ − β (a_j w_jk)⁻ / Σ_j (a_j w_jk)⁻) · R_k`.
///
/// Positive and negative contributions are normalised separately; the rule conserves relevance
/// when `α − β = 1` (zennit requires it; here other values are allowed for experiments).
/// `α = 1, β = 0` is the z⁺ rule (zennit's `ZPlus`). As in zennit, a contribution's sign is that of
/// `a_j w_jk` (so negative inputs count too) and the bias joins the part its sign matches.
public struct AlphaBetaRule: AffineRelevanceRule {
    /// Weight of the positive contributions.
    public var alpha: Float
    /// Weight of the negative contributions (subtracted).
    public var beta: Float
    /// Keeps the denominators away from zero (zennit's `stabilizer`).
    public var stabilizer: Float

    public init(alpha: Float = 2, beta: Float = 1, stabilizer: Float = 1e-6) {
        precondition(alpha >= 0 && beta >= 0, "AlphaBetaRule: alpha \(alpha) and beta \(beta) must be non-negative")
        self.alpha = alpha
        self.beta = beta
        self.stabilizer = stabilizer
    }

    /// z⁺ (Montavon et al. 2017, deep Taylor decomposition): positive contributions only.
    public static func zPlus(stabilizer: Float = 1e-6) -> AlphaBetaRule { AlphaBetaRule(alpha: 1, beta: 0, stabilizer: stabilizer) }
    /// α = 2, β = 1, the common choice for the lower layers of a CNN.
    public static func alpha2Beta1(stabilizer: Float = 1e-6) -> AlphaBetaRule { AlphaBetaRule(alpha: 2, beta: 1, stabilizer: stabilizer) }

    public var description: String { beta == 0 && alpha == 1 ? "z⁺" : "LRP-α\(alpha)β\(beta)" }

    public func inputRelevance(affine layer: any AffineLayer, input: Tensor, relevance: Tensor) -> Tensor {
        let (weightUp, weightDown) = (layer.weight.positivePart, layer.weight.negativePart)
        let (positive, negative) = (input.positivePart, input.negativePart)
        let shape = input.shape
        // a⁺w⁺ + a⁻w⁻ (+ b⁺) are the positive contributions, a⁺w⁻ + a⁻w⁺ (+ b⁻) the negative ones.
        let zUp = layer.forward(positive, weight: weightUp, bias: layer.bias?.positivePart) + layer.forward(negative, weight: weightDown, bias: nil)
        let sUp = relevance / stabilized(zUp, stabilizer)
        var result = alpha * (positive * layer.transposed(sUp, weight: weightUp, inputShape: shape)
                              + negative * layer.transposed(sUp, weight: weightDown, inputShape: shape))
        if beta != 0 {
            let zDown = layer.forward(positive, weight: weightDown, bias: layer.bias?.negativePart) + layer.forward(negative, weight: weightUp, bias: nil)
            let sDown = relevance / stabilized(zDown, stabilizer)
            result = result - beta * (positive * layer.transposed(sDown, weight: weightDown, inputShape: shape)
                                      + negative * layer.transposed(sDown, weight: weightUp, inputShape: shape))
        }
        return result
    }
}
