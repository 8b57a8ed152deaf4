import TesseraNN
import TesseraTensor

// Advantage actor–critic (Mnih et al., "Asynchronous Methods for Deep Reinforcement Learning",
// ICML 2016), the synchronous variant: several environment copies, short rollouts, one gradient
// step per rollout on `−Â·log π(a|s) + c_v·(V − R)² − c_e·H[π]` with a V critic and GAE(λ)
// advantages (λ = 1 gives A2C's n-step returns).

/// A2C's settings; defaults are RL Baselines3 Zoo's tuned CartPole-v1 values (RMSprop, 8 copies,
/// 5-step rollouts).
public struct A2CConfig: Sendable {
    public var environmentCount = 8
    /// Steps per copy between updates.
    public var rolloutSteps = 5
    /// Environment steps of the whole run.
    public var totalSteps = 500_000
    /// RMSprop's learning rate (α = 0.99, ε = 1e-5 as the paper's shared RMSprop).
    public var learningRate: Float = 7e-4
    public var discount: Float = 0.99
    /// GAE's λ (1: plain n-step returns).
    public var lambda: Float = 1
    public var entropyCoefficient: Float = 0
    public var valueCoefficient: Float = 0.5
    public var maximumGradientNorm: Float = 0.5
    public var normalizeAdvantages = false
    public var hiddenSizes = [64, 64]
    public var seed: UInt64 = 1

    public init() {}

    public var batchSize: Int { environmentCount * rolloutSteps }
}

/// An A2C learner: ``iterate()`` is one rollout and one gradient step.
public final class A2C: OnPolicyLearner {
    public let config: A2CConfig
    public let network: ActorCritic
    public let optimizer: RMSprop
    public let environments: VectorEnvironment
    public var iteration = 0
    public var environmentSteps = 0
    public var generator: RandomGenerator

    public init(config: A2CConfig, makeEnvironment: () -> Environment) {
        self.config = config
        environments = VectorEnvironment(count: config.environmentCount, makeEnvironment)
        var initialization = RandomGenerator(seed: config.seed)
        network = ActorCritic(observationSpace: environments.observationSpace, actionSpace: environments.actionSpace,
                              hiddenSizes: config.hiddenSizes, generator: &initialization)
        optimizer = RMSprop(parameters: network.namedParameters(), learningRate: config.learningRate, alpha: 0.99, epsilon: 1e-5)
        generator = RandomGenerator(seed: config.seed).derived(stream: 2)
        environments.reset(seed: config.seed)
    }

    public var totalIterations: Int { config.totalSteps / config.batchSize }
    public var optimizers: [String: any Optimizer] { ["optimizer": optimizer] }

    public func iterate() -> [String: Double] {
        let rollout = collectRollout(environments, network: network, steps: config.rolloutSteps,
                                     discount: config.discount, generator: &generator)
        environmentSteps += config.batchSize
        iteration += 1
        let (advantageValues, returnValues) = generalizedAdvantages(rollout, discount: config.discount, lambda: config.lambda)
        var advantages = Tensor(advantageValues)
        if config.normalizeAdvantages { advantages = normalized(advantages) }

        let distribution = network.distribution(rollout.observations)
        let policyLoss = -(advantages * distribution.logProbability(rollout.actions)).mean()
        let value = network.value(rollout.observations)
        let valueLoss = meanSquaredError(value, Tensor(returnValues))
        let entropy = distribution.entropy.mean()
        let loss = policyLoss + valueLoss * config.valueCoefficient - entropy * config.entropyCoefficient
        optimizer.zeroGradients()
        loss.backward()
        clipGradientNorm(network.parameters(), maximumNorm: config.maximumGradientNorm)
        optimizer.step()

        var metrics = episodeMetrics(rollout.finishedEpisodes)
        metrics["policy_loss"] = Double(policyLoss.item)
        metrics["value_loss"] = Double(valueLoss.item)
        metrics["entropy"] = Double(entropy.item)
        return metrics
    }

    public func act(_ observation: [Float]) -> Action { network.greedyAction(observation) }
}
