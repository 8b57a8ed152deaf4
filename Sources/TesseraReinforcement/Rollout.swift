import TesseraTensor

/// On-policy experience: `steps` consecutive steps of every copy in a ``VectorEnvironment``,
/// stored step-major (index `t · copies + i`), with what the policy said when acting.
public struct Rollout {
    public let steps: Int
    public let copies: Int
    /// `[steps · copies, observation]`.
    public var observations: Tensor
    /// `[steps · copies]` indices or `[steps · copies, dimension]` vectors.
    public var actions: Tensor
    /// `log π_old(a|s)` when acting, `[steps · copies]`.
    public var logProbabilities: [Float]
    /// `V_old(s)`, `[steps · copies]`.
    public var values: [Float]
    /// Rewards, with `γ·V(s_final)` added where an episode was truncated (see ``collectRollout(_:network:steps:discount:generator:)``).
    public var rewards: [Float]
    /// 1 where the episode ended (terminated or truncated) after this step.
    public var dones: [Float]
    /// `V(s)` of the observation after the last step, per copy (to bootstrap the rollout's end).
    public var lastValues: [Float]
    /// `(return, length)` of the episodes that ended during the rollout.
    public var finishedEpisodes: [(return: Double, length: Int)]
}

/// Steps `environments` for `steps` steps with actions sampled from `network`.
///
/// A truncated episode is not over in the MDP, so its last reward gets `γ·V(s_final)` added and
/// the step is then treated as final: the return is bootstrapped exactly where a time limit cut
/// it, and the advantage never leaks into the next episode (Pardo et al., ICML 2018). Terminated
/// episodes get nothing added: their future is 0.
public func collectRollout(_ environments: VectorEnvironment, network: ActorCritic, steps: Int, discount: Float,
                           generator: inout RandomGenerator) -> Rollout {
    let copies = environments.count
    var observationRows: [Tensor] = [], actions: [Action] = []
    var logProbabilities: [Float] = [], values: [Float] = [], rewards: [Float] = [], dones: [Float] = []
    var finished: [(return: Double, length: Int)] = []
    withoutGradients {
        for _ in 0..<steps {
            let observations = environments.observationTensor
            let distribution = network.distribution(observations)
            let chosen = distribution.sample(generator: &generator)
            logProbabilities += distribution.logProbability(actionTensor(chosen)).scalars
            values += network.value(observations).scalars
            observationRows.append(observations)
            actions += chosen
            let outcome = environments.step(chosen)
            var stepRewards = outcome.rewards.map { Float($0) }
            let truncatedCopies = (0..<copies).filter { outcome.truncated[$0] && !outcome.terminated[$0] }
            if !truncatedCopies.isEmpty {
                let finals = Tensor(shape: [truncatedCopies.count, environments.observationSpace.dimension],
                                    scalars: truncatedCopies.flatMap { outcome.finalObservations[$0]! })
                for (copy, value) in zip(truncatedCopies, network.value(finals).scalars) { stepRewards[copy] += discount * value }
            }
            rewards += stepRewards
            dones += (0..<copies).map { outcome.terminated[$0] || outcome.truncated[$0] ? 1 : 0 }
            finished += outcome.finishedEpisodes
        }
    }
    let lastValues = withoutGradients { network.value(environments.observationTensor).scalars }
    return Rollout(steps: steps, copies: copies, observations: Tensor.concatenate(observationRows, alongAxis: 0),
                   actions: actionTensor(actions), logProbabilities: logProbabilities, values: values, rewards: rewards,
                   dones: dones, lastValues: lastValues, finishedEpisodes: finished)
}

/// Generalised advantage estimation (Schulman et al., "High-Dimensional Continuous Control Using
/// Generalized Advantage Estimation", ICLR 2016): `Â_t = Σ_l (γλ)^l δ_{t+l}` with
/// `δ_t = r_t + γV(s_{t+1}) − V(s_t)`, cut where an episode ended. Returns the advantages and the
/// value targets `Â + V`. λ = 1 gives Monte Carlo returns minus the baseline, λ = 0 the TD error.
public func generalizedAdvantages(_ rollout: Rollout, discount: Float, lambda: Float) -> (advantages: [Float], returns: [Float]) {
    let copies = rollout.copies
    var advantages = [Float](repeating: 0, count: rollout.rewards.count)
    var running = [Float](repeating: 0, count: copies)
    for t in (0..<rollout.steps).reversed() {
        for i in 0..<copies {
            let index = t * copies + i
            let continues = 1 - rollout.dones[index]
            let nextValue = t == rollout.steps - 1 ? rollout.lastValues[i] : rollout.values[index + copies]
            let delta = rollout.rewards[index] + discount * nextValue * continues - rollout.values[index]
            running[i] = delta + discount * lambda * continues * running[i]
            advantages[index] = running[i]
        }
    }
    return (advantages, zip(advantages, rollout.values).map { $0 + $1 })
}

/// `(x − mean) / (std + 1e-8)`: advantage normalisation.
func normalized(_ values: Tensor) -> Tensor {
    let mean = values.mean()
    let centered = values - mean
    return centered / ((centered * centered).mean().sqrt() + 1e-8)
}
