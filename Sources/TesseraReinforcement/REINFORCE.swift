import TesseraNN
import TesseraTensor

// REINFORCE with a learned baseline (Williams, "Simple statistical gradient-following algorithms
// for connectionist reinforcement learning", Machine Learning 1992; Sutton & Barto §13.4): run
// whole episodes, then ascend `Σ_t (G_t − V(s_t))·∇log π(a_t|s_t)` while regressing V on G_t. The
// baseline lowers the variance without biasing the gradient.

/// REINFORCE's settings.
public struct REINFORCEConfig: Sendable {
    /// Complete episodes per update.
    public var episodesPerUpdate = 8
    /// Updates in the run.
    public var updates = 200
    public var learningRate: Float = 1e-3
    public var discount: Float = 0.99
    public var hiddenSizes = [64, 64]
    public var seed: UInt64 = 1

    public init() {}
}

/// A REINFORCE learner: ``iterate()`` runs `episodesPerUpdate` episodes and takes one step.
public final class REINFORCE: OnPolicyLearner {
    public let config: REINFORCEConfig
    public let network: ActorCritic
    public let optimizer: Adam
    public let environment: Environment
    public var iteration = 0
    public var environmentSteps = 0
    public var generator: RandomGenerator

    public init(config: REINFORCEConfig, makeEnvironment: () -> Environment) {
        self.config = config
        environment = makeEnvironment()
        var initialization = RandomGenerator(seed: config.seed)
        network = ActorCritic(observationSpace: environment.observationSpace, actionSpace: environment.actionSpace,
                              hiddenSizes: config.hiddenSizes, generator: &initialization)
        optimizer = Adam(parameters: network.namedParameters(), learningRate: config.learningRate)
        generator = RandomGenerator(seed: config.seed).derived(stream: 2)
    }

    public var totalIterations: Int { config.updates }
    public var optimizers: [String: any Optimizer] { ["optimizer": optimizer] }

    public func iterate() -> [String: Double] {
        var observations: [Float] = [], actions: [Action] = [], returns: [Float] = []
        var finished: [(return: Double, length: Int)] = []
        for episode in 0..<config.episodesPerUpdate {
            var observation = environment.reset(seed: iteration == 0 && episode == 0 ? config.seed : nil)
            var rewards: [Float] = [], total = 0.0
            while true {
                environment.checkObservation(observation)
                let action = withoutGradients {
                    network.distribution(Tensor(shape: [1, observation.count], scalars: observation)).sample(generator: &generator)[0]
                }
                let result = environment.step(action)
                observations += observation
                actions.append(action)
                rewards.append(Float(result.reward))
                total += result.reward
                environmentSteps += 1
                if result.isDone {
                    // A truncated episode's return continues past the cut: bootstrap with V.
                    var g: Float = result.terminated ? 0 : withoutGradients {
                        network.value(Tensor(shape: [1, result.observation.count], scalars: result.observation)).item
                    }
                    var episodeReturns = [Float](repeating: 0, count: rewards.count)
                    for t in rewards.indices.reversed() {
                        g = rewards[t] + config.discount * g
                        episodeReturns[t] = g
                    }
                    returns += episodeReturns
                    finished.append((total, rewards.count))
                    break
                }
                observation = result.observation
            }
        }
        iteration += 1
        let states = Tensor(shape: [actions.count, environment.observationSpace.dimension], scalars: observations)
        let targets = Tensor(returns)
        let value = network.value(states)
        let advantages = (targets - value).detached()
        let policyLoss = -(advantages * network.distribution(states).logProbability(actionTensor(actions))).mean()
        let valueLoss = meanSquaredError(value, targets)
        optimizer.zeroGradients()
        (policyLoss + valueLoss * 0.5).backward()
        optimizer.step()
        var metrics = episodeMetrics(finished)
        metrics["policy_loss"] = Double(policyLoss.item)
        metrics["value_loss"] = Double(valueLoss.item)
        return metrics
    }

    public func act(_ observation: [Float]) -> Action { network.greedyAction(observation) }
}
