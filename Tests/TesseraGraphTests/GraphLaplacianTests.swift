import Foundation
import Testing
import TesseraTensor
@testable import TesseraGraph

/// The weighted 7-node graph of `spectral.json`: components {0, 1, 2, 3}, {4, 5} and the isolated 6.
func spectralFixtureGraph(_ fixture: Fixture) throws -> Graph {
    let edges = try fixture.rows("graph.edges").map { (Int($0[0]), Int($0[1])) }
    return try Graph(nodeCount: 7, edges: edges, weights: fixture.values("graph.weights").data)
}

@Suite struct GraphLaplacianTests {
    @Test func theNormalisedLaplacianMatchesNetworkxWithAZeroRowForIsolatedNodes() throws {
        let fixture = try Fixture("spectral")
        let laplacian = GraphLaplacian.normalized(try spectralFixtureGraph(fixture))
        expectClose(laplacian, try fixture.tensor("laplacian"), absolute: 1e-6, "L")
        #expect(laplacian.select(alongAxis: 0, index: 6).scalars == [Float](repeating: 0, count: 7))
    }

    @Test func zeroIsAnEigenvalueOncePerConnectedComponentAndAllLieIn0To2() throws {
        let fixture = try Fixture("spectral")
        let basis = GraphFourierBasis(graph: try spectralFixtureGraph(fixture))
        let values = basis.eigenvalues.scalars
        expectClose(basis.eigenvalues, try fixture.tensor("laplacian.eigenvalues"), absolute: 1e-5, "eigenvalues vs numpy")
        #expect(values.filter { Swift.abs($0) < 1e-5 }.count == 3, "three components: \(values)")
        #expect(values == values.sorted())
        #expect(values.allSatisfy { $0 > -1e-5 && $0 < 2 + 1e-5 }, "\(values)")
        let club = GraphFourierBasis(graph: try KarateClub.graph()).eigenvalues.scalars
        #expect(club.filter { Swift.abs($0) < 1e-5 }.count == 1, "the club is connected")
        #expect(club.allSatisfy { $0 > -1e-5 && $0 < 2 + 1e-5 })
        #expect(club[1] > 0.1, "the spectral gap of a connected graph is positive: \(club[1])")
    }

    @Test func aBipartiteGraphReachesTheUpperBound2() throws {
        let path = try Graph(nodeCount: 4, edges: [(0, 1), (1, 2), (2, 3)])
        #expect(Swift.abs(GraphLaplacian.maximumEigenvalue(path) - 2) < 1e-5)
    }

    @Test func theFourierTransformInvertsAndDiagonalisesTheLaplacian() throws {
        let graph = try KarateClub.graph(weighted: true)
        var generator = RandomGenerator(seed: 1)
        let signal = Tensor.randomNormal([34, 2], generator: &generator)
        let basis = GraphFourierBasis(graph: graph)
        expectClose(basis.inverseTransform(basis.transform(signal)), signal, absolute: 1e-4, "U Uᵀ x = x")
        // (L x)^ = Λ x̂: the Laplacian is diagonal in its own basis.
        let laplacian = GraphLaplacian.normalized(graph)
        expectClose(basis.transform(laplacian.matmul(signal)), basis.transform(signal) * basis.eigenvalues.reshape([34, 1]),
                    absolute: 1e-4, "Fourier transform of L x")
        #expect(basis.transform(signal.select(alongAxis: 1, index: 0)).shape == [34])
    }

    @Test func theSparseLaplacianProductEqualsTheDenseOne() throws {
        let fixture = try Fixture("spectral")
        let graph = try spectralFixtureGraph(fixture)
        let x = try fixture.tensor("cheb.x")
        expectClose(NormalizedAdjacency(graph).laplacian(x), GraphLaplacian.normalized(graph).matmul(x), absolute: 1e-6, "L x")
        let directed = try Graph(nodeCount: 3, edges: [(0, 1), (1, 2), (0, 2)], directed: true)
        let adjacency = NormalizedAdjacency(directed), y = Tensor([[1, 2], [3, 4], [5, 6]])
        // ⟨Âᵀ y, x⟩ = ⟨y, Â x⟩ for the transpose.
        #expect(Swift.abs((adjacency.transposed(y) * y.flipped(alongAxes: [0])).sum().item
            - (y * adjacency(y.flipped(alongAxes: [0]))).sum().item) < 1e-5)
    }

    @Test func theScaledLaplacianHasItsSpectrumInMinus1To1() throws {
        let graph = try KarateClub.graph()
        let laplacian = GraphLaplacian.normalized(graph)
        let scaled = GraphLaplacian.scaled(laplacian, maximumEigenvalue: GraphLaplacian.maximumEigenvalue(graph))
        let values = GraphFourierBasis(laplacian: scaled).eigenvalues.scalars
        #expect(Swift.abs(values.first! + 1) < 1e-5 && Swift.abs(values.last! - 1) < 1e-5, "\(values.first!) … \(values.last!)")
    }
}
