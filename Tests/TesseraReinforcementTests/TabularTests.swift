import Testing
import TesseraTensor
@testable import TesseraReinforcement

@Suite struct TabularTests {
    /// Sutton & Barto's Example 6.6: ε = 0.1, α = 0.5, γ = 1, 500 episodes.
    let cliffConfig = TabularConfig(episodes: 500, learningRate: 0.5, discount: 1, epsilon: .constant(0.1), seed: 3)

    /// Row of a CliffWalking state (row 3 holds the start, the cliff and the goal).
    func row(_ state: Int) -> Int { state / CliffWalking.columns }

    @Test func qLearningOnTheCliffTakesTheOptimalPathAlongTheEdge() {
        let result = qLearning(CliffWalking(), config: cliffConfig)
        let path = followPolicy(result.q.greedyPolicy, in: CliffWalking())
        #expect(path.reachedTerminal)
        #expect(path.return == -13)
        // Up from the start, eleven steps right along row 2 (right above the cliff), down.
        #expect(path.states.filter { row($0) == 2 }.count == 12)
    }

    @Test func sarsaOnTheCliffTakesTheSaferPathAwayFromTheEdge() {
        let result = sarsa(CliffWalking(), config: cliffConfig)
        let path = followPolicy(result.q.greedyPolicy, in: CliffWalking())
        #expect(path.reachedTerminal)
        // Longer than the optimal 13 steps: with a constant α = 0.5 the last table is noisy, so the
        // greedy path may wiggle (19 steps with this seed), but it keeps away from the edge.
        #expect(path.return < -13, "path \(path.states)")
        // Row 2 is entered only at the two ends (column 0 going up, column 11 coming down).
        #expect(path.states.filter { row($0) == 2 }.allSatisfy { $0 % CliffWalking.columns == 0 || $0 % CliffWalking.columns == 11 })
    }

    @Test func sarsaEarnsMoreOnlineThanQLearningOnTheCliff() {
        // Figure 6.4: Q-learning's exploring walk along the edge falls in more often.
        let sarsaReturns = sarsa(CliffWalking(), config: cliffConfig).episodeReturns.suffix(200)
        let qReturns = qLearning(CliffWalking(), config: cliffConfig).episodeReturns.suffix(200)
        let sarsaMean = sarsaReturns.reduce(0, +) / 200, qMean = qReturns.reduce(0, +) / 200
        #expect(sarsaMean > qMean + 10, "SARSA \(sarsaMean) vs Q-learning \(qMean)")
    }

    /// On the non-slippery lake the shortest path to the goal takes 6 steps; with γ < 1 the optimal
    /// policy takes one, and every learner's greedy policy must too.
    @Test(arguments: ["qLearning", "sarsa", "monteCarloFirstVisit", "monteCarloEveryVisit"])
    func learnerFindsAnOptimalPathOnFrozenLake(method: String) throws {
        let environment = try #require(Environments.make("FrozenLake-v1"))
        let config = TabularConfig(episodes: 2000, learningRate: method.hasPrefix("monteCarlo") ? nil : 0.5, discount: 0.9,
                                   epsilon: .linear(start: 1, end: 0.05, steps: 1000), seed: 1)
        let result: TabularResult
        switch method {
        case "qLearning": result = qLearning(environment, config: config)
        case "sarsa": result = sarsa(environment, config: config)
        case "monteCarloFirstVisit": result = monteCarloControl(environment, config: config, rule: .firstVisit)
        default: result = monteCarloControl(environment, config: config, rule: .everyVisit)
        }
        let path = followPolicy(result.q.greedyPolicy, in: environment)
        #expect(path.return == 1 && path.states.count == 7, "\(method): path \(path.states)")
        // Each action on the path is optimal by value iteration.
        let optimal = optimalActionValues(FrozenLake(slippery: false), discount: 0.9)
        for state in path.states.dropLast() {
            let chosen = result.q.greedyPolicy[state]
            #expect(Swift.abs(optimal[state][chosen] - optimal[state].max()!) < 1e-9, "\(method): state \(state)")
        }
    }

    /// The random walk of Sutton & Barto's Example 6.2, three states wide: from the middle, step
    /// left or right at random; the right end pays 1. The true values are 1/4, 1/2, 3/4.
    @Test(arguments: ["firstVisit", "everyVisit", "temporalDifference"])
    func predictionRecoversRandomWalkValues(method: String) {
        let walk = GridWorld(layout: ["X.S.G"], stepReward: 0, goalReward: 1, trapReward: 0)
        let config = TabularConfig(episodes: 4000, learningRate: 0.01, discount: 1, seed: 2)
        let leftOrRight: (Int, inout RandomGenerator) -> Int = { _, generator in generator.nextInt(below: 2) == 0 ? 1 : 3 }
        let values: [Double]
        switch method {
        case "firstVisit": values = monteCarloPrediction(walk, policy: leftOrRight, config: config, rule: .firstVisit)
        case "everyVisit": values = monteCarloPrediction(walk, policy: leftOrRight, config: config, rule: .everyVisit)
        default: values = temporalDifferencePrediction(walk, policy: leftOrRight, config: config)
        }
        for (state, truth) in [(1, 0.25), (2, 0.5), (3, 0.75)] {
            #expect(Swift.abs(values[state] - truth) < 0.05, "\(method): V(\(state)) = \(values[state]), expected \(truth)")
        }
    }

    @Test func epsilonIsTheProbabilityOfARandomAction() {
        // ε = 0.1 over 4 actions: the greedy action 90% + 10%/4 of the time.
        var generator = RandomGenerator(seed: 5)
        let draws = 40_000
        let greedyCount = (0..<draws).filter { _ in epsilonGreedy([0, 1, 0, 0], epsilon: 0.1, generator: &generator) == 1 }.count
        #expect(Swift.abs(Double(greedyCount) / Double(draws) - 0.925) < 0.01)
    }

    @Test func linearScheduleDecaysThenHolds() {
        let schedule = EpsilonSchedule.linear(start: 1, end: 0.1, steps: 100)
        #expect(schedule.epsilon(at: 0) == 1)
        #expect(Swift.abs(schedule.epsilon(at: 50) - 0.55) < 1e-12)
        #expect(schedule.epsilon(at: 100) == 0.1 && schedule.epsilon(at: 1000) == 0.1)
        #expect(EpsilonSchedule.exponential(start: 1, end: 0.2, rate: 0.5).epsilon(at: 1) == 0.5)
        #expect(EpsilonSchedule.exponential(start: 1, end: 0.2, rate: 0.5).epsilon(at: 5) == 0.2)
    }

    @Test func tabularMethodOnAContinuousEnvironmentNamesBothSpaces() async throws {
        let result = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = qLearning(CartPole(), config: TabularConfig(episodes: 1))
        }
        let message = String(decoding: result.standardErrorContent, as: UTF8.self)
        #expect(message.contains("qLearning: needs discrete observations and actions, but CartPole-v1 has observation space Box(4"))
        #expect(message.contains("action space Discrete(2)"))
    }

    @Test func actionOutsideTheSpaceNamesActionAndSpace() async throws {
        let result = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let environment = CartPole()
            _ = environment.reset(seed: 0)
            _ = environment.step(.discrete(2))
        }
        let message = String(decoding: result.standardErrorContent, as: UTF8.self)
        #expect(message.contains("Tessera CartPole-v1: action 2 is outside the action space Discrete(2)"))
    }

    @Test func wrongObservationShapeFromAUserEnvironmentNamesBothSizes() async throws {
        let result = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let vector = VectorEnvironment([BrokenEnvironment()])
            vector.reset(seed: 0)
        }
        let message = String(decoding: result.standardErrorContent, as: UTF8.self)
        #expect(message.contains("Tessera Broken: returned an observation of 3 values"))
        #expect(message.contains("observation space Box(2"))
    }
}

/// A user environment that promises two observation values and returns three.
final class BrokenEnvironment: Environment {
    let name = "Broken"
    let observationSpace = Space.box(low: [0, 0], high: [1, 1])
    let actionSpace = Space.discrete(2)
    func reset(seed: UInt64?) -> [Float] { [0, 0, 0] }
    func step(_ action: Action) -> StepResult { StepResult(observation: [0, 0, 0], reward: 0, terminated: false, truncated: false) }
}
