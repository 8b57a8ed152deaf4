/// Why an explanation could not be computed. Every case names what to fix.
public enum ExplainError: Error, Equatable, CustomStringConvertible {
    /// The composite has no rule for this layer (named by its dotted path).
    case noRule(layer: String, type: String)
    /// A rule was given a layer type it is not defined for (an affine rule on a pooling layer).
    case ruleDoesNotApply(rule: String, layer: String, type: String)
    /// A composite name that is not one of `known`, with the closest known name if one is close.
    case unknownComposite(name: String, suggestion: String?, known: [String])
    /// The input batch is not `[N] + expected`.
    case inputShape(expected: [Int], got: [Int])
    /// An output index outside `0..<outputCount`.
    case targetOutOfRange(index: Int, outputCount: Int)
    /// One target per row was expected.
    case targetCount(expected: Int, got: Int)
    /// A given output relevance is not shaped like the model's output.
    case relevanceShape(expected: [Int], got: [Int])
    /// The model's output is not `[N, outputs]`, so an output index has no meaning.
    case outputNotRankTwo(shape: [Int])
    /// A model part the explainer cannot walk (a residual block with a projection shortcut).
    case unsupportedLayer(layer: String, reason: String)
    /// An argument out of its range (integrated gradients' step count, SmoothGrad's samples).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .noRule(let layer, let type):
            return "no relevance rule for layer '\(layer)' of type \(type); give the composite a rule for it or make the layer RelevancePropagating"
        case .ruleDoesNotApply(let rule, let layer, let type):
            return "rule \(rule) does not apply to layer '\(layer)' of type \(type)"
        case .unknownComposite(let name, let suggestion, let known):
            let hint = suggestion.map { " (did you mean '\($0)'?)" } ?? ""
            return "unknown composite '\(name)'\(hint); known composites: \(known.joined(separator: ", "))"
        case .inputShape(let expected, let got):
            return "input shape \(got) must be [batch] + \(expected)"
        case .targetOutOfRange(let index, let outputCount):
            return "output index \(index) is out of range: the model has \(outputCount) outputs (0...\(outputCount - 1))"
        case .targetCount(let expected, let got):
            return "\(got) targets given for a batch of \(expected) rows; give one per row"
        case .relevanceShape(let expected, let got):
            return "output relevance shape \(got) must equal the output shape \(expected)"
        case .outputNotRankTwo(let shape):
            return "the model's output has shape \(shape); an output index needs outputs [batch, count] (give an output relevance instead)"
        case .unsupportedLayer(let layer, let reason):
            return "layer '\(layer)' cannot be explained: \(reason)"
        case .invalidArgument(let message):
            return message
        }
    }
}
