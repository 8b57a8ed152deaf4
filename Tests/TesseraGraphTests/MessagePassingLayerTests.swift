import Foundation
import Testing
import TesseraNN
import TesseraTensor
@testable import TesseraGraph

/// The fixture graph of `fixtures_graph_layers.py`: 10 nodes, 14 undirected edges, node 9 isolated.
private func layerFixtureGraph(_ fixture: Fixture, weighted: Bool = false) throws -> Graph {
    let edges = try fixture.rows("graph.edges").map { (Int($0[0]), Int($0[1])) }
    return try Graph(nodeCount: 10, edges: edges, weights: weighted ? fixture.values("graph.weights").data : nil)
}

/// Seeds backward with the fixture's upstream gradient (loss = Σ output · upstream), as the script does.
private func backward(_ output: Tensor, _ fixture: Fixture, _ caseName: String) throws {
    (output * (try fixture.tensor("\(caseName).upstream"))).sum().backward()
}

/// Node `order[k]` of the original graph becomes node `k`: the same graph, relabelled.
private func permuted(_ graph: Graph, _ order: [Int]) throws -> Graph {
    var newIndex = [Int](repeating: 0, count: order.count)
    for (k, old) in order.enumerated() { newIndex[old] = k }
    let edges = zip(graph.sources, graph.targets).map { (newIndex[$0], newIndex[$1]) }
    return try Graph(nodeCount: graph.nodeCount, edges: edges, weights: graph.edgeWeights, directed: true)
}

@Suite struct MessagePassingLayerTests {
    // MARK: GCN

    @Test(arguments: [("gcn", false), ("gcnWeighted", true)])
    func gcnMatchesTheDenseNormalisedAdjacencyInValuesAndGradients(_ caseName: String, _ weighted: Bool) throws {
        let fixture = try Fixture("graph_layers")
        let graph = try layerFixtureGraph(fixture, weighted: weighted)
        let x = try fixture.tensor("graph.features").requiringGradient()
        let layer = GCNConvolution(weight: try fixture.tensor("\(caseName).weight.weight"), bias: try fixture.tensor("\(caseName).weight.bias"))

        // The sparse coefficients, scattered into a dense matrix, are D̃^-1/2 (A + I) D̃^-1/2.
        let normalization = layer.normalization(for: graph)
        let edges = normalization.edges
        var coefficients = [Float](repeating: 0, count: 100)
        let values = try #require(normalization.coefficients).scalars
        for (e, (s, t)) in zip(edges.sourceIndex.scalars, edges.targetIndex.scalars).enumerated() {
            coefficients[Int(t) * 10 + Int(s)] += values[e]
        }
        expectClose(Tensor(shape: [10, 10], scalars: coefficients), try fixture.tensor("\(caseName).normalizedAdjacency"),
                    absolute: 1e-6, "Â")

        let y = layer(x, graph: graph)
        expectClose(y, try fixture.tensor("\(caseName).output"), absolute: 1e-5, "output")
        try backward(y, fixture, caseName)
        expectClose(try #require(x.grad), try fixture.tensor("\(caseName).inputGrad"), absolute: 1e-5, "∂/∂x")
        expectClose(try #require(layer.weight.grad), try fixture.tensor("\(caseName).grad.weight"), absolute: 1e-5, "∂/∂W")
        expectClose(try #require(layer.bias?.grad), try fixture.tensor("\(caseName).grad.bias"), absolute: 1e-5, "∂/∂b")
    }

    /// The isolated node 9 has only its self-loop: d̃ = 1, so its output is its own `W x + b`.
    @Test func anIsolatedNodeKeepsItsOwnTransformedFeatures() throws {
        let fixture = try Fixture("graph_layers")
        let graph = try layerFixtureGraph(fixture)
        let x = try fixture.tensor("graph.features")
        let layer = GCNConvolution(weight: try fixture.tensor("gcn.weight.weight"), bias: try fixture.tensor("gcn.weight.bias"))
        let own = x.select(alongAxis: 0, index: 9).reshape([1, 5]).linear(weight: layer.weight, bias: layer.bias)
        expectClose(layer(x, graph: graph).select(alongAxis: 0, index: 9), own.reshape([4]), absolute: 1e-6, "node 9")
        // Without self-loops it receives nothing: the aggregation leaves 0, then the bias.
        let bare = GCNConvolution(weight: layer.weight.detached(), bias: layer.bias!.detached(), addSelfLoops: false)
        expectClose(bare(x, graph: graph).select(alongAxis: 0, index: 9), layer.bias!.detached(), absolute: 0, "node 9, no loops")
    }

    @Test func gcnGradientsMatchFiniteDifferences() throws {
        let fixture = try Fixture("graph_layers")
        let graph = try layerFixtureGraph(fixture, weighted: true)
        let x = try fixture.tensor("graph.features"), upstream = try fixture.tensor("gcnWeighted.upstream")
        let weight = try fixture.tensor("gcnWeighted.weight.weight")
        expectGradientMatchesFiniteDifferences(x, tolerance: 1e-2, "∂/∂x") {
            (GCNConvolution(weight: weight, bias: nil)($0, graph: graph) * upstream).sum()
        }
        expectGradientMatchesFiniteDifferences(weight, tolerance: 1e-2, "∂/∂W") {
            (GCNConvolution(weight: $0, bias: nil)(x, graph: graph) * upstream).sum()
        }
    }

    // MARK: GIN

    @Test func ginWithLearnableEpsilonMatchesTheDenseFormulaInValuesAndGradients() throws {
        let fixture = try Fixture("graph_layers")
        let graph = try layerFixtureGraph(fixture)
        let x = try fixture.tensor("graph.features").requiringGradient()
        var generator = RandomGenerator(seed: 1)
        let network = MLP(sizes: [5, 8, 3], generator: &generator)
        let layer = GINConvolution(network, epsilon: 0.3, learnEpsilon: true)
        for (name, parameter) in layer.namedParameters() {
            parameter.assign(try fixture.tensor("gin.weight.\(name)"))
        }
        #expect(Set(layer.namedParameters().map(\.name)) == ["epsilon", "network.layers.0.weight", "network.layers.0.bias",
                                                            "network.layers.1.weight", "network.layers.1.bias"])
        let y = layer(x, graph: graph)
        expectClose(y, try fixture.tensor("gin.output"), absolute: 1e-5, "output")
        try backward(y, fixture, "gin")
        expectClose(try #require(x.grad), try fixture.tensor("gin.inputGrad"), absolute: 1e-5, "∂/∂x")
        for (name, parameter) in layer.namedParameters() {
            expectClose(try #require(parameter.grad), try fixture.tensor("gin.grad.\(name)"), absolute: 1e-4, "∂/∂\(name)")
        }
    }

    // MARK: GAT

    @Test(arguments: [("gatConcat", true), ("gatMean", false)])
    func multiHeadAttentionMatchesTheDenseMaskedSoftmaxInValuesGradientsAndCoefficients(_ caseName: String, _ concatenate: Bool) throws {
        let fixture = try Fixture("graph_layers")
        let graph = try layerFixtureGraph(fixture)
        let x = try fixture.tensor("graph.features").requiringGradient()
        var generator = RandomGenerator(seed: 2)
        let layer = GraphAttention(5, 3, heads: 2, concatenateHeads: concatenate, generator: &generator)
        for (name, parameter) in layer.namedParameters() {
            parameter.assign(try fixture.tensor("\(caseName).weight.\(name)"))
        }
        let y = layer(x, graph: graph)
        expectClose(y, try fixture.tensor("\(caseName).output"), absolute: 1e-5, "output")
        try backward(y, fixture, caseName)
        expectClose(try #require(x.grad), try fixture.tensor("\(caseName).inputGrad"), absolute: 1e-5, "∂/∂x")
        for (name, parameter) in layer.namedParameters() {
            expectClose(try #require(parameter.grad), try fixture.tensor("\(caseName).grad.\(name)"), absolute: 1e-4, "∂/∂\(name)")
        }

        // The coefficients, scattered into [heads, target, source], equal torch's masked softmax.
        let attention = try #require(layer.lastAttention)
        var dense = [Float](repeating: 0, count: 2 * 100)
        let values = attention.values.scalars
        for (e, (s, t)) in zip(attention.sourceIndex.scalars, attention.targetIndex.scalars).enumerated() {
            for head in 0..<2 { dense[head * 100 + Int(t) * 10 + Int(s)] += values[e * 2 + head] }
        }
        let denseAttention = Tensor(shape: [2, 10, 10], scalars: dense)
        expectClose(denseAttention, try fixture.tensor("\(caseName).attention"), absolute: 1e-6, "α")
        // Every node's incoming coefficients sum to 1 per head; the isolated node attends only to itself.
        expectClose(denseAttention.sum(alongAxes: [2]), Tensor.ones([2, 10]), absolute: 1e-6, "Σ_j α_ij")
        #expect(denseAttention.scalars[9 * 10 + 9] == 1 && denseAttention.scalars[100 + 9 * 10 + 9] == 1)
    }

    @Test func attentionGradientsMatchFiniteDifferences() throws {
        let fixture = try Fixture("graph_layers")
        let graph = try layerFixtureGraph(fixture)
        let x = try fixture.tensor("graph.features"), upstream = try fixture.tensor("gatMean.upstream")
        var generator = RandomGenerator(seed: 3)
        let layer = GraphAttention(5, 3, heads: 2, concatenateHeads: false, generator: &generator)
        for (name, parameter) in layer.namedParameters() { parameter.assign(try fixture.tensor("gatMean.weight.\(name)")) }
        expectGradientMatchesFiniteDifferences(x, tolerance: 2e-2, "∂/∂x") { (layer($0, graph: graph) * upstream).sum() }
    }

    @Test func attentionDropoutOnlyActsInTraining() throws {
        let fixture = try Fixture("graph_layers")
        let graph = try layerFixtureGraph(fixture)
        let x = try fixture.tensor("graph.features")
        var generator = RandomGenerator(seed: 4)
        let layer = GraphAttention(5, 3, heads: 2, attentionDropout: 0.5, generator: &generator)
        layer.mode = .evaluation
        let first = layer(x, graph: graph), second = layer(x, graph: graph)
        #expect(first.scalars == second.scalars)
        layer.mode = .training
        #expect(layer(x, graph: graph).scalars != first.scalars)
    }

    // MARK: The generic scheme

    /// A layer written only as message / aggregate / update: `x'_i = agg_j (w_ij · x_j) + x_i`.
    final class WeightedNeighbours: MessagePassing {
        let aggregation: Aggregation
        init(_ aggregation: Aggregation) { self.aggregation = aggregation }
        func callAsFunction(_ nodeFeatures: Tensor, graph: Graph) -> Tensor { propagate(nodeFeatures, edges: GraphEdges(graph)) }
        func message(_ endpoints: EdgeEndpoints) -> Tensor { endpoints.weight.map { endpoints.source * $0 } ?? endpoints.source }
        func update(aggregated: Tensor, nodeFeatures: Tensor) -> Tensor { aggregated + nodeFeatures }
    }

    @Test(arguments: Aggregation.allCases)
    func theGenericSchemeAggregatesEachNodesIncomingMessages(_ aggregation: Aggregation) throws {
        let fixture = try Fixture("graph_layers")
        let graph = try layerFixtureGraph(fixture, weighted: true)
        let x = try fixture.tensor("graph.features")
        let y = WeightedNeighbours(aggregation)(x, graph: graph)
        let features = x.scalars, weights = try #require(graph.edgeWeights)
        for node in 0..<10 {
            let incoming = (0..<graph.edgeCount).filter { graph.targets[$0] == node }
            for column in 0..<5 {
                let messages = incoming.map { weights[$0] * features[graph.sources[$0] * 5 + column] }
                let combined: Float
                switch aggregation {
                case .sum: combined = messages.reduce(0, +)
                case .mean: combined = messages.isEmpty ? 0 : messages.reduce(0, +) / Float(messages.count)
                case .max: combined = messages.max() ?? 0
                }
                let expected = combined + features[node * 5 + column]
                #expect(abs(y.scalars[node * 5 + column] - expected) < 1e-5, "node \(node), column \(column)")
            }
        }
    }

    /// Relabelling the nodes relabels every layer's output the same way (the layers see only
    /// the graph's structure, not the numbering).
    @Test func everyLayerIsEquivariantToANodePermutation() throws {
        let fixture = try Fixture("graph_layers")
        let graph = try layerFixtureGraph(fixture, weighted: true)
        let x = try fixture.tensor("graph.features")
        var generator = RandomGenerator(seed: 5)
        var order = Array(0..<10)
        SyntheticGraphs.shuffle(&order, generator: &generator)
        let permutation = Tensor(order.map(Float.init))
        let relabelled = try permuted(graph, order)
        let px = x.indexSelect(alongAxis: 0, indices: permutation)
        let layers: [(String, any GraphLayer)] = [
            ("GCN", GCNConvolution(5, 4, generator: &generator)),
            ("GIN", GINConvolution(MLP(sizes: [5, 6, 4], generator: &generator), epsilon: 0.1, learnEpsilon: true)),
            ("GAT", GraphAttention(5, 3, heads: 2, generator: &generator)),
            ("Chebyshev", ChebyshevConvolution(inputSize: 5, outputSize: 4, order: 3, generator: &generator)),
        ]
        for (name, layer) in layers {
            layer.eval()
            expectClose(layer(px, graph: relabelled), layer(x, graph: graph).indexSelect(alongAxis: 0, indices: permutation),
                        absolute: 1e-5, name)
        }
    }

    // MARK: Readouts

    @Test func readoutsMatchTorchPerGraphReductionsAndIgnoreNodeOrder() throws {
        let fixture = try Fixture("graph_layers")
        let sizes = try fixture.values("readout.sizes").data.map { Int($0) }
        let graphs = try sizes.map { try Graph(nodeCount: $0, edges: []) }
        let batch = try GraphBatch(graphs)
        let features = try fixture.tensor("readout.features")
        let pools: [(String, (Tensor, GraphBatch) -> Tensor)] = [("sum", Readout.sum), ("mean", Readout.mean), ("max", Readout.max)]
        for (name, pool) in pools {
            let x = features.copy().requiringGradient()
            let y = pool(x, batch)
            expectClose(y, try fixture.tensor("readout.\(name).output"), absolute: 1e-5, name)
            (y * (try fixture.tensor("readout.\(name).upstream"))).sum().backward()
            expectClose(try #require(x.grad), try fixture.tensor("readout.\(name).inputGrad"), absolute: 1e-5, "∂\(name)/∂x")
            // Reversing the nodes inside each graph changes no graph's readout.
            var order: [Int] = []
            for g in 0..<sizes.count { order += (batch.nodeOffsets[g]..<batch.nodeOffsets[g + 1]).reversed() }
            let shuffled = features.indexSelect(alongAxis: 0, indices: Tensor(order.map(Float.init)))
            expectClose(pool(shuffled, batch), y.detached(), absolute: 1e-6, "\(name) invariant")
        }
    }
}
