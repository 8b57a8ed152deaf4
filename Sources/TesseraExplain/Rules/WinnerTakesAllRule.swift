import TesseraNN
import TesseraTensor

/// Max pooling: all of a window's relevance goes to its largest input (the first one on ties), the
/// winner-take-all redistribution of Montavon et al. 2019, Sect. 10.1 footnote, and what zennit does
/// by default — its composites give max pooling no rule, so relevance follows the gradient, which
/// routes to the argmax. Written as that gradient (`R_in = Jᵀ R`), so it applies to any layer whose
/// Jacobian selects inputs (max pooling, a gather).
public struct WinnerTakesAllRule: RelevanceRule {
    public init() {}

    public var description: String { "winner-takes-all" }

    public func inputRelevance(layer: any Layer, input: Tensor, output: Tensor, relevance: Tensor) throws -> Tensor {
        withoutGradients { transposedProduct({ layer($0) }, at: input, seed: relevance) }
    }
}
