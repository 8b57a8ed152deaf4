import TesseraNN
import TesseraTensor

/// LRP-γ (Montavon et al. 2019, eq. (3)): `R_j = Σ_k a_j (w_jk + γ w⁺_jk) / Σ_j a_j (w_jk + γ w⁺_jk) · R_k`,
/// favouring positive contributions so explanations are steadier; γ → ∞ gives z⁺.
///
/// This is zennit's generalised form (Andéol et al. 2021), which also allows negative inputs: a
/// neuron with a positive output spreads its relevance over the contributions that push it up —
/// `a⁺ (w + γw⁺)` (with `b + γb⁺`) and `a⁻ (w + γw⁻)` — and one with a negative output over those
/// that push it down — `a⁺ (w + γw⁻)` (with `b + γb⁻`) and `a⁻ (w + γw⁺)`. With only positive
/// inputs it is the rule of the paper.
public struct GammaRule: AffineRelevanceRule {
    /// How much the positive (for positive outputs) contributions are amplified.
    public var gamma: Float
    /// Keeps the denominators away from zero (zennit's `stabilizer`).
    public var stabilizer: Float

    public init(gamma: Float = 0.25, stabilizer: Float = 1e-6) {
        self.gamma = gamma
        self.stabilizer = stabilizer
    }

    public var description: String { "LRP-γ(\(gamma))" }

    public func inputRelevance(affine layer: any AffineLayer, input: Tensor, relevance: Tensor) -> Tensor {
        let (weight, bias) = (layer.weight, layer.bias)
        let weightUp = weight + gamma * weight.positivePart, weightDown = weight + gamma * weight.negativePart
        let biasUp = bias.map { $0 + gamma * $0.positivePart }, biasDown = bias.map { $0 + gamma * $0.negativePart }
        let shape = input.shape
        let z = layer.forward(input, weight: weight, bias: bias)
        // After a ReLU or a pooling of one, the input has no negative part: half the passes vanish.
        guard input.min().scalars[0] < 0 else {
            let sUp = z.greater(0) * relevance / stabilized(layer.forward(input, weight: weightUp, bias: biasUp), stabilizer)
            let sDown = z.less(0) * relevance / stabilized(layer.forward(input, weight: weightDown, bias: biasDown), stabilizer)
            return input * (layer.transposed(sUp, weight: weightUp, inputShape: shape) + layer.transposed(sDown, weight: weightDown, inputShape: shape))
        }
        let (positive, negative) = (input.positivePart, input.negativePart)
        let zUp = layer.forward(positive, weight: weightUp, bias: biasUp) + layer.forward(negative, weight: weightDown, bias: nil)
        let zDown = layer.forward(positive, weight: weightDown, bias: biasDown) + layer.forward(negative, weight: weightUp, bias: nil)
        let sUp = z.greater(0) * relevance / stabilized(zUp, stabilizer)
        let sDown = z.less(0) * relevance / stabilized(zDown, stabilizer)

        let onPositive = layer.transposed(sUp, weight: weightUp, inputShape: shape) + layer.transposed(sDown, weight: weightDown, inputShape: shape)
        let onNegative = layer.transposed(sUp, weight: weightDown, inputShape: shape) + layer.transposed(sDown, weight: weightUp, inputShape: shape)
        return positive * onPositive + negative * onNegative
    }
}
