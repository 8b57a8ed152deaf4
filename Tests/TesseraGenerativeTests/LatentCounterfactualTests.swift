import Foundation
import Testing
import TesseraTensor
@testable import TesseraGenerative

/// Counterfactual search: it reaches the target class, the distance penalty keeps it closer, and
/// through a flow's inverse the moved latent decodes to a point the data-space classifier assigns to the target.
@Suite struct LatentCounterfactualTests {
    /// Logits `[x₀, −x₀, x₁]` for 2-D points: class 0 on the right, 1 on the left, 2 upwards.
    static func linearClassifier(_ points: Tensor) -> Tensor {
        points.matmul(Tensor([[1, -1, 0], [0, 0, 1]]))
    }

    @Test func searchReachesTheTargetClass() throws {
        let start = Tensor([[2, 0], [1.5, -0.5]])
        let result = try counterfactual(from: start, targetClasses: [1, 2], classifier: Self.linearClassifier)
        #expect(result.reachedTarget, "probabilities \(result.targetProbabilities)")
        #expect(result.steps > 1 && result.steps < 500)
        let predicted = Self.linearClassifier(result.points).argmax(alongAxis: 1).scalars
        #expect(predicted == [1, 2])
        #expect(start.scalars == [2, 0, 1.5, -0.5], "the start is not modified")
    }

    @Test func distancePenaltyKeepsTheCounterfactualCloser() throws {
        let start = Tensor([[2, 0]])
        var config = CounterfactualConfig()
        config.targetProbability = 0.95
        config.maximumSteps = 1000
        let free = try counterfactual(from: start, targetClasses: [1], classifier: Self.linearClassifier, config: config)
        config.distanceWeight = 0.5
        let pulled = try counterfactual(from: start, targetClasses: [1], classifier: Self.linearClassifier, config: config)
        let freeDistance = (free.points - start).norm().item, pulledDistance = (pulled.points - start).norm().item
        #expect(free.reachedTarget)
        #expect(pulledDistance < freeDistance, "λ = 0.5: \(pulledDistance) vs λ = 0: \(freeDistance)")
    }

    @Test func flowLatentCounterfactualDecodesToTheTargetClass() throws {
        // A flow's latent space: the classifier reads the decoded point x = f⁻¹(z). Since f⁻¹ is a
        // bijection with an invertible Jacobian, the ascent has no stationary point short of the target.
        var niceConfig = NICEConfig(features: 2)
        niceConfig.hiddenSizes = [8]
        var generator = RandomGenerator(seed: 3)
        let flow = try NICE(config: niceConfig, generator: &generator)
        flow.scaling.logScale.assign(Tensor([0.4, -0.3]))
        let latentClassifier = { (z: Tensor) throws -> Tensor in Self.linearClassifier(try flow.inverse(z)) }
        let start = try withoutGradients { try flow.forward(Tensor([[2, 0.2]])).output }
        #expect(Int(try latentClassifier(start).argmax(alongAxis: 1).scalars[0]) == 0, "the start decodes to class 0")
        let result = try counterfactual(from: start, targetClasses: [1], classifier: latentClassifier)
        #expect(result.reachedTarget, "probability \(result.targetProbabilities) after \(result.steps) steps")
        let decoded = try withoutGradients { try flow.inverse(result.points) }
        #expect(Int(Self.linearClassifier(decoded).argmax(alongAxis: 1).scalars[0]) == 1)
        #expect((result.points - start).abs().max().item > 0.1, "the latent moved")
    }

    @Test func badSettingsThrowClearErrors() {
        let start = Tensor([[1, 0]])
        #expect(throws: GenerativeError("counterfactual: target class 3 is out of range 0..<3")) {
            try counterfactual(from: start, targetClasses: [3], classifier: Self.linearClassifier)
        }
        #expect(throws: GenerativeError("counterfactual: expected 1 target classes (one per row), got 2")) {
            try counterfactual(from: start, targetClasses: [0, 1], classifier: Self.linearClassifier)
        }
        var config = CounterfactualConfig()
        config.stepSize = 0
        #expect(throws: GenerativeError("counterfactual: stepSize must be positive and finite, got 0.0")) {
            try counterfactual(from: start, targetClasses: [1], classifier: Self.linearClassifier, config: config)
        }
    }
}
