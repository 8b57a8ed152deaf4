import TesseraNN
import TesseraTensor

// Proximal Policy Optimization (Schulman, Wolski, Dhariwal, Radford & Klimov, "Proximal Policy
// Optimization Algorithms", arXiv:1707.06347, 2017), following CleanRL's `ppo.py` and its
// implementation details (Huang et al., "The 37 Implementation Details of PPO", ICLR Blog Track
// 2022): vectorised environments, GAE, per-minibatch advantage normalisation, clipped value
// loss, entropy bonus, global gradient clipping, linearly annealed learning rate, orthogonal
// initialisation. Discrete and Gaussian continuous policies.

/// PPO's settings; defaults are CleanRL's for CartPole.
public struct PPOConfig: Sendable {
    /// Environment copies stepped together.
    public var environmentCount = 4
    /// Steps per copy between updates (a batch holds `environmentCount · rolloutSteps` steps).
    public var rolloutSteps = 128
    /// Environment steps of the whole run (all copies together).
    public var totalSteps = 500_000
    /// Adam's learning rate at the start; annealed linearly to 0 when `annealLearningRate`.
    public var learningRate: Float = 2.5e-4
    public var annealLearningRate = true
    /// Discount γ.
    public var discount: Float = 0.99
    /// GAE's λ: the bias–variance trade-off of the advantages.
    public var lambda: Float = 0.95
    /// Minibatches per epoch; passes over each batch.
    public var minibatches = 4
    public var epochs = 4
    /// The policy ratio is clipped to `1 ± clip` (the paper's ε).
    public var clip: Float = 0.2
    /// Clip the value update to `±clip` around the old value as well.
    public var clipValueLoss = true
    /// Weight of the entropy bonus (exploration) and of the value loss.
    public var entropyCoefficient: Float = 0.01
    public var valueCoefficient: Float = 0.5
    /// Largest global gradient norm.
    public var maximumGradientNorm: Float = 0.5
    /// Normalise the advantages within each minibatch.
    public var normalizeAdvantages = true
    /// Hidden layer widths of the actor and the critic.
    public var hiddenSizes = [64, 64]
    /// Seeds the network, the environments and the action sampling.
    public var seed: UInt64 = 1

    public init() {}

    /// Steps per update.
    public var batchSize: Int { environmentCount * rolloutSteps }
    /// Updates in the run.
    public var iterations: Int { totalSteps / batchSize }
}

/// A PPO learner: ``iterate()`` collects one rollout and updates on it.
public final class PPO: OnPolicyLearner {
    public let config: PPOConfig
    public let network: ActorCritic
    public let optimizer: Adam
    public let environments: VectorEnvironment
    /// Counters, settable so a resumed run continues them.
    public var iteration = 0
    public var environmentSteps = 0
    public var generator: RandomGenerator

    public init(config: PPOConfig, makeEnvironment: () -> Environment) {
        precondition(config.batchSize % config.minibatches == 0,
                     "PPO: the batch of \(config.batchSize) steps does not split into \(config.minibatches) minibatches")
        self.config = config
        environments = VectorEnvironment(count: config.environmentCount, makeEnvironment)
        var initialization = RandomGenerator(seed: config.seed)
        network = ActorCritic(observationSpace: environments.observationSpace, actionSpace: environments.actionSpace,
                              hiddenSizes: config.hiddenSizes, generator: &initialization)
        optimizer = Adam(parameters: network.namedParameters(), learningRate: config.learningRate, epsilon: 1e-5)
        generator = RandomGenerator(seed: config.seed).derived(stream: 2)
        environments.reset(seed: config.seed)
    }

    public var totalIterations: Int { config.iterations }

    /// One rollout and `epochs` passes of minibatch updates. Returns the iteration's metrics.
    public func iterate() -> [String: Double] {
        iterate(averagingGradients: {})
    }

    /// ``iterate()`` with `averageGradients` called between each minibatch's backward pass and
    /// its optimizer step: DD-PPO (Wijmans et al., ICLR 2020) passes an allreduce there, so every
    /// process steps with the same averaged gradients and keeps the same weights.
    public func iterate(averagingGradients averageGradients: () throws -> Void) rethrows -> [String: Double] {
        if config.annealLearningRate {
            optimizer.learningRate = config.learningRate * (1 - Float(iteration) / Float(config.iterations))
        }
        let rollout = collectRollout(environments, network: network, steps: config.rolloutSteps,
                                     discount: config.discount, generator: &generator)
        environmentSteps += config.batchSize
        iteration += 1
        let (advantages, returns) = generalizedAdvantages(rollout, discount: config.discount, lambda: config.lambda)
        var metrics = try update(rollout, advantages: Tensor(advantages), returns: Tensor(returns),
                                 averagingGradients: averageGradients)
        metrics.merge(episodeMetrics(rollout.finishedEpisodes)) { $1 }
        return metrics
    }

    /// The clipped surrogate objective `min(ρÂ, clip(ρ, 1 − ε, 1 + ε)Â)` with `ρ = π/π_old`, plus
    /// the (clipped) value loss and minus the entropy bonus, minimised over minibatches.
    func update(_ rollout: Rollout, advantages: Tensor, returns: Tensor,
                averagingGradients averageGradients: () throws -> Void = {}) rethrows -> [String: Double] {
        let batch = config.batchSize, minibatchSize = batch / config.minibatches
        let oldLogProbabilities = Tensor(rollout.logProbabilities), oldValues = Tensor(rollout.values)
        var policyLosses = 0.0, valueLosses = 0.0, entropies = 0.0, klSum = 0.0, clipped = 0.0, count = 0.0
        for _ in 0..<config.epochs {
            let order = generator.permutation(batch)
            for start in stride(from: 0, to: batch, by: minibatchSize) {
                let indices = Tensor(order[start..<(start + minibatchSize)].map { Float($0) })
                let observations = rollout.observations.indexSelect(alongAxis: 0, indices: indices)
                let actions = rollout.actions.indexSelect(alongAxis: 0, indices: indices)
                var advantage = advantages.indexSelect(alongAxis: 0, indices: indices)
                if config.normalizeAdvantages { advantage = normalized(advantage) }

                let distribution = network.distribution(observations)
                let logRatio = distribution.logProbability(actions) - oldLogProbabilities.indexSelect(alongAxis: 0, indices: indices)
                let ratio = logRatio.exp()
                let policyLoss = (-advantage * ratio).maximum(-advantage * ratio.clamp(min: 1 - config.clip, max: 1 + config.clip)).mean()

                let value = network.value(observations)
                let target = returns.indexSelect(alongAxis: 0, indices: indices)
                var valueLoss = (value - target) * (value - target)
                if config.clipValueLoss {
                    let old = oldValues.indexSelect(alongAxis: 0, indices: indices)
                    let clippedValue = old + (value - old).clamp(min: -config.clip, max: config.clip)
                    valueLoss = valueLoss.maximum((clippedValue - target) * (clippedValue - target))
                }
                let valueTerm = valueLoss.mean() * 0.5
                let entropy = distribution.entropy.mean()
                let loss = policyLoss - entropy * config.entropyCoefficient + valueTerm * config.valueCoefficient

                optimizer.zeroGradients()
                loss.backward()
                try averageGradients()
                clipGradientNorm(network.parameters(), maximumNorm: config.maximumGradientNorm)
                optimizer.step()

                withoutGradients {
                    // The (r − 1) − log r estimator of KL(π_old ‖ π) (Schulman, 2020).
                    klSum += Double(((ratio - 1) - logRatio).mean().item)
                    clipped += Double((ratio - 1).abs().greater(config.clip).mean().item)
                }
                policyLosses += Double(policyLoss.item)
                valueLosses += Double(valueTerm.item)
                entropies += Double(entropy.item)
                count += 1
            }
        }
        return ["policy_loss": policyLosses / count, "value_loss": valueLosses / count, "entropy": entropies / count,
                "approximate_kl": klSum / count, "clip_fraction": clipped / count,
                "learning_rate": Double(optimizer.learningRate)]
    }

    public func act(_ observation: [Float]) -> Action { network.greedyAction(observation) }
}

/// Mean return and length of the episodes that ended, when any did.
func episodeMetrics(_ episodes: [(return: Double, length: Int)]) -> [String: Double] {
    guard !episodes.isEmpty else { return [:] }
    let count = Double(episodes.count)
    return ["episode_return": episodes.reduce(0) { $0 + $1.return } / count,
            "episode_length": episodes.reduce(0) { $0 + Double($1.length) } / count]
}

extension PPOConfig {
    /// CleanRL's defaults, which reach about −80 on Acrobot-v1 within 500k steps.
    public static var acrobot: PPOConfig {
        var config = PPOConfig()
        config.totalSteps = 500_000
        return config
    }

    /// Pendulum-v1 after RL Baselines3 Zoo (γ = 0.9, 4 × 1024-step rollouts, 10 epochs of 64-step
    /// minibatches, learning rate 1e-3, no entropy bonus), without its state-dependent exploration.
    public static var pendulum: PPOConfig {
        var config = PPOConfig()
        config.rolloutSteps = 1024
        config.totalSteps = 600_000
        config.discount = 0.9
        config.minibatches = 64
        config.epochs = 10
        config.learningRate = 1e-3
        config.entropyCoefficient = 0
        return config
    }
}
