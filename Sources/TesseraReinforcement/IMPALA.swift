import TesseraNN
import TesseraTensor

// The learner's side of IMPALA (Espeholt et al., "IMPALA: Scalable Distributed Deep-RL with
// Importance Weighted Actor-Learner Architectures", ICML 2018): actors step their environments
// with a possibly stale copy of the policy (the behaviour policy μ) and hand over trajectories
// with μ's log-probabilities; the learner corrects for the lag with V-trace (``vtrace``) and
// takes one gradient step per trajectory on
//
//     −ρ_s (r_s + γ v_{s+1} − V(x_s)) log π(a_s|x_s)  +  c_v · ½ (V(x_s) − v_s)²  −  c_e · H[π(·|x_s)]
//
// (§4.2: the policy gradient with V-trace advantages, value regression to v_s, entropy bonus).
// How trajectories travel — threads or MPI processes — is the trainer's business
// (`TesseraTraining/ActorLearner.swift`); this file knows nothing of communication.

/// IMPALA's settings. Defaults suit CartPole-v1 with a handful of actors.
public struct IMPALAConfig: Sendable {
    /// Environment copies each actor steps together.
    public var environmentCount = 8
    /// Steps per copy in one trajectory (the paper's n; a trajectory holds `environmentCount · rolloutSteps` steps).
    public var rolloutSteps = 32
    /// Environment steps the learner trains on in the whole run (dropped trajectories do not count).
    public var totalSteps = 500_000
    /// Adam's learning rate at the start; annealed linearly to 0 over `totalSteps` when `annealLearningRate`.
    public var learningRate: Float = 1e-3
    public var annealLearningRate = true
    /// Discount γ.
    public var discount: Float = 0.99
    /// ρ̄: importance weights in V-trace's temporal differences and in the advantage are clipped to it.
    public var importanceClip: Float = 1
    /// c̄: trace coefficients are clipped to it.
    public var traceClip: Float = 1
    /// Weight of the entropy bonus and of the value loss.
    public var entropyCoefficient: Float = 0.01
    public var valueCoefficient: Float = 0.5
    /// Largest global gradient norm.
    public var maximumGradientNorm: Float = 0.5
    /// Hidden layer widths of the actor and the critic.
    public var hiddenSizes = [64, 64]
    /// Seeds the network; actors derive their environment and sampling seeds from it.
    public var seed: UInt64 = 1

    public init() {}

    /// Environment steps in one trajectory.
    public var trajectorySteps: Int { environmentCount * rolloutSteps }
}

/// What an actor sends: `steps` consecutive steps of `copies` environment copies, step-major
/// (index `t · copies + i`), as the behaviour policy of version `policyVersion` chose them.
public struct Trajectory: Equatable, Sendable {
    public var steps: Int
    public var copies: Int
    public var observationSize: Int
    /// Floats per action: 1 for a discrete action (its index), the dimension for a continuous one.
    public var actionSize: Int
    /// The learner version of the weights the actor acted with.
    public var policyVersion: Int
    /// `[steps · copies · observationSize]`.
    public var observations: [Float]
    /// `[steps · copies · actionSize]`.
    public var actions: [Float]
    /// `log μ(a|x)` when acting, `[steps · copies]`.
    public var behaviourLogProbabilities: [Float]
    public var rewards: [Float]
    public var terminated: [Bool]
    public var truncated: [Bool]
    /// The last observation of each truncated episode, keyed by its step index, to bootstrap from.
    public var truncationObservations: [Int: [Float]]
    /// The observation after the last step, per copy (`[copies · observationSize]`).
    public var bootstrapObservations: [Float]
    /// `(return, length)` of the episodes that ended in this trajectory.
    public var finishedEpisodes: [EpisodeOutcome]

    public init(steps: Int, copies: Int, observationSize: Int, actionSize: Int, policyVersion: Int, observations: [Float],
                actions: [Float], behaviourLogProbabilities: [Float], rewards: [Float], terminated: [Bool], truncated: [Bool],
                truncationObservations: [Int: [Float]], bootstrapObservations: [Float], finishedEpisodes: [EpisodeOutcome]) {
        self.steps = steps
        self.copies = copies
        self.observationSize = observationSize
        self.actionSize = actionSize
        self.policyVersion = policyVersion
        self.observations = observations
        self.actions = actions
        self.behaviourLogProbabilities = behaviourLogProbabilities
        self.rewards = rewards
        self.terminated = terminated
        self.truncated = truncated
        self.truncationObservations = truncationObservations
        self.bootstrapObservations = bootstrapObservations
        self.finishedEpisodes = finishedEpisodes
    }

    /// Environment steps it holds.
    public var count: Int { steps * copies }

    /// One trajectory holding the copies of every part side by side (part 0's copies first), for
    /// a learner update on a batch of trajectories (IMPALA's learner batch). The parts must have
    /// the same steps and observation and action sizes; V-trace treats every copy on its own, so
    /// the merge changes nothing but the batch. Its `policyVersion` is the oldest part's.
    public static func merged(_ parts: [Trajectory]) -> Trajectory {
        precondition(!parts.isEmpty, "Trajectory.merged: no parts")
        guard parts.count > 1 else { return parts[0] }
        let first = parts[0]
        precondition(parts.allSatisfy { ($0.steps, $0.observationSize, $0.actionSize) == (first.steps, first.observationSize, first.actionSize) },
                     "Trajectory.merged: parts differ in steps, observation size or action size")
        let copies = parts.map(\.copies).reduce(0, +)
        var merged = Trajectory(steps: first.steps, copies: copies, observationSize: first.observationSize,
                                actionSize: first.actionSize, policyVersion: parts.map(\.policyVersion).min()!,
                                observations: [], actions: [], behaviourLogProbabilities: [], rewards: [], terminated: [],
                                truncated: [], truncationObservations: [:], bootstrapObservations: [], finishedEpisodes: [])
        for t in 0..<first.steps {
            var offset = 0
            for part in parts {
                let rows = (t * part.copies)..<((t + 1) * part.copies)
                merged.observations += part.observations[(rows.lowerBound * part.observationSize)..<(rows.upperBound * part.observationSize)]
                merged.actions += part.actions[(rows.lowerBound * part.actionSize)..<(rows.upperBound * part.actionSize)]
                merged.behaviourLogProbabilities += part.behaviourLogProbabilities[rows]
                merged.rewards += part.rewards[rows]
                merged.terminated += part.terminated[rows]
                merged.truncated += part.truncated[rows]
                for copy in 0..<part.copies {
                    if let final = part.truncationObservations[t * part.copies + copy] {
                        merged.truncationObservations[t * copies + offset + copy] = final
                    }
                }
                offset += part.copies
            }
        }
        for part in parts {
            merged.bootstrapObservations += part.bootstrapObservations
            merged.finishedEpisodes += part.finishedEpisodes
        }
        return merged
    }
}

/// The return and length of one finished episode.
public struct EpisodeOutcome: Equatable, Sendable {
    public var totalReward: Double
    public var length: Int

    public init(totalReward: Double, length: Int) {
        self.totalReward = totalReward
        self.length = length
    }
}

/// Steps `environments` for `steps` steps with actions sampled from `network` (the behaviour
/// policy of version `policyVersion`) and records what V-trace needs. Values are not recorded:
/// the learner evaluates them with its own, newer critic.
public func collectTrajectory(_ environments: VectorEnvironment, network: ActorCritic, steps: Int, policyVersion: Int,
                              generator: inout RandomGenerator) -> Trajectory {
    let copies = environments.count, observationSize = environments.observationSpace.dimension
    var trajectory = Trajectory(steps: steps, copies: copies, observationSize: observationSize,
                                actionSize: environments.actionSpace.count == nil ? environments.actionSpace.dimension : 1,
                                policyVersion: policyVersion, observations: [], actions: [], behaviourLogProbabilities: [],
                                rewards: [], terminated: [], truncated: [], truncationObservations: [:],
                                bootstrapObservations: [], finishedEpisodes: [])
    trajectory.observations.reserveCapacity(steps * copies * observationSize)
    withoutGradients {
        for t in 0..<steps {
            let observations = environments.observationTensor
            let distribution = network.distribution(observations)
            let chosen = distribution.sample(generator: &generator)
            let actions = actionTensor(chosen)
            trajectory.behaviourLogProbabilities += distribution.logProbability(actions).scalars
            trajectory.observations += observations.scalars
            trajectory.actions += actions.scalars
            let outcome = environments.step(chosen)
            trajectory.rewards += outcome.rewards.map { Float($0) }
            trajectory.terminated += outcome.terminated
            trajectory.truncated += outcome.truncated
            for i in 0..<copies where outcome.truncated[i] && !outcome.terminated[i] {
                trajectory.truncationObservations[t * copies + i] = outcome.finalObservations[i]
            }
            trajectory.finishedEpisodes += outcome.finishedEpisodes.map { EpisodeOutcome(totalReward: $0.return, length: $0.length) }
        }
    }
    trajectory.bootstrapObservations = environments.observations.flatMap { $0 }
    return trajectory
}

/// The IMPALA learner: an actor–critic network, Adam, and ``update(_:)``. Its `version` (the
/// number of updates so far) stamps the weights it hands to actors, so the lag of a trajectory is
/// `version − trajectory.policyVersion`.
public final class IMPALALearner {
    public let config: IMPALAConfig
    public let network: ActorCritic
    public let optimizer: Adam
    /// Updates so far; settable so a resumed run continues it.
    public var version = 0
    /// Environment steps trained on so far.
    public var environmentSteps = 0

    public init(config: IMPALAConfig, observationSpace: Space, actionSpace: Space) {
        self.config = config
        var initialization = RandomGenerator(seed: config.seed)
        network = ActorCritic(observationSpace: observationSpace, actionSpace: actionSpace,
                              hiddenSizes: config.hiddenSizes, generator: &initialization)
        optimizer = Adam(parameters: network.namedParameters(), learningRate: config.learningRate, epsilon: 1e-5)
    }

    /// One gradient step on `trajectory` with V-trace targets; returns the step's metrics.
    public func update(_ trajectory: Trajectory) -> [String: Double] {
        if config.annealLearningRate {
            optimizer.learningRate = config.learningRate * max(0, 1 - Float(environmentSteps) / Float(config.totalSteps))
        }
        let count = trajectory.count, size = trajectory.observationSize
        let observations = Tensor(shape: [count, size], scalars: trajectory.observations)
        let actions = trajectory.actionSize == 1 && network.actionSpace.count != nil
            ? Tensor(shape: [count], scalars: trajectory.actions)
            : Tensor(shape: [count, trajectory.actionSize], scalars: trajectory.actions)
        let distribution = network.distribution(observations)
        let logProbabilities = distribution.logProbability(actions)
        let values = network.value(observations)

        let truncatedIndices = trajectory.truncationObservations.keys.sorted()
        var truncationValues = [Float](repeating: 0, count: count)
        let bootstrapValues: [Float] = withoutGradients {
            if !truncatedIndices.isEmpty {
                let finals = Tensor(shape: [truncatedIndices.count, size],
                                    scalars: truncatedIndices.flatMap { trajectory.truncationObservations[$0]! })
                for (index, value) in zip(truncatedIndices, network.value(finals).scalars) { truncationValues[index] = value }
            }
            return network.value(Tensor(shape: [trajectory.copies, size], scalars: trajectory.bootstrapObservations)).scalars
        }
        let corrected = vtrace(VTraceInput(steps: trajectory.steps, copies: trajectory.copies,
                                           behaviourLogProbabilities: trajectory.behaviourLogProbabilities,
                                           targetLogProbabilities: logProbabilities.scalars, rewards: trajectory.rewards,
                                           values: values.scalars, bootstrapValues: bootstrapValues,
                                           terminated: trajectory.terminated, truncated: trajectory.truncated,
                                           truncationValues: truncationValues),
                               discount: config.discount, importanceClip: config.importanceClip, traceClip: config.traceClip)

        let policyLoss = -(Tensor(corrected.advantages) * logProbabilities).mean()
        let valueLoss = meanSquaredError(values, Tensor(corrected.targets)) * 0.5
        let entropy = distribution.entropy.mean()
        let loss = policyLoss + valueLoss * config.valueCoefficient - entropy * config.entropyCoefficient
        optimizer.zeroGradients()
        loss.backward()
        clipGradientNorm(network.parameters(), maximumNorm: config.maximumGradientNorm)
        optimizer.step()
        version += 1
        environmentSteps += count

        let weights = corrected.clippedImportanceWeights
        var metrics: [String: Double] = [
            "policy_loss": Double(policyLoss.item), "value_loss": Double(valueLoss.item), "entropy": Double(entropy.item),
            "importance_weight_mean": Double(weights.reduce(0, +)) / Double(max(count, 1)),
            "learning_rate": Double(optimizer.learningRate),
        ]
        metrics.merge(episodeMetrics(trajectory.finishedEpisodes.map { ($0.totalReward, $0.length) })) { $1 }
        return metrics
    }

    /// The greedy action for one observation (evaluation).
    public func act(_ observation: [Float]) -> Action { network.greedyAction(observation) }

    /// The policy's parameters, in sorted-name order: what actors need to act.
    public var policyParameters: [(name: String, parameter: Tensor)] {
        network.actorParameters.sorted { $0.name < $1.name }
    }
}
