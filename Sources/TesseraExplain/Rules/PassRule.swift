import TesseraNN
import TesseraTensor

/// Relevance passes through unchanged (Montavon et al. 2019, Sect. 10.1: the activation is part of
/// the neuron, so its relevance is the neuron's). For elementwise layers — ReLU and the other
/// activations, dropout in evaluation, identity, an unfolded batch norm (as zennit's `Pass`) — and
/// for reshapes such as `Flatten`, where the relevance takes the input's shape.
public struct PassRule: RelevanceRule {
    public init() {}

    public var description: String { "pass" }

    public func inputRelevance(layer: any Layer, input: Tensor, output: Tensor, relevance: Tensor) throws -> Tensor {
        guard input.count == output.count else {
            throw ExplainError.ruleDoesNotApply(rule: description, layer: "", type: "\(type(of: layer)) (maps \(input.shape) to \(output.shape))")
        }
        return relevance.reshape(input.shape)
    }
}
