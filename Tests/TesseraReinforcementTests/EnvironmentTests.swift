import Testing
@testable import TesseraReinforcement

/// Each environment replays Gymnasium's recorded episodes (Tests/Fixtures/fixtures_rl.py) from the
/// same start state and must match every step: observation, reward, terminated, truncated.
/// Observations are Float32 in both; the dynamics run in Double in both, so differences come
/// only from libm's last bit and stay far below the tolerance.
@Suite struct EnvironmentTests {
    let fixture: Fixture

    init() throws { fixture = try Fixture("environments") }

    /// Replays `<key>` in `environment` (already wrapped in its time limit), after `setState`.
    func replay(_ key: String, _ environment: Environment, tolerance: Float = 1e-5,
                setState: (([Double]) -> Void)?, sourceLocation: SourceLocation = #_sourceLocation) throws {
        var first = environment.reset(seed: 0)
        if let setState {
            setState(try fixture.values("\(key).state").data.map(Double.init))
            first = (environment as? TimeLimit).map { observationOf($0.wrapped) } ?? observationOf(environment)
        }
        let observations = try fixture.rows("\(key).observations")
        let actions = try fixture.values("\(key).actions").data
        let rewards = try fixture.values("\(key).rewards").data
        let terminated = try fixture.values("\(key).terminated").data
        let truncated = try fixture.values("\(key).truncated").data
        expectClose(first, observations[0], tolerance, "\(key) start", sourceLocation)
        for step in actions.indices {
            let action: Action = environment.actionSpace.count == nil ? .continuous([actions[step]]) : .discrete(Int(actions[step]))
            let result = environment.step(action)
            expectClose(result.observation, observations[step + 1], tolerance, "\(key) step \(step)", sourceLocation)
            #expect(Swift.abs(Float(result.reward) - rewards[step]) <= 1e-5 * Swift.max(1, Swift.abs(rewards[step])),
                    "\(key) step \(step): reward \(result.reward) vs \(rewards[step])", sourceLocation: sourceLocation)
            #expect(result.terminated == (terminated[step] == 1), "\(key) step \(step): terminated", sourceLocation: sourceLocation)
            #expect(result.truncated == (truncated[step] == 1), "\(key) step \(step): truncated", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: 0..<4) func cartPoleMatchesGymnasium(episode: Int) throws {
        let environment = try #require(Environments.make("CartPole-v1") as? TimeLimit)
        let cartPole = try #require(environment.wrapped as? CartPole)
        try replay("CartPole-v1.\(episode)", environment) { cartPole.state = $0 }
    }

    @Test(arguments: 0..<2) func acrobotMatchesGymnasium(episode: Int) throws {
        let environment = try #require(Environments.make("Acrobot-v1") as? TimeLimit)
        let acrobot = try #require(environment.wrapped as? Acrobot)
        // 500 chaotic RK4 steps amplify libm's last-bit differences; 1e-4 still catches any
        // wrong constant or sign (those diverge within a few steps).
        try replay("Acrobot-v1.\(episode)", environment, tolerance: 1e-4) { acrobot.state = $0 }
    }

    @Test(arguments: 0..<2) func mountainCarMatchesGymnasium(episode: Int) throws {
        let environment = try #require(Environments.make("MountainCar-v0") as? TimeLimit)
        let car = try #require(environment.wrapped as? MountainCar)
        try replay("MountainCar-v0.\(episode)", environment) { car.state = $0 }
    }

    @Test func pendulumMatchesGymnasiumIncludingTorqueClipping() throws {
        let environment = try #require(Environments.make("Pendulum-v1") as? TimeLimit)
        let pendulum = try #require(environment.wrapped as? Pendulum)
        try replay("Pendulum-v1.0", environment, tolerance: 2e-5) { pendulum.state = $0 }
    }

    @Test func frozenLakeIsTruncatedAfterOneHundredSteps() throws {
        try replay("FrozenLake-v1.0", try #require(Environments.make("FrozenLake-v1")), setState: nil)
    }

    @Test func cliffSendsTheWalkerBackToTheStartWithoutEndingTheEpisode() throws {
        try replay("CliffWalking-v1.0", try #require(Environments.make("CliffWalking-v1")), setState: nil)
    }

    @Test(arguments: [("CliffWalking-v1", CliffWalking() as TabularEnvironment),
                      ("CliffWalking-v1-slippery", CliffWalking(slippery: true)),
                      ("FrozenLake-v1", FrozenLake(slippery: false)),
                      ("FrozenLake-v1-slippery", FrozenLake(slippery: true))])
    func transitionTableEqualsGymnasiums(name: String, environment: TabularEnvironment) throws {
        let (shape, data) = try fixture.values("\(name).table")
        #expect(shape[0] == environment.stateCount && shape[1] == environment.actionCount)
        for state in 0..<shape[0] {
            for action in 0..<shape[1] {
                let outcomes = environment.transitions[state][action]
                for slot in 0..<shape[2] {
                    let base = ((state * shape[1] + action) * shape[2] + slot) * 4
                    let expected = Array(data[base..<(base + 4)])
                    if expected[0] == 0 { #expect(slot >= outcomes.count, "\(name) P[\(state)][\(action)] has extra outcomes"); continue }
                    guard slot < outcomes.count else { Issue.record("\(name) P[\(state)][\(action)] lacks outcome \(slot)"); continue }
                    let outcome = outcomes[slot]
                    let actual = [Float(outcome.probability), Float(outcome.nextState), Float(outcome.reward), outcome.terminated ? 1 : 0]
                    #expect(actual == expected, "\(name) P[\(state)][\(action)][\(slot)]")
                }
            }
        }
    }
}

/// The current observation of a built-in environment (after its state was set directly).
func observationOf(_ environment: Environment) -> [Float] {
    switch environment {
    case let cartPole as CartPole: return cartPole.observation
    case let acrobot as Acrobot: return acrobot.observation
    case let car as MountainCar: return car.observation
    case let pendulum as Pendulum: return pendulum.observation
    default: return []
    }
}

func expectClose(_ actual: [Float], _ expected: [Float], _ tolerance: Float, _ comment: String,
                 _ sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, "\(comment): \(actual.count) values vs \(expected.count)", sourceLocation: sourceLocation)
    for (a, b) in zip(actual, expected) where Swift.abs(a - b) > tolerance * Swift.max(1, Swift.abs(b)) {
        Issue.record("\(comment): \(actual) vs \(expected)", sourceLocation: sourceLocation)
        return
    }
}
