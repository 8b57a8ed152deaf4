import TesseraGraph
import TesseraNN
import TesseraTensor

/// The node classifier a recipe's `model` section describes, for `inputSize` features and
/// `classCount` classes.
func makeNodeClassifier(_ section: GraphModelSection, inputSize: Int, classCount: Int,
                        generator: inout RandomGenerator) throws -> NodeClassifier {
    let widths = [inputSize] + section.hiddenSizes
    if section.kind == .contraction {
        // Spectral normalisation bounds the transition's Lipschitz constant by contractionFactor, so
        // the iteration converges whatever the weights (ContractionGNN's doc comment).
        let layer = ContractionGNN(labelSize: inputSize, stateSize: section.stateSize, outputSize: classCount,
                                   contractionBound: section.contractionFactor, penaltyThreshold: section.contractionFactor,
                                   solver: FixedPointSolver(tolerance: section.tolerance, maximumIterations: section.maximumIterations),
                                   generator: &generator)
        return NodeClassifier(layers: [layer], activation: .identity, dropout: section.dropout, generator: &generator)
    }
    var layers: [any GraphLayer] = []
    let outputs = section.linearHead ? [] : [classCount]
    let allWidths = widths + outputs
    for (index, (input, output)) in zip(allWidths, allWidths.dropFirst()).enumerated() {
        let isOutput = !section.linearHead && index == allWidths.count - 2
        layers.append(graphLayer(section, input: input, output: output, isOutput: isOutput, generator: &generator))
    }
    let head = section.linearHead ? Linear(section.hiddenSizes.last!, classCount, generator: &generator) : nil
    return NodeClassifier(layers: layers, head: head, activation: section.activation, dropout: section.dropout, generator: &generator)
}

/// The graph-level network of a recipe: hidden graph layers, pooling at every depth, and an MLP
/// readout to `outputSize` values (classes, or 1 for regression).
func makeGraphClassifier(_ section: GraphModelSection, inputSize: Int, outputSize: Int,
                         generator: inout RandomGenerator) throws -> GraphClassifier {
    let widths = [inputSize] + section.hiddenSizes
    let layers = zip(widths, widths.dropFirst()).map { input, output in
        graphLayer(section, input: input, output: output, isOutput: false, generator: &generator)
    }
    let pooledWidth = widths.reduce(0, +)
    let head = MLP(sizes: [pooledWidth, section.hiddenSizes.last!, outputSize], activation: section.activation, generator: &generator)
    return GraphClassifier(layers: layers, readoutHead: head, activation: section.activation,
                           readout: Aggregation(rawValue: section.readout)!)
}

/// One graph layer of the section's kind from `input` to `output` features. GAT's hidden layers
/// concatenate `headCount` heads of `output / headCount` features; its output layer averages.
private func graphLayer(_ section: GraphModelSection, input: Int, output: Int, isOutput: Bool,
                        generator: inout RandomGenerator) -> any GraphLayer {
    switch section.kind {
    case .gcn:
        return GCNConvolution(input, output, generator: &generator)
    case .gat:
        let heads = isOutput ? 1 : section.headCount
        precondition(isOutput || output % heads == 0, "GAT hidden width \(output) must split into \(heads) heads")
        return GraphAttention(input, isOutput ? output : output / heads, heads: heads, concatenateHeads: !isOutput,
                              attentionDropout: section.dropout, generator: &generator)
    case .gin:
        // Xu et al.'s GIN-ε: a learned ε and a 2-layer MLP per layer.
        return GINConvolution(MLP(sizes: [input, output, output], activation: section.activation, generator: &generator),
                              learnEpsilon: true)
    case .chebyshev:
        return ChebyshevConvolution(inputSize: input, outputSize: output, order: section.chebyshevOrder, generator: &generator)
    case .mlp:
        return NodeLinear(input, output, generator: &generator)
    case .contraction:
        preconditionFailure("the contraction GNN is one layer, built by makeNodeClassifier")
    }
}
