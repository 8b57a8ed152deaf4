import Foundation
import Testing
import TesseraTensor
@testable import TesseraGraph

@Suite struct SpectralConvolutionTests {
    let graph: Graph
    let basis: GraphFourierBasis
    let features: Tensor
    let mixing: Tensor

    init() throws {
        graph = try spectralFixtureGraph(Fixture("spectral"))
        basis = GraphFourierBasis(graph: graph)
        var generator = RandomGenerator(seed: 3)
        features = Tensor.randomNormal([7, 3], generator: &generator)
        mixing = Tensor.randomNormal([3, 2], generator: &generator)
    }

    /// θ_ij(λ_k) = response(λ_k) · mixing[i, j], for every mode k.
    func filter(_ response: (Float) -> Float) -> Tensor {
        Tensor(basis.eigenvalues.scalars.map(response)).reshape([7, 1, 1]) * mixing.reshape([1, 3, 2])
    }

    @Test func unitResponsesMakeItALinearMapOfEveryNode() {
        let layer = SpectralConvolution(weight: filter { _ in 1 }, bias: nil, basis: basis)
        expectClose(layer(features, graph: graph), features.matmul(mixing), absolute: 1e-5, "U I Uᵀ x W")
    }

    @Test func aResponseEqualToTheEigenvalueAppliesTheLaplacian() {
        let layer = SpectralConvolution(weight: filter { $0 }, bias: Tensor([1, -1]), basis: basis)
        let expected = GraphLaplacian.normalized(graph).matmul(features).matmul(mixing) + Tensor([1, -1])
        expectClose(layer(features, graph: graph), expected, absolute: 1e-5, "U Λ Uᵀ x W + b")
    }

    @Test func aSmoothFilterInterpolatesBetweenKnots() {
        // Knots at 0 and λ_max with responses 0 and λ_max: θ(λ) = λ, the Laplacian again.
        let knots = Tensor([0, basis.maximumEigenvalue]).reshape([2, 1, 1]) * mixing.reshape([1, 3, 2])
        let layer = SpectralConvolution(weight: knots, bias: nil, basis: basis, parametrization: .smooth(knots: 2))
        let expected = GraphLaplacian.normalized(graph).matmul(features).matmul(mixing)
        expectClose(layer(features, graph: graph), expected, absolute: 1e-5, "piecewise linear θ(λ) = λ")
        var generator = RandomGenerator(seed: 0)
        let five = SpectralConvolution(inputSize: 3, outputSize: 2, basis: basis, parametrization: .smooth(knots: 5), generator: &generator)
        #expect(five.weight.shape == [5, 3, 2], "the parameter count does not grow with the graph")
        #expect(five.responses.shape == [7, 3, 2])
    }

    @Test func onlyTheFilterAndBiasAreParameters() {
        var generator = RandomGenerator(seed: 0)
        let layer = SpectralConvolution(inputSize: 3, outputSize: 2, basis: basis, parametrization: .smooth(knots: 4), generator: &generator)
        #expect(layer.namedParameters().map(\.name) == ["weight", "bias"])
    }

    @Test func gradientsMatchFiniteDifferences() {
        let layer = SpectralConvolution(weight: filter { 1 - $0 }, bias: nil, basis: basis)
        let seed = Tensor.full([7, 2], 0.5) + Tensor.eye(7).slice(alongAxis: 1, start: 0, end: 2)
        expectGradientMatchesFiniteDifferences(features, tolerance: 1e-2, "∂/∂x") { (layer($0, graph: graph) * seed).sum() }
        expectGradientMatchesFiniteDifferences(layer.weight, tolerance: 1e-2, "∂/∂θ") { weight in
            (SpectralConvolution(weight: weight, bias: nil, basis: basis)(features, graph: graph) * seed).sum()
        }
    }

    @Test func aGraphOfAnotherSizeIsRefusedNamingBothSizes() async throws {
        let result = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let graph = try! Graph(nodeCount: 3, edges: [(0, 1), (1, 2)])
            let layer = SpectralConvolution(weight: Tensor.ones([3, 1, 1]), bias: nil, basis: GraphFourierBasis(graph: graph))
            _ = layer(Tensor.ones([4, 1]), graph: try! Graph(nodeCount: 4, edges: [(0, 1)]))
        }
        let message = String(decoding: result.standardErrorContent, as: UTF8.self)
        #expect(message.contains("SpectralConvolution: the layer was built for a basis of 3 nodes, but the graph has 4"))
    }
}
