import TesseraNN
import TesseraTensor

/// The flat rule (Lapuschkin et al., "Unmasking Clever Hans Predictors and Assessing What Machines
/// Really Learn", Nature Communications 2019): every input of a neuron's receptive field gets an
/// equal share, `R_i = Σ_j 1 / Σ_i 1 · R_j` — the w² rule with all weights 1 and no bias. It ignores
/// the input values, so it only says *where* the network looked; a first-layer rule.
public struct FlatRule: AffineRelevanceRule {
    /// Keeps the denominators away from zero (zennit's `stabilizer`).
    public var stabilizer: Float

    public init(stabilizer: Float = 1e-6) {
        self.stabilizer = stabilizer
    }

    public var description: String { "flat" }

    public func inputRelevance(affine layer: any AffineLayer, input: Tensor, relevance: Tensor) -> Tensor {
        let ones = Tensor.ones(layer.weight.shape)
        // The ones input is zero-padded like any input, so a border neuron counts only the taps inside.
        let z = layer.forward(Tensor.ones(input.shape), weight: ones, bias: nil)
        return layer.transposed(relevance / stabilized(z, stabilizer), weight: ones, inputShape: input.shape)
    }
}
