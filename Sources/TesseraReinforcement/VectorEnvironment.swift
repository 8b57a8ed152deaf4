import TesseraTensor

/// What one step of all copies returns. `observations` are already those of the next episode
/// where an episode ended (automatic reset); the last observation of the ended episode is in
/// `finalObservations`, so a learner can bootstrap a truncated episode from it.
public struct VectorStep {
    public var observations: [[Float]]
    public var rewards: [Double]
    public var terminated: [Bool]
    public var truncated: [Bool]
    /// The observation that ended the episode, for copies whose episode ended this step.
    public var finalObservations: [[Float]?]
    /// `(return, length)` of every episode that ended this step.
    public var finishedEpisodes: [(return: Double, length: Int)]
}

/// `count` copies of an environment stepped together (Gymnasium's `SyncVectorEnv`), resetting
/// each copy as soon as its episode ends ("same-step" automatic reset, as Gymnasium 0.26). Copy
/// `i` is seeded `seed + i` at the first reset and continues its own stream after that.
///
/// Every observation is checked against the observation space, so a user environment that
/// returns the wrong shape stops at once with a message naming the environment and both sizes.
public final class VectorEnvironment {
    public let environments: [Environment]
    public fileprivate(set) var observations: [[Float]] = []
    fileprivate var episodeReturns: [Double]
    fileprivate var episodeLengths: [Int]

    public init(_ environments: [Environment]) {
        precondition(!environments.isEmpty, "VectorEnvironment: needs at least one environment")
        self.environments = environments
        episodeReturns = Array(repeating: 0, count: environments.count)
        episodeLengths = Array(repeating: 0, count: environments.count)
    }

    /// `count` copies made by `make`.
    public convenience init(count: Int, _ make: () -> Environment) {
        self.init((0..<count).map { _ in make() })
    }

    public var count: Int { environments.count }
    public var observationSpace: Space { environments[0].observationSpace }
    public var actionSpace: Space { environments[0].actionSpace }

    @discardableResult
    public func reset(seed: UInt64) -> [[Float]] {
        observations = environments.enumerated().map { index, environment in
            let observation = environment.reset(seed: seed &+ UInt64(index))
            environment.checkObservation(observation)
            return observation
        }
        episodeReturns = Array(repeating: 0, count: count)
        episodeLengths = Array(repeating: 0, count: count)
        return observations
    }

    public func step(_ actions: [Action]) -> VectorStep {
        precondition(actions.count == count, "VectorEnvironment: \(actions.count) actions for \(count) environments")
        var result = VectorStep(observations: [], rewards: [], terminated: [], truncated: [],
                                finalObservations: Array(repeating: nil, count: count), finishedEpisodes: [])
        for (index, environment) in environments.enumerated() {
            let outcome = environment.step(actions[index])
            environment.checkObservation(outcome.observation)
            episodeReturns[index] += outcome.reward
            episodeLengths[index] += 1
            var observation = outcome.observation
            if outcome.isDone {
                result.finalObservations[index] = observation
                result.finishedEpisodes.append((episodeReturns[index], episodeLengths[index]))
                episodeReturns[index] = 0
                episodeLengths[index] = 0
                observation = environment.reset(seed: nil)
                environment.checkObservation(observation)
            }
            result.observations.append(observation)
            result.rewards.append(outcome.reward)
            result.terminated.append(outcome.terminated)
            result.truncated.append(outcome.truncated)
        }
        observations = result.observations
        return result
    }

    /// The current observations as a `[count, dimension]` tensor.
    public var observationTensor: Tensor {
        Tensor(shape: [count, observationSpace.dimension], scalars: observations.flatMap { $0 })
    }
}

/// A ``VectorEnvironment`` between two steps: every copy's snapshot, the observations the
/// learner acts on next and the running return and length of each unfinished episode (as bit
/// patterns, exact through JSON).
public struct VectorEnvironmentSnapshot: Codable, Equatable, Sendable {
    public var environments: [EnvironmentSnapshot]
    var observationBits: [[UInt32]]
    var episodeReturnBits: [UInt64]
    var episodeLengths: [Int]
}

extension VectorEnvironment {
    /// Throws if a copy cannot save its state (a user environment that is not a ``RestorableEnvironment``).
    public func snapshot() throws -> VectorEnvironmentSnapshot {
        let snapshots = try environments.map { environment -> EnvironmentSnapshot in
            guard let restorable = environment as? RestorableEnvironment else {
                throw EnvironmentSnapshotError("\(environment.name) cannot save its state (it does not conform to RestorableEnvironment)")
            }
            return try restorable.snapshot()
        }
        return VectorEnvironmentSnapshot(environments: snapshots, observationBits: observations.map { $0.map(\.bitPattern) },
                                         episodeReturnBits: episodeReturns.map(\.bitPattern), episodeLengths: episodeLengths)
    }

    /// Puts every copy back into the snapshot's state; throws if the snapshot holds another
    /// number of copies or another environment.
    public func restore(_ snapshot: VectorEnvironmentSnapshot) throws {
        guard snapshot.environments.count == count, snapshot.observationBits.count == count,
              snapshot.episodeReturnBits.count == count, snapshot.episodeLengths.count == count else {
            throw EnvironmentSnapshotError("a snapshot of \(snapshot.environments.count) environment copies does not fit \(count) copies of \(environments[0].name)")
        }
        for (environment, saved) in zip(environments, snapshot.environments) {
            guard let restorable = environment as? RestorableEnvironment else {
                throw EnvironmentSnapshotError("\(environment.name) cannot restore its state (it does not conform to RestorableEnvironment)")
            }
            try restorable.restore(saved)
        }
        observations = snapshot.observationBits.map { $0.map(Float.init(bitPattern:)) }
        episodeReturns = snapshot.episodeReturnBits.map(Double.init(bitPattern:))
        episodeLengths = snapshot.episodeLengths
    }
}
