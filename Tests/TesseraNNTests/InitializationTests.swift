import Foundation
import Testing
import TesseraTensor
@testable import TesseraNN

/// Moments of a sample, in Double.
private func moments(_ tensor: Tensor) -> (mean: Double, standardDeviation: Double, minimum: Float, maximum: Float) {
    let values = tensor.scalars.map(Double.init)
    let mean = values.reduce(0, +) / Double(values.count)
    let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
    return (mean, variance.squareRoot(), tensor.scalars.min()!, tensor.scalars.max()!)
}

@Suite struct InitializationTests {
    var rng = RandomGenerator(seed: 21)

    @Test func fansFollowTorchForLinearAndConvolutionWeights() {
        #expect(Initialization.fans([10, 20]) == (20, 10))
        #expect(Initialization.fans([16, 3, 5, 5]) == (75, 400))
    }

    @Test mutating func linearDefaultInitMatchesTorchsDistribution() throws {
        let fixture = try Fixture("layers")
        let layer = Linear(256, 128, generator: &rng)
        let bound = try fixture.tensor("default.linearWeightBound").item
        let weight = moments(layer.weight), bias = moments(layer.bias!)
        #expect(weight.minimum >= -bound && weight.maximum <= bound)
        #expect(weight.maximum > 0.98 * bound && weight.minimum < -0.98 * bound, "uses the whole interval")
        // torch's sample standard deviation for the same shape; uniform(±b) has σ = b/√3.
        let torchStandardDeviation = Double(try fixture.tensor("default.linearWeightStd").item)
        #expect(Swift.abs(weight.standardDeviation - torchStandardDeviation) < 0.02 * torchStandardDeviation)
        #expect(Swift.abs(weight.mean) < 0.01 * Double(bound))
        #expect(bias.minimum >= -bound && bias.maximum <= bound)
    }

    @Test mutating func kaimingNormalHasStandardDeviationGainOverRootFan() {
        let weight = Initialization.kaimingNormal([200, 100], nonlinearity: .relu, generator: &rng)
        let expected = (2.0 / 100).squareRoot()
        #expect(Swift.abs(moments(weight).standardDeviation - expected) < 0.02 * expected)
        let fanOut = Initialization.kaimingNormal([50, 400], mode: .fanOut, nonlinearity: .tanh, generator: &rng)
        let expectedFanOut = 5.0 / 3.0 / 50.0.squareRoot()
        #expect(Swift.abs(moments(fanOut).standardDeviation - expectedFanOut) < 0.02 * expectedFanOut)
    }

    @Test mutating func kaimingUniformBoundUsesLeakyReluGain() {
        let weight = Initialization.kaimingUniform([64, 32, 3, 3], nonlinearity: .leakyRelu(slope: 0.2), generator: &rng)
        let bound = Float(3).squareRoot() * (2 / 1.04 as Float).squareRoot() / Float(32 * 9).squareRoot()
        let m = moments(weight)
        #expect(m.minimum >= -bound && m.maximum <= bound && m.maximum > 0.99 * bound)
    }

    @Test mutating func xavierUniformAndNormalUseBothFans() {
        let uniform = Initialization.xavierUniform([100, 300], gain: 2, generator: &rng)
        let bound = 2 * (6 / 400 as Float).squareRoot()
        #expect(moments(uniform).maximum <= bound && moments(uniform).maximum > 0.99 * bound)
        let normal = Initialization.xavierNormal([100, 300], generator: &rng)
        let expected = (2.0 / 400).squareRoot()
        #expect(Swift.abs(moments(normal).standardDeviation - expected) < 0.03 * expected)
    }

    @Test(arguments: [[6, 4], [4, 6], [5, 2, 3]])
    mutating func orthogonalRowsOrColumnsAreOrthonormalTimesGain(shape: [Int]) {
        let weight = Initialization.orthogonal(shape, gain: 2, generator: &rng).reshape([shape[0], -1])
        // The shorter side is orthonormal (times the gain): WᵀW = 4I for tall, WWᵀ = 4I for wide.
        let tall = weight.shape[0] >= weight.shape[1]
        let gram = tall ? weight.transposed().matmul(weight) : weight.matmul(weight.transposed())
        expectClose(gram, Tensor.eye(gram.shape[0]) * 4, absolute: 1e-4, "orthogonal \(shape)")
    }

    @Test mutating func truncatedNormalStaysWithinTwoStandardDeviations() {
        let sample = Initialization.truncatedNormal([20_000], mean: 1, standardDeviation: 0.5, generator: &rng)
        let m = moments(sample)
        #expect(m.minimum >= 0 && m.maximum <= 2)
        #expect(m.minimum < 0.02 && m.maximum > 1.98, "the tails up to the bounds are sampled")
        // A normal truncated at ±2σ has σ ≈ 0.8796·σ₀.
        #expect(Swift.abs(m.standardDeviation - 0.8796 * 0.5) < 0.01)
        #expect(Swift.abs(m.mean - 1) < 0.01)
    }

    @Test func zerosAndConstantFillEveryElement() {
        #expect(Initialization.zeros([2, 3]).scalars == [Float](repeating: 0, count: 6))
        #expect(Initialization.constant([4], 0.5).scalars == [0.5, 0.5, 0.5, 0.5])
    }
}
