import Foundation
import Testing
import TesseraTensor
@testable import TesseraReinforcement

@Suite struct OffPolicyActorCriticTests {
    /// Two one-step transitions with π(a|s) = ½ both times and β(a|s) = ¼ and 1, so ρ = (2, ½).
    /// V(s) = ½ for both; rewards 1; V(s') = 2; the first terminated, the second was truncated;
    /// γ = ½. Targets y = (1, 1 + ½·2 = 2), TD errors δ = (½, 3/2).
    static func losses(truncation: Float) -> (policyLoss: Tensor, valueLoss: Tensor, ratios: Tensor,
                                              logProbabilities: Tensor, values: Tensor) {
        let logProbabilities = Tensor([Float(log(0.5)), Float(log(0.5))])
        logProbabilities.requiresGrad = true
        let values = Tensor([0.5, 0.5])
        values.requiresGrad = true
        let (policyLoss, valueLoss, ratios) = offPolicyActorCriticLosses(
            logProbabilities: logProbabilities, behaviourLogProbabilities: Tensor([Float(log(0.25)), 0]), values: values,
            nextValues: Tensor([2, 2]), rewards: Tensor([1, 1]), terminated: Tensor([1, 0]), discount: 0.5, ratioTruncation: truncation)
        (policyLoss + valueLoss).backward()
        return (policyLoss, valueLoss, ratios, logProbabilities, values)
    }

    static func close(_ actual: [Float], _ expected: [Float]) -> Bool {
        actual.count == expected.count && zip(actual, expected).allSatisfy { Swift.abs($0 - $1) < 1e-5 }
    }

    @Test func ratioWeightsActorAndCriticAndIsTruncatedAtC() {
        // c = 1.5 truncates ρ = 2 to 1.5 and leaves ½.
        let truncated = Self.losses(truncation: 1.5)
        #expect(Self.close(truncated.ratios.scalars, [1.5, 0.5]), "\(truncated.ratios.scalars)")
        // ∂/∂log π of −mean(ρ̄·δ·log π) = −ρ̄·δ/2 = (−1.5·0.5/2, −0.5·1.5/2).
        #expect(Self.close(truncated.logProbabilities.grad!.scalars, [-0.375, -0.375]), "\(truncated.logProbabilities.grad!.scalars)")
        // mean(ρ̄·(V − y)²) = (1.5·¼ + 0.5·9/4)/2 = 0.75; ∂/∂V = ρ̄·(V − y) = (−0.75, −0.75).
        #expect(Swift.abs(truncated.valueLoss.item - 0.75) < 1e-6)
        #expect(Self.close(truncated.values.grad!.scalars, [-0.75, -0.75]), "\(truncated.values.grad!.scalars)")

        // Without truncation ρ = 2 weighs the first transition fully.
        let full = Self.losses(truncation: .infinity)
        #expect(Self.close(full.ratios.scalars, [2, 0.5]))
        #expect(Self.close(full.logProbabilities.grad!.scalars, [-0.5, -0.375]))
        #expect(Self.close(full.values.grad!.scalars, [-1, -0.75]))
    }

    @Test func behaviourPolicyIsTheEpsilonMixtureOfTheLaggedActorAndItsLogProbabilitiesAreRecorded() {
        var config = OffPolicyActorCriticConfig()
        config.behaviourEpsilon = 0.5
        config.environmentCount = 2
        config.rolloutSteps = 3
        let learner = OffPolicyActorCritic(config: config) { Environments.make("CartPole-v1")! }
        let observations = learner.environments.observationTensor
        // Before any update the lagged copy equals the actor: β = ½·π + ½·½.
        let pi = learner.network.actor(observations).softmax(alongAxis: -1).scalars
        let beta = learner.behaviour(observations).logProbability(Tensor([0, 0])).exp().scalars
        #expect(Self.close(beta, [0.5 * pi[0] + 0.25, 0.5 * pi[2] + 0.25]), "β \(beta), π \(pi)")

        // The recorded log β of each collected transition is the mixture's at that state and action.
        var generator = RandomGenerator(seed: 3)
        let batch = collectTransitions(learner.environments, steps: 3, generator: &generator, behaviour: learner.behaviour)
        let recomputed = learner.behaviour(batch.observations).logProbability(batch.actions).scalars
        #expect(Self.close(batch.behaviourLogProbabilities.scalars, recomputed))
        #expect(batch.behaviourLogProbabilities.scalars.allSatisfy { $0 >= Float(log(0.25)) - 1e-6 }, "β ≥ ε/|A| = ¼")

        // After updates the actor has moved but β still acts with the copy made at iteration 0,
        // so the importance ratios differ from 1.
        var ratios: [Double] = []
        for _ in 0..<3 { ratios.append(learner.iterate()["ratio_mean"]!) }
        #expect(ratios.allSatisfy { $0 > 0 && $0 <= Double(config.ratioTruncation) })
        let actorOutputs = learner.network.actor(observations).scalars, behaviourOutputs = learner.behaviourActor(observations).scalars
        #expect(actorOutputs != behaviourOutputs, "the behaviour copy lags the updated actor")
    }

    @Test func offPolicyActorCriticImprovesCartPoleReturnWithinASmallBudget() {
        var config = OffPolicyActorCriticConfig()
        config.totalSteps = 40_000
        let learner = OffPolicyActorCritic(config: config) { Environments.make("CartPole-v1")! }
        for _ in 0..<learner.totalIterations { _ = learner.iterate() }
        let random = randomPolicyReturn(episodes: 20)
        let after = mean(evaluate({ Environments.make("CartPole-v1")! }, episodes: 10, act: learner.act))
        #expect(after > 4 * random && after > 100, "greedy return \(after) after \(learner.environmentSteps) steps; random policy \(random)")
    }
}
