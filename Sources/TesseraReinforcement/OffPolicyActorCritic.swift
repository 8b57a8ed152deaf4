import TesseraNN
import TesseraTensor

// Off-policy actor–critic (Degris, White & Sutton, "Off-Policy Actor-Critic", ICML 2012): the
// data come from a behaviour policy β, not from the policy π being learned, and each step's
// importance ratio `ρ = π(a|s)/β(a|s)` corrects for it. With the TD error
// `δ = r + γ·V(s') − V(s)` of a state-value critic, the critic's TD(0) update is `ρ·δ·∇V(s)` and
// the actor's step is `ρ·δ·∇log π(a|s)` — the paper's updates with λ = 0, in minibatch form, and
// with a semi-gradient TD critic in place of its GTD(λ) (our critic is a neural network, for
// which GTD's convergence guarantee does not hold anyway). The ratio is truncated,
// `ρ̄ = min(ρ, c)`, which bounds the variance of a step at the price of a bias toward β where
// π and β disagree most (Wawrzyński 2009; Munos et al., "Safe and Efficient Off-Policy
// Reinforcement Learning" (Retrace), NeurIPS 2016).
//
// The behaviour policy is an ε-mixture of a lagged copy of the actor,
// `β(a|s) = (1 − ε)·π_lag(a|s) + ε/|A|`, with `π_lag` refreshed from the actor every
// `behaviourUpdateInterval` iterations: the lag makes β drift from π between refreshes (as
// actors that hold stale weights do), the ε floor keeps every action's β above ε/|A|, so ρ is
// finite and every action keeps being tried. `log β(a|s)` is recorded with each transition when
// it is acted on, as an actor process would send it.

/// Off-PAC's settings; with these the greedy policy reaches 500 on CartPole-v1 (seeds 1 and 3; 448 with seed 2).
public struct OffPolicyActorCriticConfig: Sendable {
    /// Environment copies stepped together.
    public var environmentCount = 8
    /// Steps per copy between updates (one gradient step on `environmentCount · rolloutSteps` transitions).
    public var rolloutSteps = 4
    /// Environment steps of the whole run (all copies together).
    public var totalSteps = 300_000
    /// Adam's learning rate (actor and critic share one optimizer).
    public var learningRate: Float = 1e-3
    /// Discount γ.
    public var discount: Float = 0.99
    /// c in `ρ̄ = min(π/β, c)`; must be positive (`.infinity`: no truncation, the paper's form).
    public var ratioTruncation: Float = 1
    /// ε of the behaviour policy's mixture with the uniform policy, in [0, 1).
    public var behaviourEpsilon: Float = 0.1
    /// Iterations between copies of the actor into the behaviour policy (1: β mixes the current π).
    public var behaviourUpdateInterval = 4
    /// Weight of the critic's TD loss and of the entropy bonus.
    public var valueCoefficient: Float = 0.5
    public var entropyCoefficient: Float = 0
    /// Largest global gradient norm.
    public var maximumGradientNorm: Float = 0.5
    /// Hidden layer widths of the actor and of the critic.
    public var hiddenSizes = [64, 64]
    /// Seeds the networks, the environments and the action sampling.
    public var seed: UInt64 = 1

    public init() {}

    /// Transitions per update.
    public var batchSize: Int { environmentCount * rolloutSteps }
}

/// Off-PAC's losses on a batch of transitions, apart from the networks so the arithmetic can be
/// checked by hand.
///
/// - Parameters:
///   - logProbabilities: `[n]` `log π(a|s)` under the policy being learned (differentiable).
///   - behaviourLogProbabilities: `[n]` `log β(a|s)` recorded when acting.
///   - values: `[n]` `V(s)`, differentiable: the critic's output the value loss trains.
///   - nextValues: `[n]` `V(s')` of the following state; detached, no gradient flows into it.
///   - rewards: `[n]` rewards `r` of the transitions.
///   - terminated: `[n]` 1 where `s'` is terminal (its future is worth 0), else 0; a time-limit
///     truncation is not terminal.
///   - discount: γ in [0, 1].
///   - ratioTruncation: `c`, the cap on the importance ratio `π/β`, positive; a lower cap bounds
///     the variance of a step at the price of a bias toward β, `.infinity` is the paper's
///     untruncated form.
/// - Returns: the actor's loss `−mean(ρ̄·δ·log π(a|s))` and the critic's `mean(ρ̄·(V(s) − y)²)`,
///   with `y = r + γ·(1 − terminated)·V(s')`, `δ = y − V(s)` and `ρ̄ = min(π/β, c)` held fixed;
///   and the truncated ratios.
public func offPolicyActorCriticLosses(logProbabilities: Tensor, behaviourLogProbabilities: Tensor, values: Tensor,
                                       nextValues: Tensor, rewards: Tensor, terminated: Tensor, discount: Float,
                                       ratioTruncation: Float) -> (policyLoss: Tensor, valueLoss: Tensor, ratios: Tensor) {
    let ratios = (logProbabilities.detached() - behaviourLogProbabilities).exp().clamp(max: ratioTruncation)
    let targets = (rewards + nextValues.detached() * (1 - terminated) * discount).detached()
    let temporalDifferences = (targets - values).detached()
    let policyLoss = -(ratios * temporalDifferences * logProbabilities).mean()
    let valueLoss = (ratios * (values - targets) * (values - targets)).mean()
    return (policyLoss, valueLoss, ratios)
}

/// An Off-PAC learner: ``iterate()`` acts with the behaviour policy for `rolloutSteps` steps of
/// every copy and takes one importance-weighted gradient step on those transitions.
public final class OffPolicyActorCritic: Learner {
    public let config: OffPolicyActorCriticConfig
    /// π (the actor, categorical) and the state-value critic V.
    public let network: ActorCritic
    /// The lagged copy of the actor that β mixes with the uniform policy; not optimized.
    public let behaviourActor: MLP
    public let optimizer: Adam
    public let environments: VectorEnvironment
    public var iteration = 0
    public var environmentSteps = 0
    public var generator: RandomGenerator
    private let actionCount: Int

    public init(config: OffPolicyActorCriticConfig, makeEnvironment: () -> Environment) {
        precondition(config.ratioTruncation > 0, "OffPolicyActorCritic: ratioTruncation must be positive, got \(config.ratioTruncation)")
        precondition((0..<1).contains(config.behaviourEpsilon),
                     "OffPolicyActorCritic: behaviourEpsilon must be in [0, 1), got \(config.behaviourEpsilon)")
        precondition(config.behaviourUpdateInterval > 0,
                     "OffPolicyActorCritic: behaviourUpdateInterval must be positive, got \(config.behaviourUpdateInterval)")
        self.config = config
        environments = VectorEnvironment(count: config.environmentCount, makeEnvironment)
        guard let actions = environments.actionSpace.count else {
            fatalError("Tessera OffPolicyActorCritic: needs a discrete action space, but \(environments.environments[0].name) has \(environments.actionSpace)")
        }
        actionCount = actions
        var initialization = RandomGenerator(seed: config.seed)
        network = ActorCritic(observationSpace: environments.observationSpace, actionSpace: environments.actionSpace,
                              hiddenSizes: config.hiddenSizes, generator: &initialization)
        behaviourActor = orthogonalMLP(sizes: [environments.observationSpace.dimension] + config.hiddenSizes + [actions],
                                       outputGain: 0.01, generator: &initialization)
        optimizer = Adam(parameters: network.namedParameters(), learningRate: config.learningRate, epsilon: 1e-5)
        generator = RandomGenerator(seed: config.seed).derived(stream: 2)
        copyToBehaviour()
        environments.reset(seed: config.seed)
    }

    public var totalIterations: Int { config.totalSteps / config.batchSize }
    public var model: Module { network }
    public var optimizers: [String: any Optimizer] { ["optimizer": optimizer] }

    private func copyToBehaviour() {
        for (behaviour, actor) in zip(behaviourActor.parameters(), network.actor.parameters()) { behaviour.assign(actor) }
    }

    /// β at `observations`: `(1 − ε)·softmax(π_lag logits) + ε/|A|`, as a categorical over its log-probabilities.
    public func behaviour(_ observations: Tensor) -> PolicyDistribution {
        let mixture = behaviourActor(observations).softmax(alongAxis: -1) * (1 - config.behaviourEpsilon)
            + config.behaviourEpsilon / Float(actionCount)
        return .categorical(logits: mixture.log())
    }

    public func iterate() -> [String: Double] {
        if iteration % config.behaviourUpdateInterval == 0 { copyToBehaviour() }
        let batch = collectTransitions(environments, steps: config.rolloutSteps, generator: &generator, behaviour: behaviour)
        environmentSteps += config.batchSize
        iteration += 1

        let distribution = network.distribution(batch.observations)
        let nextValues = withoutGradients { network.value(batch.nextObservations) }
        let (policyLoss, valueLoss, ratios) = offPolicyActorCriticLosses(
            logProbabilities: distribution.logProbability(batch.actions), behaviourLogProbabilities: batch.behaviourLogProbabilities,
            values: network.value(batch.observations), nextValues: nextValues, rewards: batch.rewards, terminated: batch.terminated,
            discount: config.discount, ratioTruncation: config.ratioTruncation)
        let entropy = distribution.entropy.mean()
        let loss = policyLoss + valueLoss * config.valueCoefficient - entropy * config.entropyCoefficient
        optimizer.zeroGradients()
        loss.backward()
        clipGradientNorm(network.parameters(), maximumNorm: config.maximumGradientNorm)
        optimizer.step()

        var metrics = episodeMetrics(batch.finishedEpisodes)
        metrics["policy_loss"] = Double(policyLoss.item)
        metrics["value_loss"] = Double(valueLoss.item)
        metrics["entropy"] = Double(entropy.item)
        metrics["ratio_mean"] = Double(ratios.mean().item)
        metrics["ratio_truncated_fraction"] = Double(ratios.greaterEqual(config.ratioTruncation).mean().item)
        return metrics
    }

    public func act(_ observation: [Float]) -> Action { network.greedyAction(observation) }
}

extension OffPolicyActorCritic: ResumableLearner {
    /// Besides counters, stream and environments: the behaviour actor (`behaviour.*`), which lags
    /// the actor between copies.
    public func saveState() throws -> LearnerState {
        var tensors: [String: Tensor] = [:]
        for (name, tensor) in behaviourActor.stateDictionary() { tensors["behaviour." + name] = tensor }
        return LearnerState(record: LearnerRecord(iteration: iteration, environmentSteps: environmentSteps, generator: generator,
                                                  environments: try environments.snapshot()),
                            tensors: tensors)
    }

    public func restoreState(_ state: LearnerState) throws {
        var behaviour: [String: Tensor] = [:]
        for (name, tensor) in state.tensors where name.hasPrefix("behaviour.") { behaviour[String(name.dropFirst(10))] = tensor }
        do {
            try behaviourActor.loadStateDictionary(behaviour)
        } catch {
            throw LearnerStateError("the Off-PAC behaviour actor does not fit: \(error)")
        }
        try environments.restore(try state.environments())
        (iteration, environmentSteps, generator) = (state.record.iteration, state.record.environmentSteps, state.record.generator)
    }
}
