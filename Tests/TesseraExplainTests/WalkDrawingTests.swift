import Testing
import TesseraExplain
import TesseraGraph
import TesseraNN
import TesseraTensor

struct WalkDrawingTests {
    private func karate() throws -> Graph {
        var graph = try KarateClub.graph()
        graph.nodeFeatures = Tensor.eye(34)
        return graph
    }

    private func distance(_ a: SIMD2<Double>, _ b: SIMD2<Double>) -> Double { ((a - b) * (a - b)).sum().squareRoot() }

    @Test func springLayoutIsDeterministicFillsTheUnitSquareAndPullsNeighboursTogether() throws {
        let graph = try karate()
        let positions = GraphLayout.spring().positions(for: graph)
        #expect(positions == GraphLayout.spring().positions(for: graph))
        #expect(positions.count == 34)
        #expect(positions.allSatisfy { $0.x >= 0 && $0.x <= 1 && $0.y >= 0 && $0.y <= 1 })
        #expect(positions.map(\.x).max()! - positions.map(\.x).min()! > 0.99 || positions.map(\.y).max()! - positions.map(\.y).min()! > 0.99)
        var closest = Double.infinity, allPairs: [Double] = []
        for i in 0..<34 { for j in (i + 1)..<34 { let d = distance(positions[i], positions[j]); closest = min(closest, d); allPairs.append(d) } }
        #expect(closest > 0.01, "two members are drawn on top of each other")
        let neighbours = zip(graph.sources, graph.targets).map { distance(positions[$0], positions[$1]) }
        let meanEdge = neighbours.reduce(0, +) / Double(neighbours.count), meanPair = allPairs.reduce(0, +) / Double(allPairs.count)
        #expect(meanEdge < 0.7 * meanPair, "friends are \(meanEdge) apart on average, any two members \(meanPair)")
    }

    @Test func circularLayoutStartsAtTheTopAndGoesClockwise() throws {
        let positions = GraphLayout.circular.positions(for: try Graph(nodeCount: 4, edges: [(0, 1)]))
        #expect(abs(positions[0].x - 0.5) < 1e-9 && abs(positions[0].y - 1) < 1e-9)
        #expect(abs(positions[1].x - 1) < 1e-9 && abs(positions[1].y - 0.5) < 1e-9)
    }

    @Test func aKarateDrawingHoldsTheTopWalksEveryFriendshipOnceAndTheExplainedMember() throws {
        let graph = try karate()
        var generator = RandomGenerator(seed: 2)
        let model = NodeClassifier(layers: [GCNConvolution(34, 4, generator: &generator), GCNConvolution(4, 4, generator: &generator),
                                            GCNConvolution(4, 2, generator: &generator)],
                                   head: Linear(2, 2, generator: &generator), activation: .tanh, generator: &generator)
        let lrp = try GNNLRP(model: model, rule: GammaRule())
        let drawing = try lrp.drawing(of: graph, target: .node(33, output: 1), walkCount: 8)
        #expect(drawing.walks == (try lrp.topWalks(8, in: graph, target: .node(33, output: 1))))
        #expect(drawing.walks.allSatisfy { $0.nodes.count == 4 && $0.nodes.last == 33 })
        #expect(drawing.edges.count == 78 && drawing.edges.allSatisfy { $0.0 < $0.1 })
        #expect(drawing.highlightedNodes == [33])
        #expect(drawing.positions == GraphLayout.spring().positions(for: graph))
    }
}
