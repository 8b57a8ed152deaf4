import Testing
import TesseraNN
import TesseraTensor
@testable import TesseraGraph

/// GIN is as expressive as 1-WL (Xu et al., 2019, Theorem 3): with sum aggregation and injective
/// updates its graph embedding separates every pair 1-WL separates, and — like any message
/// passing network — it can never separate a pair 1-WL cannot. Checked on the unlabelled pairs of
/// `wl.json` with a randomly initialised GIN (random wide MLPs are injective on these few inputs
/// almost surely) and constant node features, as 1-WL starts with equal colours.
@Suite struct GINExpressivenessTests {
    /// Every depth's node states summed per graph and concatenated (Xu et al., Eq. 4.2).
    static func embedding(_ graph: Graph, layers: [GINConvolution]) throws -> [Float] {
        var unlabelled = graph
        unlabelled.nodeFeatures = Tensor.ones([graph.nodeCount, 1])
        let batch = try GraphBatch([unlabelled])
        var h = batch.graph.nodeFeatures!
        var pooled = [Readout.sum(h, batch: batch)]
        for layer in layers {
            h = layer(h, graph: batch.graph)
            pooled.append(Readout.sum(h, batch: batch))
        }
        return Tensor.concatenate(pooled, alongAxis: 1).scalars
    }

    @Test func aRandomGINSeparatesExactlyThePairsOneWLSeparates() throws {
        var generator = RandomGenerator(seed: 11)
        let depth = 4
        let layers = (0..<depth).map { index in
            GINConvolution(MLP(sizes: [index == 0 ? 1 : 32, 32, 32], activation: .tanh, generator: &generator))
        }
        var separated = 0, alike = 0
        for pair in try WeisfeilerLehmanTests.pairs("pair") where pair.first.nodeCount == pair.second.nodeCount {
            let result = try WeisfeilerLehman(pair.first, pair.second)
            let (a, b) = (try Self.embedding(pair.first, layers: layers), try Self.embedding(pair.second, layers: layers))
            let scale = max(a.map(abs).max() ?? 1, 1)
            let difference = zip(a, b).map { abs($0 - $1) }.max() ?? 0
            switch result.verdict {
            case .notIsomorphic(let round) where round <= depth:
                // 1-WL told them apart within the GIN's depth: so must the GIN.
                #expect(difference > 1e-3 * scale, "\(pair.key): 1-WL separates it in round \(round), GIN differs by only \(difference)")
                separated += 1
            case .possiblyIsomorphic:
                // Equal colour histograms in every round: equal embeddings, up to summation order.
                #expect(difference <= 1e-4 * scale, "\(pair.key): 1-WL cannot separate it, yet GIN differs by \(difference)")
                alike += 1
            default:
                break
            }
        }
        #expect(separated >= 100 && alike >= 50, "\(separated) separated and \(alike) alike pairs checked")
    }

    @Test func twoTrianglesAndAHexagonGetTheSameGINEmbedding() throws {
        var generator = RandomGenerator(seed: 12)
        let layers = (0..<3).map { index in
            GINConvolution(MLP(sizes: [index == 0 ? 1 : 16, 16, 16], activation: .tanh, generator: &generator))
        }
        let triangles = try Graph(nodeCount: 6, edges: [(0, 1), (1, 2), (2, 0), (3, 4), (4, 5), (5, 3)])
        let hexagon = try Graph(nodeCount: 6, edges: [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 0)])
        let (a, b) = (try Self.embedding(triangles, layers: layers), try Self.embedding(hexagon, layers: layers))
        #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 * max(abs($0), 1) })
    }
}
