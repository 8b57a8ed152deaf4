import Foundation
import Testing
import TesseraNN
import TesseraTensor
@testable import TesseraODE

/// The continuous normalizing flow: a density that integrates to one, an unbiased trace
/// estimator, invertibility, and gradients through the trace.
@Suite struct FFJORDTests {
    /// A small 2-D flow whose field is strong enough to bend the Gaussian visibly.
    func smallFlow(trace: TraceEstimator = .exact, adjoint: Bool = false, solver: ODESolverOptions? = nil) -> FFJORD {
        var config = FFJORDConfig(features: 2)
        config.hiddenSizes = [16]
        config.trace = trace
        config.adjoint = adjoint
        if let solver { config.solver = solver }
        var generator = RandomGenerator(seed: 11)
        let flow = FFJORD(config: config, generator: &generator)
        for layer in flow.function.network.layers { layer.weight.assign(layer.weight * 2) }
        return flow
    }

    @Test func exactTraceDensityIntegratesToOne() throws {
        let flow = smallFlow(solver: .dopri5(relativeTolerance: 1e-5, absoluteTolerance: 1e-6))
        let step: Float = 0.25, extent: Float = 6
        let axis = Array(stride(from: -extent, through: extent, by: step))
        let grid = Tensor(axis.flatMap { x in axis.map { y in [x, y] } })
        let logDensity = try withoutGradients { try flow.logLikelihood(grid) }
        let mass = logDensity.exp().sum().item * step * step
        #expect(abs(mass - 1) < 0.02, "mass \(mass)")
        // The flow is not the identity: the density differs from the base's.
        let base = FFJORD.standardNormalLogDensity(grid)
        #expect((logDensity - base).abs().max().item > 0.1)
    }

    @Test(arguments: [TraceEstimator.hutchinsonRademacher, .hutchinsonGaussian])
    func hutchinsonEstimateIsUnbiased(_ estimator: TraceEstimator) {
        let flow = smallFlow()
        let draws = 4000
        let point = Tensor([[0.3, -0.7]])
        let exact = withoutGradients { flow.trace(time: 0.5, points: point, noise: nil) }.item
        let points = point.expand(to: [draws, 2]).copy()
        var generator = RandomGenerator(seed: 5)
        let noise = estimator == .hutchinsonRademacher
            ? Tensor.bernoulli([draws, 2], probability: 0.5, generator: &generator) * 2 - 1
            : Tensor.randomNormal([draws, 2], generator: &generator)
        let estimates = withoutGradients { flow.trace(time: 0.5, points: points, noise: noise) }
        let mean = estimates.mean().item
        let standardError = estimates.standardDeviation().item / Float(draws).squareRoot()
        #expect(standardError > 0, "the estimator has variance")
        #expect(abs(mean - exact) < 4 * standardError, "mean \(mean) vs exact \(exact) ± \(standardError)")
    }

    @Test func samplingInvertsTheFlow() throws {
        let flow = smallFlow(solver: .dopri5(relativeTolerance: 1e-6, absoluteTolerance: 1e-7))
        let base = Tensor([[0.5, -1], [1.5, 0.2], [-0.3, 0.8]])
        let points = try withoutGradients { try flow.sample(fromBase: base) }
        #expect((points - base).abs().max().item > 0.05, "the flow moves points")
        let back = try withoutGradients { try flow.flow(points, logDensityChange: Tensor.zeros([3, 1]), from: 0, to: 1).points }
        expectClose(back, base, absolute: 1e-4, relative: 0, "x → z → x")
        #expect(try flow.sample(count: 5).shape == [5, 2])
    }

    /// The loss differentiates through the trace: second-order gradients of the field.
    @Test(arguments: [false, true])
    func negativeLogLikelihoodGradientMatchesFiniteDifferences(_ adjoint: Bool) throws {
        let flow = smallFlow(adjoint: adjoint, solver: .fixedStep(.rk4, stepSize: 0.25))
        let points = Tensor([[0.4, -0.2], [-1, 0.9]])
        expectGradientMatchesFiniteDifferences(points, step: 1e-2, tolerance: 1e-2, "∂NLL/∂x") { x in
            try! flow.negativeLogLikelihood(x)
        }
        // One weight of the first layer, by hand.
        let weight = flow.function.network.layers[0].weight
        weight.grad = nil  // the check above accumulated into it
        try flow.negativeLogLikelihood(points).backward()
        let analytic = weight.grad!.scalars[3]
        let original = weight.scalars
        func loss(_ delta: Float) throws -> Float {
            var values = original
            values[3] += delta
            weight.assign(Tensor(shape: weight.shape, scalars: values))
            defer { weight.assign(Tensor(shape: weight.shape, scalars: original)) }
            return try withoutGradients { try flow.negativeLogLikelihood(points).item }
        }
        let numeric = (try loss(1e-2) - (try loss(-1e-2))) / 2e-2
        #expect(abs(analytic - numeric) <= 1e-2 * max(1, abs(numeric)), "∂NLL/∂w: \(analytic) vs \(numeric)")
    }

    @Test func briefTrainingRaisesTheLikelihoodOfShiftedData() throws {
        let flow = smallFlow(trace: .hutchinsonRademacher, adjoint: true, solver: .dopri5(relativeTolerance: 1e-3, absoluteTolerance: 1e-4))
        var generator = RandomGenerator(seed: 9)
        let data = Tensor.randomNormal([64, 2], standardDeviation: 0.5, generator: &generator) + Tensor([1.5, -1])
        let optimizer = Adam(parameters: flow.namedParameters(), learningRate: 0.01)
        let before = try withoutGradients { try flow.negativeLogLikelihood(data).item }
        for _ in 0..<30 {
            optimizer.zeroGradients()
            try flow.negativeLogLikelihood(data).backward()
            optimizer.step()
        }
        let after = try withoutGradients { try flow.negativeLogLikelihood(data).item }
        #expect(after < before - 0.3, "NLL \(before) → \(after)")
        #expect(flow.lastFunctionEvaluations > 0)
    }
}
