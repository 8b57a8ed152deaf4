import TesseraNN
import TesseraTensor

/// What the trainer needs from any deep RL learner: a step of training, the counters, the greedy
/// policy for evaluation, and the state to checkpoint.
public protocol Learner: AnyObject {
    /// Runs one unit of training (a rollout and its update, or a block of DQN steps) and returns
    /// its metrics (`episode_return` when episodes ended, losses …).
    func iterate() -> [String: Double]
    /// Units of training in the whole run.
    var totalIterations: Int { get }
    var iteration: Int { get }
    /// Environment steps taken so far (all copies together).
    var environmentSteps: Int { get }
    /// The greedy action for one observation.
    func act(_ observation: [Float]) -> Action
    /// The networks, whose parameters are checkpointed.
    var model: Module { get }
    /// The optimizers, whose slots are checkpointed, by name.
    var optimizers: [String: any Optimizer] { get }
}

/// An on-policy learner with an actor–critic network.
public protocol OnPolicyLearner: Learner {
    var network: ActorCritic { get }
}

extension OnPolicyLearner {
    public var model: Module { network }
}

extension PPO {
    public var optimizers: [String: any Optimizer] { ["optimizer": optimizer] }
}
