import TesseraGraph
import TesseraNN
import TesseraTensor

/// A graph network as ``GNNLRP`` walks it: message-passing layers, then an output part.
///
/// Each message-passing layer is written `z_K = affine(Σ_J c_KJ h_J)` followed by node-wise layers:
/// GCN's `Σ_J c_KJ W h_J + b` is `(Σ_J c_KJ h_J) Wᵀ + b` with `c` the normalised adjacency (self-loops
/// included); GIN's `MLP((1 + ε) h_K + Σ_{J→K} h_J)` is its MLP's first linear map on the sum with
/// `c_KK = 1 + ε` and `c_KJ = 1` per edge, then the MLP's other layers. The coefficients are constants
/// of the graph, so the aggregation and the affine map after it are one affine map of the neighbours'
/// features, and an LRP rule applied to it splits a node's relevance over its neighbours and their
/// features in one step.
struct WalkNetwork {
    /// One message-passing layer: the aggregation folded into an affine map, then node-wise layers.
    struct MessagePassingLayer {
        let name: String
        /// `c_KJ` for a graph, as a dense `n × n` row-major matrix (row: the receiving node K).
        let coefficients: (Graph) -> [Float]
        let affine: AggregatedAffine
        /// Applied to every node after `affine`, in order: a GIN MLP's later layers, the activation.
        let nodewise: [ExplainableLayer]
    }

    /// What turns the last layer's node states into the explained output.
    enum Output {
        /// Node classification: node-wise layers (a linear head, or none) on every node.
        case node(head: [ExplainableLayer])
        /// Graph classification: every depth's node states (the input's too) pooled with constant
        /// weights (`sum`: 1, `mean`: 1/n) and concatenated; the readout MLP's first linear map
        /// folded with the pooling, then its other layers.
        case graph(readout: Aggregation, first: AggregatedAffine, rest: [ExplainableLayer])
    }

    let layers: [MessagePassingLayer]
    let output: Output
    /// The modules whose forward pass depends on the mode (dropout), switched to evaluation.
    let modes: [any ModeDependentModule]

    init(_ model: NodeClassifier) throws {
        var layers: [MessagePassingLayer] = []
        for (index, layer) in model.layers.enumerated() {
            let activates = model.head != nil || index < model.layers.count - 1
            let after = activates ? [ExplainableLayer(name: "layers.\(index).activation", layer: model.activation.layer)] : []
            layers.append(try WalkNetwork.messagePassing(layer, named: "layers.\(index)", then: after))
        }
        self.layers = layers
        output = .node(head: model.head.map { [ExplainableLayer(name: "head", layer: $0)] } ?? [])
        modes = model.namedModules().compactMap { $0.module as? any ModeDependentModule }
    }

    init(_ model: GraphClassifier) throws {
        var layers: [MessagePassingLayer] = []
        for (index, layer) in model.layers.enumerated() {
            let after = [ExplainableLayer(name: "layers.\(index).activation", layer: model.activation.layer)]
            layers.append(try WalkNetwork.messagePassing(layer, named: "layers.\(index)", then: after))
        }
        guard model.readout == .sum || model.readout == .mean else {
            throw ExplainError.unsupportedLayer(layer: "readout", reason: "GNN-LRP walks sum and mean readouts (constant pooling weights), not \(model.readout)")
        }
        let head = try explainableLayers(of: model.readoutHead, named: "readoutHead")
        guard let first = head.first?.layer as? Linear else {
            throw ExplainError.unsupportedLayer(layer: "readoutHead", reason: "GNN-LRP needs the readout head to start with a linear layer")
        }
        self.layers = layers
        output = .graph(readout: model.readout, first: AggregatedAffine(weight: first.weight, bias: first.bias),
                        rest: Array(head.dropFirst()))
        modes = model.namedModules().compactMap { $0.module as? any ModeDependentModule }
    }

    /// GCN and GIN have walk rules; every other graph layer is an error naming it.
    private static func messagePassing(_ layer: any GraphLayer, named name: String, then after: [ExplainableLayer]) throws -> MessagePassingLayer {
        switch layer {
        case let gcn as GCNConvolution:
            return MessagePassingLayer(name: name, coefficients: { graph in
                let edges = gcn.normalization(for: graph).edges
                return denseCoefficients(nodeCount: graph.nodeCount, sources: edges.sourceIndex.scalars, targets: edges.targetIndex.scalars,
                                         weights: edges.weights?.scalars)
            }, affine: AggregatedAffine(weight: gcn.weight, bias: gcn.bias), nodewise: after)
        case let gin as GINConvolution:
            let steps = try explainableLayers(of: gin.network, named: "\(name).network")
            guard let first = steps.first?.layer as? Linear else {
                throw ExplainError.unsupportedLayer(layer: "\(name).network", reason: "GNN-LRP needs a GIN network that starts with a linear layer")
            }
            return MessagePassingLayer(name: name, coefficients: { graph in
                // Read at every pass, so a learned ε is the model's current one.
                let selfWeight = 1 + (gin.epsilon?.scalars[0] ?? gin.fixedEpsilon)
                var matrix = denseCoefficients(nodeCount: graph.nodeCount, sources: graph.sources.map(Float.init),
                                               targets: graph.targets.map(Float.init), weights: nil)
                for node in 0..<graph.nodeCount { matrix[node * graph.nodeCount + node] += selfWeight }
                return matrix
            }, affine: AggregatedAffine(weight: first.weight, bias: first.bias), nodewise: Array(steps.dropFirst()) + after)
        default:
            throw ExplainError.unsupportedLayer(
                layer: name, reason: "GNN-LRP has walk rules for GCNConvolution and GINConvolution, not for \(type(of: layer))")
        }
    }

    // MARK: - Forward pass

    /// What the forward pass keeps for the walk back: the inputs of the layers the rule needs.
    struct Trace {
        /// `h^0 … h^T`: `[n, width_t]`, the input and each message-passing layer's output.
        var levels: [Tensor]
        /// Per layer, `c` as an `[n, n]` tensor.
        var coefficients: [Tensor]
        /// Per layer, the input of each node-wise step (`[n, …]`).
        var nodewise: [[Tensor]]
        /// The inputs of the output part's node-wise steps: the node head's (`[n, …]`), or the
        /// readout head's after its first layer (`[1, …]`).
        var head: [Tensor]
        /// The explained model's output: `[n, outputs]` per node, or `[1, outputs]` for the graph.
        var output: Tensor
    }

    func forward(_ graph: Graph, features: Tensor) -> Trace {
        withEvaluationMode(modes) {
            withoutGradients {
                var h = features
                var trace = Trace(levels: [h], coefficients: [], nodewise: [], head: [], output: h)
                for layer in layers {
                    let coefficients = Tensor(shape: [graph.nodeCount, graph.nodeCount], scalars: layer.coefficients(graph))
                    h = layer.affine(coefficients.matmul(h))
                    var inputs: [Tensor] = []
                    for step in layer.nodewise {
                        inputs.append(h)
                        h = step.layer(h)
                    }
                    trace.coefficients.append(coefficients)
                    trace.nodewise.append(inputs)
                    trace.levels.append(h)
                }
                var head: [ExplainableLayer]
                switch output {
                case .node(let nodeHead):
                    head = nodeHead
                case .graph(let readout, let first, let rest):
                    let weight = WalkNetwork.poolingWeight(readout, nodeCount: graph.nodeCount)
                    h = first(Tensor.concatenate(trace.levels, alongAxis: 1).sum(alongAxis: 0, keepDims: true) * weight)
                    head = rest
                }
                for step in head {
                    trace.head.append(h)
                    h = step.layer(h)
                }
                trace.output = h
                return trace
            }
        }
    }
}

extension WalkNetwork {
    /// Every node's weight in a sum or mean readout: the pooling's constant coefficient.
    static func poolingWeight(_ readout: Aggregation, nodeCount: Int) -> Float {
        readout == .mean ? 1 / Float(max(nodeCount, 1)) : 1
    }
}

/// `c[target][source]` summed over the edges (parallel edges add up), row-major `n × n`.
private func denseCoefficients(nodeCount: Int, sources: [Float], targets: [Float], weights: [Float]?) -> [Float] {
    var matrix = [Float](repeating: 0, count: nodeCount * nodeCount)
    for e in sources.indices { matrix[Int(targets[e]) * nodeCount + Int(sources[e])] += weights?[e] ?? 1 }
    return matrix
}

/// An affine map of a node's aggregated neighbourhood, `z_K = (Σ_J x_KJ) Wᵀ + b`, where the input
/// `[walks, n, width]` holds in row `[s, J]` the coefficient-weighted features `c_KJ h_J` of
/// neighbour J of the walk's node K. An LRP rule run on it hands back the relevance of every
/// neighbour's features as an input of the same shape: the walk extended by each neighbour.
final class AggregatedAffine: AffineLayer {
    let weight: Tensor
    let bias: Tensor?
    var isConvolution: Bool { false }

    init(weight: Tensor, bias: Tensor?) {
        self.weight = weight
        self.bias = bias
    }

    /// On node features already aggregated (`[n, width]`), as the forward pass computes it.
    func callAsFunction(_ input: Tensor) -> Tensor { input.linear(weight: weight, bias: bias) }

    func affine(_ input: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        input.sum(alongAxis: 1).linear(weight: weight, bias: bias)
    }
}
