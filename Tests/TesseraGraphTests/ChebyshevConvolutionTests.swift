import Foundation
import Testing
import TesseraTensor
@testable import TesseraGraph

@Suite struct ChebyshevConvolutionTests {
    @Test(arguments: [("two", ChebyshevConvolution.MaximumEigenvalue.two), ("exact", .exact)])
    func order3MatchesADenseTorchReferenceInValuesAndGradients(_ scaling: String, _ maximumEigenvalue: ChebyshevConvolution.MaximumEigenvalue) throws {
        let fixture = try Fixture("spectral")
        let graph = try spectralFixtureGraph(fixture)
        let x = try fixture.tensor("cheb.x").requiringGradient()
        let layer = ChebyshevConvolution(weight: try fixture.tensor("cheb.weight"), bias: try fixture.tensor("cheb.bias"),
                                         maximumEigenvalue: maximumEigenvalue)
        let y = layer(x, graph: graph)
        expectClose(y, try fixture.tensor("cheb.\(scaling).y"), absolute: 1e-5, "y (\(scaling))")
        (y * (try fixture.tensor("cheb.seed"))).sum().backward()
        expectClose(try #require(x.grad), try fixture.tensor("cheb.\(scaling).grad.x"), absolute: 1e-5, "∂/∂x")
        expectClose(try #require(layer.weight.grad), try fixture.tensor("cheb.\(scaling).grad.weight"), absolute: 1e-5, "∂/∂W")
        expectClose(try #require(layer.bias?.grad), try fixture.tensor("cheb.\(scaling).grad.bias"), absolute: 1e-5, "∂/∂b")
    }

    /// Kipf & Welling 2017, Sec. 2.2, step by step. The karate club has no isolated node, so
    /// `L = I − D^-1/2 A D^-1/2` holds on every row (an isolated node has `L_ii = 0`, see
    /// ``GraphLaplacian``, and the self-loops of step 2 remove the distinction anyway).
    @Test func theFirstOrderFilterWithTiedWeightsAndRenormalisationIsGCN() throws {
        let graph = try KarateClub.graph(weighted: true)
        var generator = RandomGenerator(seed: 7)
        let x = Tensor.randomNormal([34, 3], generator: &generator)
        let theta = Tensor.randomNormal([3, 2], generator: &generator)
        let n = 34

        // Step 1. K = 2, λ_max = 2: L̃ = L − I = −D^-1/2 A D^-1/2, so with θ = W_0 = −W_1
        //   y = x θ − L̃ x θ = (I + D^-1/2 A D^-1/2) x θ.
        let tied = ChebyshevConvolution(weight: Tensor.stack([theta, -theta]), bias: nil, maximumEigenvalue: .two)
        let adjacency = Tensor(shape: [n, n], scalars: graph.adjacencyMatrix())
        let inverseRoots = Tensor(graph.inDegrees).rsqrt()
        let normalized = inverseRoots.reshape([n, 1]) * adjacency * inverseRoots.reshape([1, n])
        expectClose(tied(x, graph: graph), (Tensor.eye(n) + normalized).matmul(x).matmul(theta), absolute: 1e-4,
                    "first-order tied filter = (I + D^-1/2 A D^-1/2) x θ")

        // Step 2. Renormalisation: I + D^-1/2 A D^-1/2 → D̃^-1/2 (A + I) D̃^-1/2 = I − L_loops
        // = −L̃_loops (λ_max = 2), the scaled Laplacian of the graph with self-loops (L_loops its Laplacian).
        // So GCN is the same layer on A + I with the T_0 weight dropped: W_0 = 0, W_1 = −θ.
        let renormalized = ChebyshevConvolution(weight: Tensor.stack([Tensor.zeros([3, 2]), -theta]), bias: nil)
        let looped = adjacency + Tensor.eye(n)
        let loopedRoots = looped.sum(alongAxis: 1).rsqrt()
        let propagation = loopedRoots.reshape([n, 1]) * looped * loopedRoots.reshape([1, n])
        let gcn = propagation.matmul(x).matmul(theta)
        expectClose(renormalized(x, graph: graph.addingSelfLoops()), gcn, absolute: 1e-4, "D̃^-1/2 (A + I) D̃^-1/2 x θ")
        // With tied weights on A + I the T_0 term stays: y = x θ + GCN(x).
        expectClose(tied(x, graph: graph.addingSelfLoops()), x.matmul(theta) + gcn, absolute: 1e-4, "tied on A + I")
    }

    @Test func gradientsMatchFiniteDifferences() throws {
        let fixture = try Fixture("spectral")
        let graph = try spectralFixtureGraph(fixture)
        let x = try fixture.tensor("cheb.x"), weight = try fixture.tensor("cheb.weight"), seed = try fixture.tensor("cheb.seed")
        let layer = ChebyshevConvolution(weight: weight, bias: nil, maximumEigenvalue: .exact)
        expectGradientMatchesFiniteDifferences(x, tolerance: 1e-2, "∂/∂x") { (layer($0, graph: graph) * seed).sum() }
        expectGradientMatchesFiniteDifferences(weight, tolerance: 1e-2, "∂/∂W") { w in
            (ChebyshevConvolution(weight: w, bias: nil)(x, graph: graph) * seed).sum()
        }
    }

    @Test func orderOneIsALinearMapOfEveryNodeAndOrderKReachesKMinus1Hops() throws {
        let path = try Graph(nodeCount: 6, edges: [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)])
        let impulse = Tensor(shape: [6, 1], scalars: [1, 0, 0, 0, 0, 0])
        let one = ChebyshevConvolution(weight: Tensor.full([1, 1, 1], 3), bias: nil)
        #expect(one(impulse, graph: path).scalars == [3, 0, 0, 0, 0, 0])
        let three = ChebyshevConvolution(weight: Tensor.ones([3, 1, 1]), bias: nil)
        let response = three(impulse, graph: path).scalars
        #expect(response[2] != 0 && response[3...].allSatisfy { $0 == 0 }, "K = 3 reaches 2 hops: \(response)")
    }
}
