import TesseraTensor

/// One possible result of taking an action in a state of a finite MDP.
public struct Outcome: Equatable, Sendable {
    public var probability: Double
    public var nextState: Int
    public var reward: Double
    public var terminated: Bool

    public init(probability: Double, nextState: Int, reward: Double, terminated: Bool) {
        self.probability = probability
        self.nextState = nextState
        self.reward = reward
        self.terminated = terminated
    }
}

/// A finite MDP given by its full transition table, as Gymnasium's toy-text environments
/// (`env.P[s][a]` is a list of `(probability, next state, reward, terminated)`). Observations
/// are one float holding the state index. Exposing the table lets tests compare it with
/// Gymnasium's and lets planners (value iteration) compute the optimal policy exactly.
public class TabularEnvironment: Environment {
    public let name: String
    public let stateCount: Int
    public let actionCount: Int
    /// `transitions[state][action]`: the outcomes, probabilities summing to 1.
    public let transitions: [[[Outcome]]]
    public let startState: Int
    /// The current state; settable so tests can place the agent.
    public var state: Int
    fileprivate var generator = RandomGenerator(seed: 0)

    public init(name: String, transitions: [[[Outcome]]], startState: Int) {
        self.name = name
        self.transitions = transitions
        self.stateCount = transitions.count
        self.actionCount = transitions.first?.count ?? 0
        self.startState = startState
        self.state = startState
    }

    public var observationSpace: Space { .discrete(stateCount) }
    public var actionSpace: Space { .discrete(actionCount) }

    public func reset(seed: UInt64?) -> [Float] {
        if let seed { generator = RandomGenerator(seed: seed) }
        state = startState
        return [Float(state)]
    }

    public func step(_ action: Action) -> StepResult {
        checkAction(action)
        guard case .discrete(let choice) = action else { fatalError("unreachable") }
        let outcomes = transitions[state][choice]
        var index = 0
        if outcomes.count > 1 {
            // Inverse-CDF sampling, as Gymnasium's `categorical_sample`.
            let draw = generator.uniformDouble(0, 1)
            var cumulative = 0.0
            index = outcomes.count - 1
            for (candidate, outcome) in outcomes.enumerated() {
                cumulative += outcome.probability
                if cumulative > draw { index = candidate; break }
            }
        }
        let outcome = outcomes[index]
        state = outcome.nextState
        return StepResult(observation: [Float(state)], reward: outcome.reward, terminated: outcome.terminated, truncated: false)
    }
}

extension TabularEnvironment: RestorableEnvironment {
    public func snapshot() -> EnvironmentSnapshot { EnvironmentSnapshot(name: name, counters: ["state": state], generator: generator) }

    public func restore(_ snapshot: EnvironmentSnapshot) throws {
        try snapshot.check(name: name, stateCount: 0)
        guard let index = snapshot.counters["state"], (0..<stateCount).contains(index) else {
            throw EnvironmentSnapshotError("a snapshot of \(name) without a state in 0..<\(stateCount)")
        }
        state = index
        generator = snapshot.generator!
    }
}

/// Moves on a grid of `rows × columns` cells, clamped at the edges.
struct GridGeometry {
    let rows: Int, columns: Int

    func index(_ row: Int, _ column: Int) -> Int { row * columns + column }

    func moved(_ row: Int, _ column: Int, by delta: (Int, Int)) -> (Int, Int) {
        (min(max(row + delta.0, 0), rows - 1), min(max(column + delta.1, 0), columns - 1))
    }
}

/// CliffWalking-v1 (Sutton & Barto, "Reinforcement Learning: An Introduction", 2nd ed. 2018,
/// Example 6.6): a 4×12 grid, start at the bottom left (36), goal at the bottom right (47), the
/// cells between them a cliff. Actions up, right, down, left (0–3, Gymnasium's order); reward −1
/// per step; stepping into the cliff gives −100 and returns to the start without ending the
/// episode. No time limit (Gymnasium registers none).
public final class CliffWalking: TabularEnvironment {
    public static let rows = 4, columns = 12

    public init(slippery: Bool = false) {
        let grid = GridGeometry(rows: Self.rows, columns: Self.columns)
        let moves = [(-1, 0), (0, 1), (1, 0), (0, -1)]
        let start = grid.index(3, 0)
        var table: [[[Outcome]]] = []
        for row in 0..<Self.rows {
            for column in 0..<Self.columns {
                table.append((0..<4).map { action in
                    let directions = slippery ? [(action + 3) % 4, action, (action + 1) % 4] : [action]
                    return directions.map { direction in
                        let (r, c) = grid.moved(row, column, by: moves[direction])
                        let probability = 1 / Double(directions.count)
                        if r == 3 && c > 0 && c < Self.columns - 1 {
                            return Outcome(probability: probability, nextState: start, reward: -100, terminated: false)
                        }
                        return Outcome(probability: probability, nextState: grid.index(r, c), reward: -1,
                                       terminated: r == 3 && c == Self.columns - 1)
                    }
                })
            }
        }
        super.init(name: "CliffWalking-v1", transitions: table, startState: start)
    }
}

/// FrozenLake-v1 4×4 (Gymnasium): walk from S to G over frozen cells F, avoiding holes H.
/// Actions left, down, right, up (0–3). Reward 1 on reaching G, else 0; holes and G terminate.
/// On slippery ice the intended move happens with probability 1/3, each perpendicular move
/// with 1/3. `Environments.make` adds the 100-step limit.
public final class FrozenLake: TabularEnvironment {
    public static let map = ["SFFF", "FHFH", "FFFH", "HFFG"]

    public init(slippery: Bool, map: [String] = FrozenLake.map) {
        let cells = map.map { Array($0) }
        let grid = GridGeometry(rows: cells.count, columns: cells[0].count)
        let moves = [(0, -1), (1, 0), (0, 1), (-1, 0)]
        var table: [[[Outcome]]] = []
        var start = 0
        for row in 0..<grid.rows {
            for column in 0..<grid.columns {
                let here = grid.index(row, column)
                if cells[row][column] == "S" { start = here }
                table.append((0..<4).map { action in
                    if "GH".contains(cells[row][column]) {
                        return [Outcome(probability: 1, nextState: here, reward: 0, terminated: true)]
                    }
                    let directions = slippery ? [(action + 3) % 4, action, (action + 1) % 4] : [action]
                    return directions.map { direction in
                        let (r, c) = grid.moved(row, column, by: moves[direction])
                        let letter = cells[r][c]
                        return Outcome(probability: 1 / Double(directions.count), nextState: grid.index(r, c),
                                       reward: letter == "G" ? 1 : 0, terminated: "GH".contains(letter))
                    }
                })
            }
        }
        super.init(name: slippery ? "FrozenLake-v1-slippery" : "FrozenLake-v1", transitions: table, startState: start)
    }
}

/// A small configurable grid world for experiments: walls block moves, reaching a goal cell ends
/// the episode with its reward, every other step costs `stepReward`. Actions up, right, down, left.
///
/// ```swift
/// let world = GridWorld(layout: ["S..#", "..#G", "...."], stepReward: -1, goalReward: 10)
/// ```
/// Cells: `S` start, `.` free, `#` wall, `G` goal, `X` trap (terminates with `trapReward`).
public final class GridWorld: TabularEnvironment {
    public init(layout: [String] = ["S...", ".#..", "...#", "#..G"], stepReward: Double = -1,
                goalReward: Double = 0, trapReward: Double = -10) {
        let cells = layout.map { Array($0) }
        precondition(!cells.isEmpty && cells.allSatisfy { $0.count == cells[0].count },
                     "GridWorld: layout rows must all have the same length, got \(layout)")
        let grid = GridGeometry(rows: cells.count, columns: cells[0].count)
        let moves = [(-1, 0), (0, 1), (1, 0), (0, -1)]
        var table: [[[Outcome]]] = []
        var start: Int? = nil
        for row in 0..<grid.rows {
            for column in 0..<grid.columns {
                let here = grid.index(row, column)
                if cells[row][column] == "S" { start = here }
                table.append((0..<4).map { action in
                    if "GX".contains(cells[row][column]) {
                        return [Outcome(probability: 1, nextState: here, reward: 0, terminated: true)]
                    }
                    var (r, c) = grid.moved(row, column, by: moves[action])
                    if cells[r][c] == "#" { (r, c) = (row, column) }
                    let letter = cells[r][c]
                    let reward = letter == "G" ? goalReward : letter == "X" ? trapReward : stepReward
                    return [Outcome(probability: 1, nextState: grid.index(r, c), reward: reward, terminated: "GX".contains(letter))]
                })
            }
        }
        guard let start else { preconditionFailure("GridWorld: layout has no start cell S: \(layout)") }
        super.init(name: "GridWorld", transitions: table, startState: start)
    }
}
