import TesseraNN
import TesseraTensor

/// The w² rule (Montavon et al. 2017, deep Taylor decomposition; Montavon et al. 2019, Sect. 10.3):
/// `R_i = Σ_j w²_ij / Σ_i w²_ij · R_j`, for a first layer whose inputs are unbounded. Like the flat
/// rule it ignores the input values.
///
/// As zennit's `WSquare`, the bias is squared into the denominator too (`Σ_i w²_ij + b_j²`), so a
/// layer with biases does not conserve relevance exactly.
public struct WSquareRule: AffineRelevanceRule {
    /// Keeps the denominators away from zero (zennit's `stabilizer`).
    public var stabilizer: Float

    public init(stabilizer: Float = 1e-6) {
        self.stabilizer = stabilizer
    }

    public var description: String { "w²" }

    public func inputRelevance(affine layer: any AffineLayer, input: Tensor, relevance: Tensor) -> Tensor {
        let squared = layer.weight * layer.weight
        let z = layer.forward(Tensor.ones(input.shape), weight: squared, bias: layer.bias.map { $0 * $0 })
        return layer.transposed(relevance / stabilized(z, stabilizer), weight: squared, inputShape: input.shape)
    }
}
