import Foundation
import TesseraTensor

/// How ε changes over training: constant, or decaying from `start` to `end`.
public enum EpsilonSchedule: Equatable, Sendable {
    case constant(Double)
    /// Linear from `start` to `end` over `steps`, then `end` (DQN's schedule, Mnih et al., 2015).
    case linear(start: Double, end: Double, steps: Int)
    /// `max(end, start · rateᵗ)`.
    case exponential(start: Double, end: Double, rate: Double)

    /// ε at step (or episode) `t`.
    public func epsilon(at t: Int) -> Double {
        switch self {
        case .constant(let value):
            return value
        case .linear(let start, let end, let steps):
            guard steps > 0 else { return end }
            return t >= steps ? end : start + (end - start) * Double(t) / Double(steps)
        case .exponential(let start, let end, let rate):
            return max(end, start * pow(rate, Double(t)))
        }
    }
}

/// ε-greedy action selection, the standard convention (Sutton & Barto, 2018, §2.2): with
/// probability ε a uniformly random action (which may happen to be the greedy one), otherwise
/// the greedy action. So ε = 0 is fully greedy and ε = 1 fully random. The course notes state
/// it backwards ("greedy with probability ε"); with that reading ε = 0.1 would explore 90% of
/// the time and none of the book's results (Example 6.6) would reproduce.
///
/// Ties between maximal values are broken uniformly at random: with a zero-initialised table,
/// always taking the first maximum would bias early exploration toward action 0.
public func epsilonGreedy(_ values: [Double], epsilon: Double, generator: inout RandomGenerator) -> Int {
    precondition(!values.isEmpty, "epsilonGreedy: needs at least one action value")
    if generator.uniformDouble(0, 1) < epsilon { return generator.nextInt(below: values.count) }
    return greedy(values, generator: &generator)
}

/// An action of maximal value, ties broken uniformly at random.
public func greedy(_ values: [Double], generator: inout RandomGenerator) -> Int {
    let best = values.max()!
    let maxima = values.indices.filter { values[$0] == best }
    return maxima.count == 1 ? maxima[0] : maxima[generator.nextInt(below: maxima.count)]
}

/// Action values `Q[state][action]` of a finite MDP.
public struct QTable: Equatable, Sendable {
    public var values: [[Double]]

    public init(states: Int, actions: Int, initialValue: Double = 0) {
        values = Array(repeating: Array(repeating: initialValue, count: actions), count: states)
    }

    public subscript(state: Int) -> [Double] {
        get { values[state] }
        set { values[state] = newValue }
    }

    /// The first action of maximal value in every state (deterministic, for reporting).
    public var greedyPolicy: [Int] {
        values.map { row in row.indices.max { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) }! }
    }
}

/// The states visited and the return collected by following a deterministic `policy` from the
/// start, for at most `maximumSteps` steps (a greedy path can loop forever).
public func followPolicy(_ policy: [Int], in environment: Environment, maximumSteps: Int = 200)
    -> (states: [Int], return: Double, reachedTerminal: Bool) {
    var state = Int(environment.reset(seed: 0)[0])
    var states = [state], total = 0.0
    for _ in 0..<maximumSteps {
        let result = environment.step(.discrete(policy[state]))
        total += result.reward
        state = Int(result.observation[0])
        states.append(state)
        if result.terminated { return (states, total, true) }
        if result.truncated { break }
    }
    return (states, total, false)
}

/// The optimal action values of a tabular environment by value iteration (Bellman, 1957), to
/// check what the learners find.
public func optimalActionValues(_ environment: TabularEnvironment, discount: Double, tolerance: Double = 1e-10) -> QTable {
    var q = QTable(states: environment.stateCount, actions: environment.actionCount)
    while true {
        var change = 0.0
        for state in 0..<environment.stateCount {
            for action in 0..<environment.actionCount {
                let value = environment.transitions[state][action].reduce(0.0) { sum, outcome in
                    sum + outcome.probability * (outcome.reward + (outcome.terminated ? 0 : discount * q[outcome.nextState].max()!))
                }
                change = max(change, abs(value - q.values[state][action]))
                q.values[state][action] = value
            }
        }
        if change < tolerance { return q }
    }
}

extension Environment {
    /// The number of states and actions, stopping with a message naming the spaces unless both
    /// are discrete (tabular methods need a finite MDP).
    func tabularSizes(method: String) -> (states: Int, actions: Int) {
        guard let states = observationSpace.count, let actions = actionSpace.count else {
            fatalError("Tessera \(method): needs discrete observations and actions, but \(name) has observation space \(observationSpace) and action space \(actionSpace)")
        }
        return (states, actions)
    }
}
