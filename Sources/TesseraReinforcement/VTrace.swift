import Foundation

// V-trace, the off-policy correction of IMPALA (Espeholt, Soyer, Munos, Simonyan, Mnih, Ward,
// Doron, Firoiu, Harley, Dunning, Legg & Kavukcuoglu, "IMPALA: Scalable Distributed Deep-RL with
// Importance Weighted Actor-Learner Architectures", ICML 2018, §4.1).
//
// An actor acts with a behaviour policy μ that lags behind the learner's policy π. For a
// trajectory x_s, a_s, r_s, …, x_{s+n} the n-step V-trace target is (eq. 1)
//
//     v_s = V(x_s) + Σ_{t=s}^{s+n−1} γ^{t−s} (Π_{i=s}^{t−1} c_i) δ_t V,
//     δ_t V = ρ_t (r_t + γ V(x_{t+1}) − V(x_t)),   ρ_t = min(ρ̄, π(a_t|x_t)/μ(a_t|x_t)),
//     c_i = min(c̄, π(a_i|x_i)/μ(a_i|x_i)),
//
// computed backwards with the recursion of Remark 1:
//
//     v_s − V(x_s) = δ_s V + γ c_s (v_{s+1} − V(x_{s+1})),
//
// and the policy-gradient advantage of §4.2 is ρ_s (r_s + γ v_{s+1} − V(x_s)). ρ̄ sets the
// value function V-trace converges to (π itself when ρ̄ = ∞, nearer μ as ρ̄ shrinks), c̄ the speed
// of convergence; the paper uses ρ̄ = c̄ = 1. On-policy (π = μ, ρ̄, c̄ ≥ 1) v_s is the n-step
// Bellman target, the discounted rewards to the end of the rollout plus the bootstrap value.
//
// Episode ends keep Gymnasium's split (Pardo et al., "Time Limits in Reinforcement Learning",
// ICML 2018): after a *terminated* step the value beyond is 0; after a *truncated* step the state
// still has a value, so the step bootstraps from V(final observation); after either the trace
// stops there, because the next index of the copy belongs to a new episode.

/// Everything V-trace reads, for `steps` consecutive steps of `copies` environment copies,
/// stored step-major (index `t · copies + i`, as ``Rollout``).
public struct VTraceInput: Sendable {
    public var steps: Int
    public var copies: Int
    /// `log μ(a_t|x_t)`: the behaviour policy's, recorded by the actor when it acted.
    public var behaviourLogProbabilities: [Float]
    /// `log π(a_t|x_t)`: the policy being learned, evaluated by the learner now.
    public var targetLogProbabilities: [Float]
    public var rewards: [Float]
    /// `V(x_t)` under the learner's current value function.
    public var values: [Float]
    /// `V(x_T)` of the observation after the last step, per copy.
    public var bootstrapValues: [Float]
    /// Whether the episode reached a terminal state after step t (the future is worth 0).
    public var terminated: [Bool]
    /// Whether a time limit cut the episode after step t (the future is worth `truncationValues[t]`).
    public var truncated: [Bool]
    /// `V(final observation)` where `truncated` (ignored elsewhere).
    public var truncationValues: [Float]

    public init(steps: Int, copies: Int, behaviourLogProbabilities: [Float], targetLogProbabilities: [Float],
                rewards: [Float], values: [Float], bootstrapValues: [Float], terminated: [Bool], truncated: [Bool],
                truncationValues: [Float]) {
        self.steps = steps
        self.copies = copies
        self.behaviourLogProbabilities = behaviourLogProbabilities
        self.targetLogProbabilities = targetLogProbabilities
        self.rewards = rewards
        self.values = values
        self.bootstrapValues = bootstrapValues
        self.terminated = terminated
        self.truncated = truncated
        self.truncationValues = truncationValues
    }
}

/// V-trace targets and advantages, step-major like the input.
public struct VTraceOutput: Sendable {
    /// `v_s`: the value function's regression targets.
    public var targets: [Float]
    /// `ρ_s (r_s + γ v_{s+1} − V(x_s))`: the policy gradient's advantages.
    public var advantages: [Float]
    /// The clipped importance weights `ρ_s` (their mean shows how off-policy the data was).
    public var clippedImportanceWeights: [Float]
}

/// Computes V-trace targets and policy-gradient advantages (IMPALA, eq. 1 and §4.2).
/// - Parameters:
///   - input: one batch, step-major (`steps × copies`): both policies' log-probabilities, rewards,
///     values and episode ends.
///   - discount: γ.
///   - importanceClip: ρ̄, the truncation of the importance weights in δ_t V and the advantage.
///   - traceClip: c̄, the truncation of the trace coefficients c_i.
public func vtrace(_ input: VTraceInput, discount: Float, importanceClip: Float = 1, traceClip: Float = 1) -> VTraceOutput {
    let count = input.steps * input.copies
    precondition(input.behaviourLogProbabilities.count == count && input.targetLogProbabilities.count == count
                 && input.rewards.count == count && input.values.count == count && input.terminated.count == count
                 && input.truncated.count == count && input.truncationValues.count == count
                 && input.bootstrapValues.count == input.copies,
                 "vtrace: every per-step array needs \(input.steps) × \(input.copies) values and bootstrapValues \(input.copies)")
    var targets = [Float](repeating: 0, count: count)
    var advantages = [Float](repeating: 0, count: count)
    var weights = [Float](repeating: 0, count: count)
    // v_{s+1} − V(x_{s+1}) of the step after the one being computed, per copy; 0 after the last
    // step, where v_T = V(x_T).
    var nextCorrection = [Float](repeating: 0, count: input.copies)
    for t in (0..<input.steps).reversed() {
        for i in 0..<input.copies {
            let index = t * input.copies + i
            let ratio = exp(input.targetLogProbabilities[index] - input.behaviourLogProbabilities[index])
            let rho = min(importanceClip, ratio), c = min(traceClip, ratio)
            let isLast = t == input.steps - 1
            // V(x_{t+1}) and v_{t+1} as this step sees them.
            let nextValue: Float, nextTarget: Float
            if input.terminated[index] {
                (nextValue, nextTarget) = (0, 0)
                nextCorrection[i] = 0
            } else if input.truncated[index] {
                (nextValue, nextTarget) = (input.truncationValues[index], input.truncationValues[index])
                nextCorrection[i] = 0
            } else if isLast {
                (nextValue, nextTarget) = (input.bootstrapValues[i], input.bootstrapValues[i])
            } else {
                nextValue = input.values[index + input.copies]
                nextTarget = targets[index + input.copies]
            }
            let delta = rho * (input.rewards[index] + discount * nextValue - input.values[index])
            let correction = delta + discount * c * nextCorrection[i]
            targets[index] = input.values[index] + correction
            advantages[index] = rho * (input.rewards[index] + discount * nextTarget - input.values[index])
            weights[index] = rho
            nextCorrection[i] = correction
        }
    }
    return VTraceOutput(targets: targets, advantages: advantages, clippedImportanceWeights: weights)
}
