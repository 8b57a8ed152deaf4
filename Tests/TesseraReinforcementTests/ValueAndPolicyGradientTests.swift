import Testing
import TesseraReinforcement

/// Small-budget learning checks (CleanRL-style smoke tests) for DQN, A2C and REINFORCE on
/// CartPole: the greedy policy must clearly improve. The full targets run in `make convergence`.
@Suite struct ValueAndPolicyGradientTests {
    /// The greedy return over 10 episodes before and after running `learner` to its budget.
    static func greedyReturns(_ learner: any Learner) -> (before: Double, after: Double) {
        func greedyReturn() -> Double { mean(evaluate({ Environments.make("CartPole-v1")! }, episodes: 10, act: learner.act)) }
        let before = greedyReturn()
        for _ in 0..<learner.totalIterations { _ = learner.iterate() }
        return (before, greedyReturn())
    }

    @Test func dqnImprovesCartPoleReturnWithinASmallBudget() {
        var config = DQNConfig()
        config.totalSteps = 12_000
        config.learningStarts = 500
        config.trainFrequency = 64
        config.gradientSteps = 32
        config.explorationFraction = 0.3
        config.hiddenSizes = [64, 64]
        let (before, after) = Self.greedyReturns(DQN(config: config) { Environments.make("CartPole-v1")! })
        #expect(after > before + 50 && after > 100, "greedy return \(before) → \(after)")
    }

    @Test func a2cImprovesCartPoleReturnWithinASmallBudget() {
        var config = A2CConfig()
        config.totalSteps = 40_000
        let (before, after) = Self.greedyReturns(A2C(config: config) { Environments.make("CartPole-v1")! })
        #expect(after > before + 50 && after > 100, "greedy return \(before) → \(after)")
    }

    @Test func reinforceImprovesCartPoleReturnWithinASmallBudget() {
        var config = REINFORCEConfig()
        config.updates = 40
        let (before, after) = Self.greedyReturns(REINFORCE(config: config) { Environments.make("CartPole-v1")! })
        // REINFORCE has the noisiest gradient of the three; 40 updates move the untrained 9-step
        // policy well past 50 steps.
        #expect(after > before + 40 && after > 60, "greedy return \(before) → \(after)")
    }
}
