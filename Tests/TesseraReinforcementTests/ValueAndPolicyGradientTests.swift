import Testing
import TesseraReinforcement

/// Small-budget learning checks (CleanRL-style smoke tests) for DQN, A2C and REINFORCE on
/// CartPole: the greedy policy must clearly improve. The full targets run in `make convergence`.
@Suite struct ValueAndPolicyGradientTests {
    static func greedyReturn(_ act: (([Float]) -> Action)) -> Double {
        mean(evaluate({ Environments.make("CartPole-v1")! }, episodes: 10, act: act))
    }

    @Test func dqnImprovesCartPoleReturnWithinASmallBudget() {
        var config = DQNConfig()
        config.totalSteps = 12_000
        config.learningStarts = 500
        config.trainFrequency = 64
        config.gradientSteps = 32
        config.explorationFraction = 0.3
        config.hiddenSizes = [64, 64]
        let learner = DQN(config: config) { Environments.make("CartPole-v1")! }
        let before = Self.greedyReturn(learner.act)
        for _ in 0..<learner.totalIterations { _ = learner.iterate() }
        let after = Self.greedyReturn(learner.act)
        #expect(after > before + 50 && after > 100, "greedy return \(before) → \(after)")
    }

    @Test func a2cImprovesCartPoleReturnWithinASmallBudget() {
        var config = A2CConfig()
        config.totalSteps = 40_000
        let learner = A2C(config: config) { Environments.make("CartPole-v1")! }
        let before = Self.greedyReturn(learner.act)
        for _ in 0..<learner.totalIterations { _ = learner.iterate() }
        let after = Self.greedyReturn(learner.act)
        #expect(after > before + 50 && after > 100, "greedy return \(before) → \(after)")
    }

    @Test func reinforceImprovesCartPoleReturnWithinASmallBudget() {
        var config = REINFORCEConfig()
        config.updates = 40
        let learner = REINFORCE(config: config) { Environments.make("CartPole-v1")! }
        let before = Self.greedyReturn(learner.act)
        for _ in 0..<learner.totalIterations { _ = learner.iterate() }
        let after = Self.greedyReturn(learner.act)
        // REINFORCE has the noisiest gradient of the three; 40 updates move the untrained 9-step
        // policy well past 50 steps.
        #expect(after > before + 40 && after > 60, "greedy return \(before) → \(after)")
    }
}
