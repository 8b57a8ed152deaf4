import TesseraNN
import TesseraTensor

/// The z^B rule for a bounded input layer (Montavon et al., "Explaining Nonlinear Classification
/// Decisions with Deep Taylor Decomposition", Pattern Recognition 2017; Montavon et al. 2019,
/// Sect. 10.3): with every input in `[l, h]`,
/// `R_i = Σ_j (x_i w_ij − l_i w⁺_ij − h_i w⁻_ij) / Σ_i (x_i w_ij − l_i w⁺_ij − h_i w⁻_ij) · R_j`.
///
/// Meant for the first layer (pixels between 0 and 1, or the digits' 0…16). The bias cancels from
/// the denominator: zennit computes `(xw + b) − (lw⁺ + b⁺) − (hw⁻ + b⁻)`, and `b = b⁺ + b⁻`.
public struct BoxRule: AffineRelevanceRule {
    /// The lowest value each input can take; a scalar, or a tensor that broadcasts to one sample.
    public var low: Tensor
    /// The highest value each input can take.
    public var high: Tensor
    /// Keeps the denominators away from zero (zennit's `stabilizer`).
    public var stabilizer: Float

    public init(low: Float, high: Float, stabilizer: Float = 1e-6) {
        self.init(low: Tensor(low), high: Tensor(high), stabilizer: stabilizer)
    }

    public init(low: Tensor, high: Tensor, stabilizer: Float = 1e-6) {
        self.low = low
        self.high = high
        self.stabilizer = stabilizer
    }

    public var description: String { "z^B" }

    public func inputRelevance(affine layer: any AffineLayer, input: Tensor, relevance: Tensor) -> Tensor {
        let lows = Tensor.zeros(input.shape) + low, highs = Tensor.zeros(input.shape) + high
        let (weight, weightUp, weightDown) = (layer.weight, layer.weight.positivePart, layer.weight.negativePart)
        let z = layer.forward(input, weight: weight, bias: nil) - layer.forward(lows, weight: weightUp, bias: nil)
            - layer.forward(highs, weight: weightDown, bias: nil)
        let s = relevance / stabilized(z, stabilizer)
        let shape = input.shape
        return input * layer.transposed(s, weight: weight, inputShape: shape)
            - lows * layer.transposed(s, weight: weightUp, inputShape: shape)
            - highs * layer.transposed(s, weight: weightDown, inputShape: shape)
    }
}
