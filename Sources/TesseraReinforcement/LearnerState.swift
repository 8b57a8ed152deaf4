import TesseraNN
import TesseraTensor

/// Everything that decides what a learner does next besides its model parameters and optimizer
/// slots: the counters, the sampling stream, the environments mid-episode, and for some learners
/// large arrays (DQN's replay buffer and target network). With it a checkpointed run resumes bit
/// for bit: the same actions, the same episodes, the same updates as the uninterrupted run.
public struct LearnerState {
    /// The small part, stored as JSON in a checkpoint's metadata.
    public var record: LearnerRecord
    /// The large part by name, stored as checkpoint tensors (which the checkpoint compresses).
    public var tensors: [String: Tensor]

    public init(record: LearnerRecord, tensors: [String: Tensor] = [:]) {
        self.record = record
        self.tensors = tensors
    }
}

/// Counters, random streams and environment states of a learner.
public struct LearnerRecord: Codable, Equatable, Sendable {
    public var iteration: Int
    public var environmentSteps: Int
    /// The stream the learner samples actions and minibatches from.
    public var generator: RandomGenerator
    /// The environment copies (one entry for a single environment).
    public var environments: VectorEnvironmentSnapshot?
    /// A single environment's state (REINFORCE, which steps one environment directly).
    public var environment: EnvironmentSnapshot?
    /// Further integers by name (a replay buffer's fill and write position).
    public var counters: [String: Int]

    public init(iteration: Int, environmentSteps: Int, generator: RandomGenerator, environments: VectorEnvironmentSnapshot? = nil,
                environment: EnvironmentSnapshot? = nil, counters: [String: Int] = [:]) {
        self.iteration = iteration
        self.environmentSteps = environmentSteps
        self.generator = generator
        self.environments = environments
        self.environment = environment
        self.counters = counters
    }
}

/// A learner whose whole state can be saved between two iterations and restored into a freshly
/// built learner of the same config (every built-in deep RL learner).
public protocol ResumableLearner: Learner {
    func saveState() throws -> LearnerState
    /// Throws ``LearnerStateError`` if the state does not fit this learner (other environments,
    /// another number of copies, a missing tensor).
    func restoreState(_ state: LearnerState) throws
}

/// Why a learner's state could not be restored.
public struct LearnerStateError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension LearnerState {
    /// The tensor `name` with `shape`, or an error naming both.
    public func tensor(_ name: String, shape: [Int]) throws -> Tensor {
        guard let tensor = tensors[name] else { throw LearnerStateError("the learner state has no tensor \(name)") }
        guard tensor.shape == shape else {
            throw LearnerStateError("the learner state's \(name) has shape \(tensor.shape), expected \(shape)")
        }
        return tensor
    }

    /// The saved vector environment, or an error.
    public func environments() throws -> VectorEnvironmentSnapshot {
        guard let environments = record.environments else { throw LearnerStateError("the learner state holds no environment copies") }
        return environments
    }
}

// MARK: - The learners that keep their whole state in counters, a generator and environments

extension PPO: ResumableLearner {
    public func saveState() throws -> LearnerState {
        LearnerState(record: LearnerRecord(iteration: iteration, environmentSteps: environmentSteps, generator: generator,
                                           environments: try environments.snapshot()))
    }

    public func restoreState(_ state: LearnerState) throws {
        try environments.restore(try state.environments())
        (iteration, environmentSteps, generator) = (state.record.iteration, state.record.environmentSteps, state.record.generator)
    }
}

extension TRPO: ResumableLearner {
    public func saveState() throws -> LearnerState {
        LearnerState(record: LearnerRecord(iteration: iteration, environmentSteps: environmentSteps, generator: generator,
                                           environments: try environments.snapshot()))
    }

    public func restoreState(_ state: LearnerState) throws {
        try environments.restore(try state.environments())
        (iteration, environmentSteps, generator) = (state.record.iteration, state.record.environmentSteps, state.record.generator)
    }
}

extension A2C: ResumableLearner {
    public func saveState() throws -> LearnerState {
        LearnerState(record: LearnerRecord(iteration: iteration, environmentSteps: environmentSteps, generator: generator,
                                           environments: try environments.snapshot()))
    }

    public func restoreState(_ state: LearnerState) throws {
        try environments.restore(try state.environments())
        (iteration, environmentSteps, generator) = (state.record.iteration, state.record.environmentSteps, state.record.generator)
    }
}

extension REINFORCE: ResumableLearner {
    /// Between iterations every episode is complete, so the environment's random stream (which
    /// draws the next start state) is what matters.
    public func saveState() throws -> LearnerState {
        guard let restorable = environment as? RestorableEnvironment else {
            throw LearnerStateError("\(environment.name) cannot save its state (it does not conform to RestorableEnvironment)")
        }
        return LearnerState(record: LearnerRecord(iteration: iteration, environmentSteps: environmentSteps, generator: generator,
                                                  environment: try restorable.snapshot()))
    }

    public func restoreState(_ state: LearnerState) throws {
        guard let restorable = environment as? RestorableEnvironment, let saved = state.record.environment else {
            throw LearnerStateError("the learner state holds no snapshot of \(environment.name), or it cannot be restored")
        }
        try restorable.restore(saved)
        (iteration, environmentSteps, generator) = (state.record.iteration, state.record.environmentSteps, state.record.generator)
    }
}
