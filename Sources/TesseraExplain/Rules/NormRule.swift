import TesseraNN
import TesseraTensor

/// LRP-0 for a linear layer without parameters — average (sum) pooling, a sum of branches — as
/// zennit's `Norm`: `z = layer(a)`, `s = R / z`, `c = Jᵀ s`, `R_in = a · c`, so each input gets the
/// share it contributed to each window's value (Montavon et al. 2019, Sect. 10.2.2).
public struct NormRule: RelevanceRule {
    /// Keeps the denominators away from zero (zennit's `stabilizer`).
    public var stabilizer: Float

    public init(stabilizer: Float = 1e-6) {
        self.stabilizer = stabilizer
    }

    public var description: String { "norm" }

    public func inputRelevance(layer: any Layer, input: Tensor, output: Tensor, relevance: Tensor) throws -> Tensor {
        withoutGradients {
            let s = relevance / stabilized(output, stabilizer)
            return input * transposedProduct({ layer($0) }, at: input, seed: s)
        }
    }
}
