import TesseraNN
import TesseraTensor

// Deep Q-Network (Mnih et al., "Human-level control through deep reinforcement learning",
// Nature 2015): Q-learning with a neural network, made stable by experience replay (learning
// from random past transitions rather than the correlated stream) and a frozen target network
// copied every `targetUpdateInterval` steps. Optional double DQN (van Hasselt, Guez & Silver,
// "Deep Reinforcement Learning with Double Q-learning", AAAI 2016) picks the next action with
// the online network and values it with the target network, which removes max's upward bias.

/// DQN's settings; defaults are RL Baselines3 Zoo's tuned CartPole-v1 values.
public struct DQNConfig: Sendable {
    /// Environment steps of the whole run.
    public var totalSteps = 50_000
    public var learningRate: Float = 2.3e-3
    /// Transitions kept in the replay buffer (the oldest are overwritten).
    public var bufferSize = 100_000
    /// Transitions per gradient step.
    public var batchSize = 64
    /// Discount γ.
    public var discount: Float = 0.99
    /// Random-action steps before learning starts (fills the buffer).
    public var learningStarts = 1_000
    /// Environment steps between training phases, and gradient steps in each phase.
    public var trainFrequency = 256
    public var gradientSteps = 128
    /// Environment steps between copies of the online network into the target network (C).
    public var targetUpdateInterval = 10
    /// ε decays linearly from `epsilonStart` to `epsilonEnd` over `explorationFraction · totalSteps`.
    public var epsilonStart = 1.0
    public var epsilonEnd = 0.04
    public var explorationFraction = 0.16
    /// Huber loss (δ = 1, as the Nature paper's error clipping) instead of the squared error.
    public var huber = false
    /// Double DQN targets.
    public var double = false
    /// Largest global gradient norm.
    public var maximumGradientNorm: Float = 10
    /// Hidden layer widths of the Q-network.
    public var hiddenSizes = [256, 256]
    public var seed: UInt64 = 1

    public init() {}
}

/// A ring buffer of transitions `(s, a, r, s', terminated)`. A truncated transition is stored with
/// its real last observation as `s'` and `terminated = false`, so its target bootstraps.
public struct ReplayBuffer {
    public let capacity: Int
    public let observationSize: Int
    private var observations: [Float], nextObservations: [Float]
    private var actions: [Float], rewards: [Float], terminated: [Float]
    public private(set) var count = 0
    private var next = 0

    public init(capacity: Int, observationSize: Int) {
        self.capacity = capacity
        self.observationSize = observationSize
        observations = Array(repeating: 0, count: capacity * observationSize)
        nextObservations = observations
        actions = Array(repeating: 0, count: capacity)
        rewards = actions
        terminated = actions
    }

    public mutating func append(observation: [Float], action: Int, reward: Float, nextObservation: [Float], terminated isTerminal: Bool) {
        let base = next * observationSize
        observations.replaceSubrange(base..<(base + observationSize), with: observation)
        nextObservations.replaceSubrange(base..<(base + observationSize), with: nextObservation)
        actions[next] = Float(action)
        rewards[next] = reward
        terminated[next] = isTerminal ? 1 : 0
        next = (next + 1) % capacity
        count = min(count + 1, capacity)
    }

    /// `size` transitions drawn uniformly with replacement.
    public func sample(_ size: Int, generator: inout RandomGenerator)
        -> (observations: Tensor, actions: Tensor, rewards: Tensor, nextObservations: Tensor, terminated: Tensor) {
        let indices = (0..<size).map { _ in generator.nextInt(below: count) }
        func rows(_ source: [Float]) -> Tensor {
            Tensor(shape: [size, observationSize], scalars: indices.flatMap { source[($0 * observationSize)..<(($0 + 1) * observationSize)] })
        }
        return (rows(observations), Tensor(indices.map { actions[$0] }), Tensor(indices.map { rewards[$0] }),
                rows(nextObservations), Tensor(indices.map { terminated[$0] }))
    }

    /// The stored transitions as tensors (only the `count` filled rows: the ring fills from row
    /// 0, so they are rows `0..<count`), and the fill and write position, for a checkpoint.
    public var saved: (tensors: [String: Tensor], counters: [String: Int]) {
        let filled = count * observationSize
        return (["observations": Tensor(shape: [count, observationSize], scalars: Array(observations[..<filled])),
                 "nextObservations": Tensor(shape: [count, observationSize], scalars: Array(nextObservations[..<filled])),
                 "actions": Tensor(Array(actions[..<count])), "rewards": Tensor(Array(rewards[..<count])),
                 "terminated": Tensor(Array(terminated[..<count]))],
                ["count": count, "next": next])
    }

    /// Restores what ``saved`` returned; throws if it does not fit this buffer's capacity and observation size.
    public mutating func restore(tensors: [String: Tensor], counters: [String: Int]) throws {
        guard let filled = counters["count"], let position = counters["next"], (0...capacity).contains(filled),
              (0..<capacity).contains(position) else {
            throw LearnerStateError("the replay buffer's counters \(counters) do not fit a capacity of \(capacity)")
        }
        func values(_ name: String, _ shape: [Int]) throws -> [Float] {
            guard let tensor = tensors[name], tensor.shape == shape else {
                throw LearnerStateError("the replay buffer's \(name) has shape \(tensors[name]?.shape ?? []), expected \(shape)")
            }
            return tensor.scalars
        }
        let rows = filled * observationSize
        observations.replaceSubrange(0..<rows, with: try values("observations", [filled, observationSize]))
        nextObservations.replaceSubrange(0..<rows, with: try values("nextObservations", [filled, observationSize]))
        actions.replaceSubrange(0..<filled, with: try values("actions", [filled]))
        rewards.replaceSubrange(0..<filled, with: try values("rewards", [filled]))
        terminated.replaceSubrange(0..<filled, with: try values("terminated", [filled]))
        (count, next) = (filled, position)
    }
}

/// A DQN learner on one environment: ``iterate()`` takes `trainFrequency` environment steps and
/// then `gradientSteps` updates.
public final class DQN: Learner {
    public let config: DQNConfig
    public let qNetwork: MLP
    /// The frozen copy that computes targets; never given to the optimizer.
    public let targetNetwork: MLP
    public let optimizer: Adam
    public let environment: VectorEnvironment
    public private(set) var buffer: ReplayBuffer
    public var iteration = 0
    public var environmentSteps = 0
    public var generator: RandomGenerator
    private let actionCount: Int

    public init(config: DQNConfig, makeEnvironment: () -> Environment) {
        self.config = config
        environment = VectorEnvironment(count: 1, makeEnvironment)
        guard let actions = environment.actionSpace.count else {
            fatalError("Tessera DQN: needs a discrete action space, but \(environment.environments[0].name) has \(environment.actionSpace)")
        }
        actionCount = actions
        let sizes = [environment.observationSpace.dimension] + config.hiddenSizes + [actions]
        var initialization = RandomGenerator(seed: config.seed)
        qNetwork = MLP(sizes: sizes, activation: .relu, generator: &initialization)
        targetNetwork = MLP(sizes: sizes, activation: .relu, generator: &initialization)
        optimizer = Adam(parameters: qNetwork.namedParameters(), learningRate: config.learningRate)
        buffer = ReplayBuffer(capacity: config.bufferSize, observationSize: environment.observationSpace.dimension)
        generator = RandomGenerator(seed: config.seed).derived(stream: 2)
        copyToTarget()
        environment.reset(seed: config.seed)
    }

    public var totalIterations: Int { config.totalSteps / config.trainFrequency }
    public var model: Module { qNetwork }
    public var optimizers: [String: any Optimizer] { ["optimizer": optimizer] }

    private func copyToTarget() {
        for (target, online) in zip(targetNetwork.parameters(), qNetwork.parameters()) { target.assign(online) }
    }

    public func iterate() -> [String: Double] {
        var finished: [(return: Double, length: Int)] = []
        let exploration = EpsilonSchedule.linear(start: config.epsilonStart, end: config.epsilonEnd,
                                                 steps: Int(config.explorationFraction * Double(config.totalSteps)))
        for _ in 0..<config.trainFrequency {
            let observation = environment.observations[0]
            let action: Int
            if environmentSteps < config.learningStarts {
                action = generator.nextInt(below: actionCount)
            } else {
                let values = withoutGradients { qNetwork(Tensor(shape: [1, observation.count], scalars: observation)).scalars }
                action = epsilonGreedy(values.map(Double.init), epsilon: exploration.epsilon(at: environmentSteps), generator: &generator)
            }
            let outcome = environment.step([.discrete(action)])
            buffer.append(observation: observation, action: action, reward: Float(outcome.rewards[0]),
                          nextObservation: outcome.finalObservations[0] ?? outcome.observations[0], terminated: outcome.terminated[0])
            finished += outcome.finishedEpisodes
            environmentSteps += 1
            if environmentSteps % config.targetUpdateInterval == 0 { copyToTarget() }
        }
        iteration += 1
        var metrics = episodeMetrics(finished)
        metrics["epsilon"] = exploration.epsilon(at: environmentSteps)
        guard environmentSteps >= config.learningStarts else { return metrics }
        var lossSum = 0.0
        for _ in 0..<config.gradientSteps { lossSum += update() }
        metrics["td_loss"] = lossSum / Double(config.gradientSteps)
        return metrics
    }

    /// One gradient step on `(Q(s,a) − (r + γ(1 − terminated)·Q_target(s', a*)))`, with
    /// `a* = argmax Q_target(s')`, or `argmax Q(s')` for double DQN.
    func update() -> Double {
        let batch = buffer.sample(config.batchSize, generator: &generator)
        let targets = withoutGradients { () -> Tensor in
            let nextTargetValues = targetNetwork(batch.nextObservations)
            let nextValues: Tensor
            if config.double {
                let choice = qNetwork(batch.nextObservations).argmax(alongAxis: 1, keepDims: true)
                nextValues = nextTargetValues.gather(alongAxis: 1, indices: choice).reshape([-1])
            } else {
                nextValues = nextTargetValues.max(alongAxes: [1])
            }
            return batch.rewards + nextValues * (1 - batch.terminated) * config.discount
        }
        let predicted = qNetwork(batch.observations).gather(alongAxis: 1, indices: batch.actions.reshape([-1, 1])).reshape([-1])
        let loss = config.huber ? huberLoss(predicted, targets) : meanSquaredError(predicted, targets)
        optimizer.zeroGradients()
        loss.backward()
        clipGradientNorm(qNetwork.parameters(), maximumNorm: config.maximumGradientNorm)
        optimizer.step()
        return Double(loss.item)
    }

    public func act(_ observation: [Float]) -> Action {
        let values = withoutGradients { qNetwork(Tensor(shape: [1, observation.count], scalars: observation)).scalars }
        return .discrete(values.indices.max { values[$0] < values[$1] }!)
    }
}

extension DQN: ResumableLearner {
    /// Besides counters, stream and environment: the replay buffer (`replay.*`) and the target
    /// network (`target.*`), which lags the online network between copies. The ε schedule is a
    /// function of `environmentSteps`, so it continues from the restored counter.
    public func saveState() throws -> LearnerState {
        let replay = buffer.saved
        var tensors: [String: Tensor] = [:]
        for (name, tensor) in replay.tensors { tensors["replay." + name] = tensor }
        for (name, tensor) in targetNetwork.stateDictionary() { tensors["target." + name] = tensor }
        let counters = Dictionary(uniqueKeysWithValues: replay.counters.map { ("replay." + $0.key, $0.value) })
        return LearnerState(record: LearnerRecord(iteration: iteration, environmentSteps: environmentSteps, generator: generator,
                                                  environments: try environment.snapshot(), counters: counters),
                            tensors: tensors)
    }

    public func restoreState(_ state: LearnerState) throws {
        func part(_ prefix: String) -> [String: Tensor] {
            Dictionary(uniqueKeysWithValues: state.tensors.filter { $0.key.hasPrefix(prefix) }.map { (String($0.key.dropFirst(prefix.count)), $0.value) })
        }
        let replayCounters = Dictionary(uniqueKeysWithValues: state.record.counters.filter { $0.key.hasPrefix("replay.") }
            .map { (String($0.key.dropFirst(7)), $0.value) })
        do {
            try targetNetwork.loadStateDictionary(part("target."))
        } catch {
            throw LearnerStateError("the DQN target network does not fit: \(error)")
        }
        try buffer.restore(tensors: part("replay."), counters: replayCounters)
        try environment.restore(try state.environments())
        (iteration, environmentSteps, generator) = (state.record.iteration, state.record.environmentSteps, state.record.generator)
    }
}
