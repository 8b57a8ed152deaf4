import TesseraTensor

/// One-step transitions `(s, a, r, s', terminated)` of every copy in a ``VectorEnvironment``,
/// stored step-major (index `t · copies + i`), with the log-probability of each action under the
/// policy that chose it: what the one-step actor–critics (``QActorCritic``,
/// ``OffPolicyActorCritic``) learn from.
public struct Transitions {
    /// `[n, observation]`.
    public var observations: Tensor
    /// `[n]` action indices.
    public var actions: Tensor
    /// `[n]`.
    public var rewards: Tensor
    /// `[n, observation]`: the state the action led to. Where an episode ended this is its last
    /// observation (not the first of the next episode), so a truncated step bootstraps from it.
    public var nextObservations: Tensor
    /// `[n]`, 1 only where the episode reached a terminal state of the MDP; a step cut off by a
    /// time limit has 0 here and bootstraps (Pardo et al., ICML 2018).
    public var terminated: Tensor
    /// `[n]` `log β(a|s)`: the behaviour policy's log-probability of each action when it was taken.
    public var behaviourLogProbabilities: Tensor
    /// `(return, length)` of the episodes that ended while collecting.
    public var finishedEpisodes: [(return: Double, length: Int)]

    public var count: Int { actions.count }
}

/// Steps every copy of `environments` `steps` times with discrete actions drawn from `behaviour`
/// (a categorical over `[copies, actions]` logits given the `[copies, observation]` observations),
/// recording `log β(a|s)` of each drawn action.
public func collectTransitions(_ environments: VectorEnvironment, steps: Int, generator: inout RandomGenerator,
                               behaviour: (Tensor) -> PolicyDistribution) -> Transitions {
    var observationRows: [Tensor] = [], nextRows: [[Float]] = [], actions: [Action] = []
    var rewards: [Float] = [], terminated: [Float] = [], logProbabilities: [Float] = []
    var finished: [(return: Double, length: Int)] = []
    withoutGradients {
        for _ in 0..<steps {
            let observations = environments.observationTensor
            let distribution = behaviour(observations)
            let chosen = distribution.sample(generator: &generator)
            logProbabilities += distribution.logProbability(actionTensor(chosen)).scalars
            observationRows.append(observations)
            actions += chosen
            let outcome = environments.step(chosen)
            for copy in 0..<environments.count {
                nextRows.append(outcome.finalObservations[copy] ?? outcome.observations[copy])
                rewards.append(Float(outcome.rewards[copy]))
                terminated.append(outcome.terminated[copy] ? 1 : 0)
            }
            finished += outcome.finishedEpisodes
        }
    }
    let dimension = environments.observationSpace.dimension
    return Transitions(observations: Tensor.concatenate(observationRows, alongAxis: 0), actions: actionTensor(actions),
                       rewards: Tensor(rewards), nextObservations: Tensor(shape: [nextRows.count, dimension], scalars: nextRows.flatMap { $0 }),
                       terminated: Tensor(terminated), behaviourLogProbabilities: Tensor(logProbabilities),
                       finishedEpisodes: finished)
}
