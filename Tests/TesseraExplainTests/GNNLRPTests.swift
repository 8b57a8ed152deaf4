import Testing
import TesseraExplain
import TesseraGraph
import TesseraNN
import TesseraTensor

/// The walks' relevances as a dense `[n, …, n]` tensor, one axis per depth (0 for no walk).
private func dense(_ walks: [WalkRelevance], nodeCount: Int, length: Int) -> Tensor {
    var values = [Float](repeating: 0, count: (0..<length).reduce(1) { product, _ in product * nodeCount })
    for walk in walks { values[walk.nodes.reduce(0) { $0 * nodeCount + $1 }] += walk.relevance }
    return Tensor(shape: Array(repeating: nodeCount, count: length), scalars: values)
}

struct GNNLRPTests {
    // MARK: - Conservation

    @Test(arguments: [(widths: [3, 4, 4, 4], head: false), (widths: [3, 4, 3], head: true)])
    func gcnWalksSumToTheLogitUnderLRP0WithoutBiases(widths: [Int], head: Bool) throws {
        let graph = try smallGraph()
        let model = randomGCN(widths, classes: 2, head: head, bias: false)
        let lrp = try GNNLRP(model: model, rule: ZeroRule())
        let logit = withoutGradients { model(graph.nodeFeatures!, graph: graph) }.scalars[1 * 2 + 1]
        #expect(abs(try lrp.output(in: graph, target: .node(1, output: 1)) - logit) < 1e-5)
        let walks = try lrp.walks(in: graph, target: .node(1, output: 1))
        #expect(walks.allSatisfy { $0.nodes.count == model.layers.count + 1 && $0.nodes.last == 1 })
        #expect(Set(walks.map(\.nodes)).count == walks.count)
        let total = walks.map(\.relevance).reduce(0, +)
        #expect(abs(total - logit) <= 1e-4 * abs(logit) + 1e-6, "walks sum to \(total), the logit is \(logit)")
    }

    @Test(arguments: [Aggregation.sum, .mean])
    func ginWalksSumToTheLogitUnderLRP0WithoutBiases(readout: Aggregation) throws {
        let graph = try smallGraph()
        let model = randomGIN([3, 4, 4], classes: 2, readout: readout, bias: false)
        let lrp = try GNNLRP(model: model, rule: ZeroRule())
        let logit = withoutGradients { model(try! GraphBatch([graph])) }.scalars[0]
        #expect(abs(try lrp.output(in: graph, target: .graph(output: 0)) - logit) < 1e-5)
        let total = try lrp.walks(in: graph, target: .graph(output: 0)).map(\.relevance).reduce(0, +)
        #expect(abs(total - logit) <= 1e-4 * abs(logit) + 1e-6, "walks sum to \(total), the logit is \(logit)")
    }

    /// The karate recipe's model (`configs/graph-karate.yaml`: GCN 34-4-4-2, tanh, a linear head), biases off.
    @Test func karateGCNWalksAreEveryWalkOfTheClubAndSumToTheLogit() throws {
        var graph = try KarateClub.graph()
        graph.nodeFeatures = Tensor.eye(34)
        var generator = RandomGenerator(seed: 9)
        let layers = [(34, 4), (4, 4), (4, 2)].map { GCNConvolution($0.0, $0.1, bias: false, generator: &generator) }
        let model = NodeClassifier(layers: layers, head: Linear(2, 2, bias: false, generator: &generator), activation: .tanh,
                                   generator: &generator)
        let lrp = try GNNLRP(model: model, rule: ZeroRule())
        let walks = try lrp.walks(in: graph, target: .node(33, output: 0))
        // networkx: the column of (A + I)³ for member 33 sums to 901.
        #expect(walks.count == 901)
        let logit = try lrp.output(in: graph, target: .node(33, output: 0))
        let total = walks.map(\.relevance).reduce(0, +)
        #expect(abs(total - logit) <= 1e-4 * abs(logit) + 1e-6, "walks sum to \(total), the logit is \(logit)")
    }

    // MARK: - Brute force: a masked gradient × input pass per walk (LRP-0 on ReLU networks, biases included)

    @Test(arguments: [false, true])
    func gcnWalkRelevanceEqualsMaskedGradientTimesInput(head: Bool) throws {
        let graph = try smallGraph()
        let model = randomGCN(head ? [3, 4, 4] : [3, 4], classes: 3, head: head, bias: true)
        let walks = try GNNLRP(model: model, rule: ZeroRule()).walks(in: graph, target: .node(3, output: 2))
        let sequences = allSequences(nodeCount: 5, length: 2).map { $0 + [3] }
        let bruteForce = sequences.map { maskedRelevance(model, graph, walk: $0, output: 2) }
        expectClose(dense(walks, nodeCount: 5, length: 3).slice(alongAxis: 2, start: 3, end: 4).reshape([25]), Tensor(bruteForce),
                    absolute: 1e-5, relative: 1e-3, "walks ending at node 3")
        #expect(bruteForce.filter { $0 != 0 }.count >= 10, "too few live walks to test")
    }

    @Test func ginWalkRelevanceEqualsMaskedGradientTimesInput() throws {
        let graph = try smallGraph()
        let model = randomGIN([3, 4, 4], classes: 2, readout: .sum, bias: true)
        let walks = try GNNLRP(model: model, rule: ZeroRule()).walks(in: graph, target: .graph(output: 1))
        let bruteForce = try allSequences(nodeCount: 5, length: 3).map { try maskedRelevance(model, graph, walk: $0, output: 1) }
        expectClose(dense(walks, nodeCount: 5, length: 3).reshape([125]), Tensor(bruteForce), absolute: 1e-5, relative: 1e-3, "all walks")
        #expect(bruteForce.filter { $0 != 0 }.count >= 20, "too few live walks to test")
    }

    // MARK: - Torch fixture: brute-force enumeration with LRP-0, ε and γ

    private static func fixtureGraph(_ fixture: Fixture) throws -> Graph {
        let pairs = try fixture.rows("edges").map { (Int($0[0]), Int($0[1])) }
        return try Graph(nodeCount: 6, edges: pairs, nodeFeatures: try fixture.tensor("features"))
    }

    private static func rule(_ name: String, _ fixture: Fixture) throws -> any AffineRelevanceRule {
        let params = try fixture.values("params").data
        switch name {
        case "zero": return ZeroRule()
        case "epsilon": return EpsilonRule(epsilon: params[4])
        default: return GammaRule(gamma: params[5])
        }
    }

    private static func mlp(_ fixture: Fixture, _ prefix: String, sizes: [Int]) throws -> MLP {
        var generator = RandomGenerator(seed: 0)
        let mlp = MLP(sizes: sizes, generator: &generator)
        for (index, layer) in mlp.layers.enumerated() {
            layer.weight.assign(try fixture.tensor("\(prefix).layers.\(index).weight"))
            layer.bias!.assign(try fixture.tensor("\(prefix).layers.\(index).bias"))
        }
        return mlp
    }

    @Test(arguments: ["zero", "epsilon", "gamma"])
    func gcnWalksMatchTorchBruteForce(rule: String) throws {
        let fixture = try Fixture("gnnlrp")
        let graph = try Self.fixtureGraph(fixture)
        let layers = try (0..<2).map { GCNConvolution(weight: try fixture.tensor("gcn/layers.\($0).weight"), bias: try fixture.tensor("gcn/layers.\($0).bias")) }
        var generator = RandomGenerator(seed: 0)
        let model = NodeClassifier(layers: layers, activation: .relu, generator: &generator)
        let (node, output) = (Int(try fixture.values("params").data[0]), Int(try fixture.values("params").data[1]))
        let lrp = try GNNLRP(model: model, rule: try Self.rule(rule, fixture))
        #expect(abs(try lrp.output(in: graph, target: .node(node, output: output)) - (try fixture.tensor("gcn/output")).scalars[node * 2 + output]) < 1e-5)
        let walks = try lrp.walks(in: graph, target: .node(node, output: output))
        expectClose(dense(walks, nodeCount: 6, length: 3).slice(alongAxis: 2, start: node, end: node + 1).reshape([6, 6]),
                    try fixture.tensor("gcn/\(rule)"), absolute: 1e-5, relative: 1e-3, "GCN walks under \(rule)")
    }

    @Test(arguments: ["zero", "epsilon", "gamma"])
    func ginWalksMatchTorchBruteForce(rule: String) throws {
        let fixture = try Fixture("gnnlrp")
        let graph = try Self.fixtureGraph(fixture)
        let params = try fixture.values("params").data
        let layers = try [(3, params[2]), (4, params[3])].enumerated().map { index, layer in
            GINConvolution(try Self.mlp(fixture, "gin/layers.\(index).network", sizes: [layer.0, 4, 4]), epsilon: layer.1)
        }
        let model = GraphClassifier(layers: layers, readoutHead: try Self.mlp(fixture, "gin/readoutHead", sizes: [11, 4, 2]),
                                    activation: .relu, readout: .sum)
        let output = Int(params[1])
        let lrp = try GNNLRP(model: model, rule: try Self.rule(rule, fixture))
        #expect(abs(try lrp.output(in: graph, target: .graph(output: output)) - (try fixture.tensor("gin/output")).scalars[output]) < 1e-4)
        let walks = try lrp.walks(in: graph, target: .graph(output: output))
        expectClose(dense(walks, nodeCount: 6, length: 3), try fixture.tensor("gin/\(rule)"), absolute: 1e-5, relative: 1e-3,
                    "GIN walks under \(rule)")
    }

    // MARK: - One walk, the top walks, node relevances

    @Test func oneWalksRelevanceIsItsEntryInTheEnumeration() throws {
        let graph = try smallGraph()
        let gin = try GNNLRP(model: randomGIN([3, 4, 4], classes: 2, readout: .mean, bias: true), rule: GammaRule())
        let all = try gin.walks(in: graph, target: .graph(output: 0))
        for walk in [[0, 1, 2], [4, 3, 3], [2, 2, 2], [1, 1, 3]] {
            let entry = try #require(all.first { $0.nodes == walk }).relevance
            let alone = try gin.relevance(ofWalk: walk, in: graph, target: .graph(output: 0))
            #expect(abs(alone - entry) <= 1e-5 + 1e-4 * abs(entry), "walk \(walk): \(alone) alone, \(entry) enumerated")
        }
        #expect(try gin.relevance(ofWalk: [0, 2, 2], in: graph, target: .graph(output: 0)) == 0, "0 and 2 are no neighbours")
        let gcn = try GNNLRP(model: randomGCN([3, 4], classes: 2, head: false, bias: true), rule: EpsilonRule(epsilon: 0.1))
        let toThree = try gcn.walks(in: graph, target: .node(3, output: 0))
        let entry = try #require(toThree.first { $0.nodes == [4, 3, 3] }).relevance
        #expect(abs(try gcn.relevance(ofWalk: [4, 3, 3], in: graph, target: .node(3, output: 0)) - entry) <= 1e-6)
        #expect(throws: ExplainError.self) { try gcn.relevance(ofWalk: [4, 3, 1], in: graph, target: .node(3, output: 0)) }
        #expect(throws: ExplainError.self) { try gcn.relevance(ofWalk: [3, 3], in: graph, target: .node(3, output: 0)) }
    }

    @Test func topWalksAreTheLargestInMagnitudeLargestFirst() throws {
        let graph = try smallGraph()
        let lrp = try GNNLRP(model: randomGIN([3, 4, 4], classes: 2, readout: .sum, bias: true), rule: GammaRule())
        let all = try lrp.walks(in: graph, target: .graph(output: 1))
        let top = try lrp.topWalks(5, in: graph, target: .graph(output: 1))
        #expect(top.count == 5)
        #expect(zip(top, top.dropFirst()).allSatisfy { abs($0.relevance) >= abs($1.relevance) })
        let fifth = abs(top.last!.relevance)
        #expect(all.filter { abs($0.relevance) > fifth }.count <= 4, "a walk outside the top 5 is more relevant than the 5th")
        #expect(throws: ExplainError.self) { try lrp.topWalks(0, in: graph, target: .graph(output: 1)) }
    }

    @Test func nodeRelevancesSumTheWalksByTheirFirstNodeAndConserve() throws {
        let graph = try smallGraph()
        let model = randomGCN([3, 4, 4], classes: 2, head: true, bias: false)
        let lrp = try GNNLRP(model: model, rule: ZeroRule())
        let target = GNNLRP.Target.node(0, output: 1)
        let nodes = try lrp.nodeRelevances(in: graph, target: target)
        let walks = try lrp.walks(in: graph, target: target)
        #expect(nodes.count == 5)
        for node in 0..<5 {
            let expected = walks.filter { $0.nodes[0] == node }.map(\.relevance).reduce(0, +)
            #expect(abs(nodes[node] - expected) < 1e-6)
        }
        let logit = try lrp.output(in: graph, target: target)
        #expect(abs(nodes.reduce(0, +) - logit) <= 1e-4 * abs(logit) + 1e-6)
        // Every node is within two hops of node 0 (4 → 3 → 0), so every node sends it relevance.
        #expect(nodes.filter { $0 != 0 }.count == 5)
    }

    @Test func walksThroughANodeAreThoseThatVisitIt() throws {
        let graph = try smallGraph()
        let lrp = try GNNLRP(model: randomGIN([3, 4, 4], classes: 2, readout: .sum, bias: true), rule: GammaRule())
        let all = try lrp.walks(in: graph, target: .graph(output: 0))
        let through = try lrp.walks(in: graph, target: .graph(output: 0), through: 4)
        #expect(!through.isEmpty && through.count < all.count)
        #expect(through.allSatisfy { $0.nodes.contains(4) })
        #expect(through.count == all.filter { $0.nodes.contains(4) }.count)
    }

    // MARK: - Errors

    @Test func aGraphLayerWithoutAWalkRuleIsAnErrorNamingIt() throws {
        var generator = RandomGenerator(seed: 1)
        let model = NodeClassifier(layers: [GCNConvolution(3, 4, generator: &generator), GraphAttention(4, 2, generator: &generator)],
                                   activation: .relu, generator: &generator)
        do {
            _ = try GNNLRP(model: model)
            Issue.record("a graph attention layer has no walk rule, yet GNN-LRP accepted it")
        } catch ExplainError.unsupportedLayer(let layer, let reason) {
            #expect(layer == "layers.1")
            #expect(reason.contains("GraphAttention") && reason.contains("GCNConvolution"))
            #expect("\(ExplainError.unsupportedLayer(layer: layer, reason: reason))".contains("'layers.1'"))
        }
    }

    @Test func maxReadoutsRulesThatIgnoreTheInputAndWrongTargetsAreErrors() throws {
        let graph = try smallGraph()
        #expect(throws: ExplainError.unsupportedLayer(layer: "readout", reason: "GNN-LRP walks sum and mean readouts (constant pooling weights), not max")) {
            try GNNLRP(model: randomGIN([3, 4], classes: 2, readout: .max, bias: true))
        }
        #expect(throws: ExplainError.self) { try GNNLRP(model: randomGIN([3, 4], classes: 2, readout: .sum, bias: true), rule: FlatRule()) }
        let gcn = try GNNLRP(model: randomGCN([3, 4], classes: 2, head: false, bias: true))
        #expect(throws: ExplainError.targetOutOfRange(index: 2, outputCount: 2)) { try gcn.walks(in: graph, target: .node(0, output: 2)) }
        #expect(throws: ExplainError.self) { try gcn.walks(in: graph, target: .graph(output: 0)) }
        #expect(throws: ExplainError.self) { try gcn.walks(in: graph, target: .node(5, output: 0)) }
        #expect(throws: ExplainError.inputShape(expected: [5, 3], got: [5, 2])) { try gcn.walks(in: try smallGraph(features: 2), target: .node(0, output: 0)) }
    }
}
