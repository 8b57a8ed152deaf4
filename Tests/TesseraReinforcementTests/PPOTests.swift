import Testing
import TesseraTensor
@testable import TesseraReinforcement

/// Tiny-budget end-to-end runs (CleanRL-style smoke tests): each asserts that learning made
/// progress, which a sign error in the loss or a broken gradient would prevent.
@Suite struct PPOTests {
    @Test func ppoImprovesCartPoleReturnWithinASmallBudget() {
        var config = PPOConfig()
        config.totalSteps = 16 * 512
        config.learningRate = 1e-3
        let learner = PPO(config: config) { Environments.make("CartPole-v1")! }
        let before = mean(evaluate({ Environments.make("CartPole-v1")! }, episodes: 10, act: learner.act))
        var returns: [Double] = []
        for _ in 0..<learner.totalIterations { if let value = learner.iterate()["episode_return"] { returns.append(value) } }
        let after = mean(evaluate({ Environments.make("CartPole-v1")! }, episodes: 10, act: learner.act))
        #expect(after > before + 50 && after > 100, "greedy return \(before) → \(after); training returns \(returns)")
        #expect(learner.environmentSteps == 16 * 512)
    }

    @Test func generalizedAdvantagesMatchHandComputedValues() {
        // One copy, three steps, the episode terminating after step 1: the advantage of step 1
        // must not see step 2's value, and step 2 bootstraps from lastValues.
        let rollout = Rollout(steps: 3, copies: 1, observations: Tensor.zeros([3, 1]), actions: Tensor.zeros([3]),
                              logProbabilities: [0, 0, 0], values: [0.5, 0.25, 1], rewards: [1, 2, 3], dones: [0, 1, 0],
                              lastValues: [4], finishedEpisodes: [])
        let (advantages, returns) = generalizedAdvantages(rollout, discount: 0.9, lambda: 0.8)
        let delta2: Float = 3 + 0.9 * 4 - 1, delta1: Float = 2 - 0.25, delta0: Float = 1 + 0.9 * 0.25 - 0.5
        let expected: [Float] = [delta0 + 0.9 * 0.8 * delta1, delta1, delta2]
        for (a, e) in zip(advantages, expected) { #expect(Swift.abs(a - e) < 1e-6) }
        #expect(Swift.abs(returns[2] - (delta2 + 1)) < 1e-6)
    }

    @Test func truncatedEpisodeBootstrapsFromItsFinalObservation() {
        // Pendulum never terminates; its 200-step limit truncates. The rollout's reward at the
        // cut must include γ·V(final observation), which is nonzero for an untrained critic.
        var generator = RandomGenerator(seed: 0)
        let environments = VectorEnvironment(count: 1) { Environments.make("Pendulum-v1")! }
        environments.reset(seed: 0)
        let network = ActorCritic(observationSpace: environments.observationSpace, actionSpace: environments.actionSpace,
                                  generator: &generator)
        let rollout = collectRollout(environments, network: network, steps: 200, discount: 0.99, generator: &generator)
        #expect(rollout.dones[199] == 1 && rollout.dones[..<199].allSatisfy { $0 == 0 })
        #expect(rollout.finishedEpisodes.count == 1)
        let rawReturn = rollout.finishedEpisodes[0].return
        let stored = rollout.rewards.reduce(0) { $0 + Double($1) }
        #expect(Swift.abs(stored - rawReturn) > 1e-4, "the bootstrap term was not added")
    }
}

func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(max(values.count, 1)) }
