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
