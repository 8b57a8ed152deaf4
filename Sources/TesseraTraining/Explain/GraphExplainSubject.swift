import Foundation
import TesseraCheckpoint
import TesseraExplain
import TesseraGraph
import TesseraNN
import TesseraPicture
import TesseraTensor

/// A GCN or GIN checkpoint explained by GNN-LRP (Schnake et al. 2021): the relevance of walks
/// through the graph, drawn on it. `--input N` is a node for node classification (the karate club,
/// the citation graph) and a held-out graph for graph classification. The `.npy` holds each node's
/// relevance (the walks starting at it summed); the JSON names the ten most relevant walks.
///
/// GNN-LRP takes one rule in all its linear maps; the composite names choose it: `epsilon-gamma-box`
/// the paper's γ = 0.25, `epsilon-plus` ε = 1e-6, `epsilon-alpha2-beta1` α2β1, `zero` LRP-0.
public struct GraphExplainSubject: ExplainSubject {
    public let summary: String
    private let explainsNodes: Bool
    private let nodeClassifier: NodeClassifier?
    private let graphClassifier: GraphClassifier?
    /// The one graph of node classification, or the held-out graphs of graph classification.
    private let graphs: [Graph]

    init(recipe: GraphRecipe, checkpoint: Checkpoint, path: String, recipeFile: String) throws {
        var initialization = RandomGenerator(seed: recipe.seed)
        summary = "\(recipe.name)"
        if recipe.data.source.isGraphTask {
            let workload = try GraphLevelWorkload(recipe, generator: &initialization)
            _ = try TrainingCheckpoint.restore(checkpoint, path: path, model: workload.model, optimizer: nil)
            (explainsNodes, nodeClassifier, graphClassifier, graphs) = (false, nil, workload.network, workload.testGraphs)
        } else {
            let workload = try NodeLevelWorkload(recipe, recipeFile: recipeFile, generator: &initialization)
            _ = try TrainingCheckpoint.restore(checkpoint, path: path, model: workload.model, optimizer: nil)
            (explainsNodes, nodeClassifier, graphClassifier, graphs) = (true, workload.network, nil, [workload.graph])
        }
        nodeClassifier?.eval()
        graphClassifier?.eval()
    }

    private func lrp(_ method: ExplainMethod) throws -> GNNLRP {
        guard case .lrp(let composite) = method else {
            throw TrainingError("--method \(method.name): graph networks are explained by GNN-LRP walks (--method lrp)")
        }
        let rule: any AffineRelevanceRule
        switch composite {
        case .epsilonGammaBox: rule = GammaRule(gamma: 0.25)
        case .epsilonPlus: rule = EpsilonRule(epsilon: 1e-6)
        case .epsilonAlpha2Beta1: rule = AlphaBetaRule.alpha2Beta1()
        case .zero: rule = ZeroRule()
        }
        if let nodeClassifier { return try GNNLRP(model: nodeClassifier, rule: rule) }
        return try GNNLRP(model: graphClassifier!, rule: rule)
    }

    /// The graph, the label and the logits of the explained node or graph.
    private func select(_ input: ExplainRequest.Input) throws -> (graph: Graph, node: Int?, label: Int?, logits: [Float]) {
        guard case .example(let index) = input else {
            throw TrainingError("--input: a graph network's input is \(explainsNodes ? "a node's index" : "a held-out graph's index"), not a file")
        }
        if explainsNodes {
            let graph = graphs[0]
            guard (0..<graph.nodeCount).contains(index) else {
                throw TrainingError("--input \(index): the graph has \(graph.nodeCount) nodes (0...\(graph.nodeCount - 1))")
            }
            let logits = withoutGradients { nodeClassifier!(graph.nodeFeatures!, graph: graph) }
            let width = logits.shape[1]
            return (graph, index, graph.nodeLabels?[index], Array(logits.scalars[(index * width)..<((index + 1) * width)]))
        }
        guard (0..<graphs.count).contains(index) else {
            throw TrainingError("--input \(index): the held-out set has \(graphs.count) graphs (0...\(graphs.count - 1))")
        }
        let graph = graphs[index]
        let logits = withoutGradients { graphClassifier!(try! GraphBatch([graph])) }
        return (graph, nil, graph.graphLabel.map { Int($0) }, logits.scalars)
    }

    public func explain(_ request: ExplainRequest) throws -> ExplainOutcome {
        try checkOutput(request.output)
        let lrp = try lrp(request.method)
        let (graph, node, label, logits) = try select(request.input)
        let predicted = logits.indices.max { logits[$0] < logits[$1] } ?? 0
        let target = request.target ?? predicted
        guard logits.indices.contains(target) else {
            throw TrainingError("--target \(target): the model has \(logits.count) outputs (0...\(logits.count - 1))")
        }
        let walkTarget: GNNLRP.Target = node.map { .node($0, output: target) } ?? .graph(output: target)
        let nodeRelevance = try lrp.nodeRelevances(in: graph, target: walkTarget)
        let drawing = try lrp.drawing(of: graph, target: walkTarget, walkCount: 10)
        var picture = GraphDrawing(positions: drawing.positions, edges: drawing.edges,
                                   walks: drawing.walks.map { .init(nodes: $0.nodes, relevance: Double($0.relevance)) })
        picture.highlightedNodes = drawing.highlightedNodes
        picture.labels = (0..<graph.nodeCount).map(String.init)
        picture.title = "\(summary): \(node.map { "node \($0)" } ?? "graph"), output \(target), top walks"
        let relevancePath = String(request.output.dropLast(4)) + ".npy"
        try picture.render().writePNG(to: URL(fileURLWithPath: request.output))
        let relevance = Tensor(nodeRelevance)
        try writeRelevances(relevance, to: relevancePath)
        var outcome = ExplainOutcome(label: label, predicted: predicted, target: target, targetOutput: logits[target],
                                     relevanceSum: nodeRelevance.reduce(0, +), relevance: relevance,
                                     heatmapPath: request.output, relevancePath: relevancePath)
        outcome.topWalks = drawing.walks.map { ($0.nodes, $0.relevance) }
        return outcome
    }

    public func faithfulness(methods: [ExplainMethod], examples: Int, steps: Int, removal: FeatureRemoval) throws -> [FaithfulnessRow] {
        throw TrainingError("\(summary): --faithfulness measures pixel and token removal; graph networks are explained by walks, without a removal curve")
    }
}
