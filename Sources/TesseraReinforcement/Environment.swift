import TesseraTensor

/// What an agent may do, or what it sees: a finite set of choices `0..<count` or a box of reals.
public enum Space: Equatable, Sendable, CustomStringConvertible {
    /// The integers `0..<count` (an observation of this space is one float holding the integer).
    case discrete(Int)
    /// Vectors with `low[i] ≤ x[i] ≤ high[i]` (bounds may be infinite).
    case box(low: [Float], high: [Float])

    /// Floats in one observation or one continuous action.
    public var dimension: Int {
        switch self {
        case .discrete: return 1
        case .box(let low, _): return low.count
        }
    }

    /// The number of choices of a discrete space (`nil` for a box).
    public var count: Int? {
        if case .discrete(let count) = self { return count }
        return nil
    }

    public var description: String {
        switch self {
        case .discrete(let count): return "Discrete(\(count))"
        case .box(let low, let high): return "Box(\(low.count), low \(low), high \(high))"
        }
    }
}

/// One action: a choice of a discrete space or a vector of a box.
public enum Action: Equatable, Sendable, CustomStringConvertible {
    case discrete(Int)
    case continuous([Float])

    public var description: String {
        switch self {
        case .discrete(let index): return "\(index)"
        case .continuous(let values): return "\(values)"
        }
    }
}

/// What one step returns. Gymnasium's split of "done" is kept everywhere: `terminated` means the
/// episode reached a terminal state of the MDP (the value beyond it is 0), `truncated` means it
/// was cut off (a time limit) and the state still has a value, so learners bootstrap from it
/// (Pardo et al., "Time Limits in Reinforcement Learning", ICML 2018).
public struct StepResult: Equatable, Sendable {
    public var observation: [Float]
    public var reward: Double
    public var terminated: Bool
    public var truncated: Bool

    public init(observation: [Float], reward: Double, terminated: Bool, truncated: Bool) {
        self.observation = observation
        self.reward = reward
        self.terminated = terminated
        self.truncated = truncated
    }

    public var isDone: Bool { terminated || truncated }
}

/// An episodic environment with Gymnasium's interface (`reset(seed:)`, `step(action)`).
///
/// ```swift
/// let environment = Environments.make("CartPole-v1")
/// var observation = environment.reset(seed: 0)
/// let result = environment.step(.discrete(1))
/// ```
public protocol Environment: AnyObject {
    /// Gymnasium's id (`CartPole-v1`), used in messages.
    var name: String { get }
    var observationSpace: Space { get }
    var actionSpace: Space { get }
    /// Starts an episode. A seed restarts the environment's random stream; `nil` continues it.
    func reset(seed: UInt64?) -> [Float]
    /// Advances one step. An action outside `actionSpace` stops with a message naming both.
    func step(_ action: Action) -> StepResult
}

extension Environment {
    public func reset() -> [Float] { reset(seed: nil) }

    /// Stops with a message naming the environment, the action and the space unless `action` fits.
    public func checkAction(_ action: Action) {
        switch (action, actionSpace) {
        case (.discrete(let index), .discrete(let count)) where (0..<count).contains(index):
            return
        case (.continuous(let values), .box(let low, _)) where values.count == low.count:
            return
        default:
            fatalError("Tessera \(name): action \(action) is outside the action space \(actionSpace)")
        }
    }

    /// Stops with a message naming the environment, the observation and the space unless
    /// `observation` has the space's size (a user environment returning the wrong shape).
    public func checkObservation(_ observation: [Float]) {
        guard observation.count == observationSpace.dimension else {
            fatalError("Tessera \(name): returned an observation of \(observation.count) values \(observation.prefix(8)), but its observation space \(observationSpace) has \(observationSpace.dimension)")
        }
    }
}

/// The whole internal state of an environment — physical state, counters and random stream — so
/// that a restored copy continues exactly as the original would have: what a checkpoint needs to
/// resume a run bit for bit instead of starting fresh episodes.
public struct EnvironmentSnapshot: Codable, Equatable, Sendable {
    /// The environment's name (checked on restore).
    public var name: String
    /// The physical state as the bit patterns of its Doubles, which survive JSON exactly.
    public var stateBits: [UInt64]
    /// Integer state by name (a time limit's elapsed steps, a tabular state index …).
    public var counters: [String: Int]
    /// The random stream that resets (and slippery moves) draw from.
    public var generator: RandomGenerator?
    /// The wrapped environment's snapshot, for a wrapper such as ``TimeLimit``; empty otherwise.
    public var wrapped: [EnvironmentSnapshot]

    public init(name: String, state: [Double] = [], counters: [String: Int] = [:], generator: RandomGenerator? = nil,
                wrapped: EnvironmentSnapshot? = nil) {
        self.name = name
        stateBits = state.map(\.bitPattern)
        self.counters = counters
        self.generator = generator
        self.wrapped = wrapped.map { [$0] } ?? []
    }

    public var state: [Double] { stateBits.map(Double.init(bitPattern:)) }

    /// Throws unless this snapshot was taken of an environment called `name` with `stateCount` state values.
    func check(name expected: String, stateCount: Int) throws {
        guard name == expected, stateBits.count == stateCount, generator != nil else {
            throw EnvironmentSnapshotError("a snapshot of \(name) with \(stateBits.count) state values does not fit \(expected), which has \(stateCount)")
        }
    }
}

/// Why a snapshot could not be taken or restored.
public struct EnvironmentSnapshotError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// An environment whose whole state can be saved and restored (every built-in one).
public protocol RestorableEnvironment: Environment {
    /// Throws if part of the state cannot be saved (a wrapper around a user environment that
    /// does not conform).
    func snapshot() throws -> EnvironmentSnapshot
    /// Puts the environment into the snapshot's state; throws if the snapshot is of another environment.
    func restore(_ snapshot: EnvironmentSnapshot) throws
}

/// Cuts episodes off after `maximumSteps` with `truncated = true`, as Gymnasium's `TimeLimit`
/// (which also truncates on the step that terminates, so both flags may be set).
public final class TimeLimit: Environment {
    public let wrapped: Environment
    public let maximumSteps: Int
    public private(set) var elapsedSteps = 0

    public init(_ wrapped: Environment, maximumSteps: Int) {
        precondition(maximumSteps > 0, "TimeLimit: maximumSteps must be positive, got \(maximumSteps)")
        self.wrapped = wrapped
        self.maximumSteps = maximumSteps
    }

    public var name: String { wrapped.name }
    public var observationSpace: Space { wrapped.observationSpace }
    public var actionSpace: Space { wrapped.actionSpace }

    public func reset(seed: UInt64?) -> [Float] {
        elapsedSteps = 0
        return wrapped.reset(seed: seed)
    }

    public func step(_ action: Action) -> StepResult {
        var result = wrapped.step(action)
        elapsedSteps += 1
        if elapsedSteps >= maximumSteps { result.truncated = true }
        return result
    }
}

extension TimeLimit: RestorableEnvironment {
    public func snapshot() throws -> EnvironmentSnapshot {
        guard let inner = wrapped as? RestorableEnvironment else {
            throw EnvironmentSnapshotError("\(name) cannot save its state (it does not conform to RestorableEnvironment)")
        }
        return EnvironmentSnapshot(name: "TimeLimit", counters: ["elapsedSteps": elapsedSteps], wrapped: try inner.snapshot())
    }

    public func restore(_ snapshot: EnvironmentSnapshot) throws {
        guard snapshot.name == "TimeLimit", let steps = snapshot.counters["elapsedSteps"], let innerSnapshot = snapshot.wrapped.first,
              let inner = wrapped as? RestorableEnvironment else {
            throw EnvironmentSnapshotError("a snapshot of \(snapshot.name) does not fit TimeLimit(\(name))")
        }
        try inner.restore(innerSnapshot)
        elapsedSteps = steps
    }
}

/// The registry of built-in environments, with Gymnasium's time limits (`gym.make`).
public enum Environments {
    public static let names = ["CartPole-v1", "Acrobot-v1", "MountainCar-v0", "Pendulum-v1", "CliffWalking-v1",
                               "FrozenLake-v1", "FrozenLake-v1-slippery", "GridWorld"]

    /// A new environment by name; `nil` for an unknown name.
    public static func make(_ name: String) -> Environment? {
        switch name {
        case "CartPole-v1": return TimeLimit(CartPole(), maximumSteps: 500)
        case "Acrobot-v1": return TimeLimit(Acrobot(), maximumSteps: 500)
        case "MountainCar-v0": return TimeLimit(MountainCar(), maximumSteps: 200)
        case "Pendulum-v1": return TimeLimit(Pendulum(), maximumSteps: 200)
        case "CliffWalking-v1": return CliffWalking()
        case "FrozenLake-v1": return TimeLimit(FrozenLake(slippery: false), maximumSteps: 100)
        case "FrozenLake-v1-slippery": return TimeLimit(FrozenLake(slippery: true), maximumSteps: 100)
        case "GridWorld": return TimeLimit(GridWorld(), maximumSteps: 100)
        default: return nil
        }
    }
}

extension RandomGenerator {
    /// A uniform `Double` in `[low, high)` from 53 random bits (environment states are Double, as
    /// Gymnasium's are float64).
    mutating func uniformDouble(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * (Double(next64() >> 11) * 0x1p-53)
    }
}
