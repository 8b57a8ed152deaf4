import Foundation
import TesseraNN
import TesseraTensor

// Trust Region Policy Optimization (Schulman, Levine, Moritz, Jordan & Abbeel, "Trust Region
// Policy Optimization", ICML 2015), the practical algorithm of its section 6 with GAE(λ)
// advantages (Schulman et al., ICLR 2016): maximise the surrogate `E[π_θ(a|s)/π_old(a|s) · Â]`
// subject to `mean KL(π_old ‖ π_θ) ≤ δ`. The step direction is the natural gradient `F⁻¹g`,
// found by conjugate gradient from Fisher–vector products (the Hessian of the KL at θ_old,
// computed by double backward, so F is never formed); its length puts the quadratic model of
// the KL on the boundary δ, and a backtracking line search enforces the true constraint. The
// value function is fitted separately by Adam on the GAE returns.

/// TRPO's settings; defaults are tuned for CartPole-v1.
public struct TRPOConfig: Sendable {
    /// Environment copies stepped together.
    public var environmentCount = 4
    /// Steps per copy between updates (a batch holds `environmentCount · rolloutSteps` steps).
    public var rolloutSteps = 256
    /// Environment steps of the whole run (all copies together).
    public var totalSteps = 150_000
    /// δ: the largest mean KL(π_old ‖ π_θ) of one policy step (the paper's 0.01).
    public var maximumKL: Float = 0.01
    /// Conjugate-gradient iterations for `F x = g` (10 as the paper's experiments).
    public var conjugateGradientIterations = 10
    /// Added to F (`F + damping·I`): keeps CG stable where the sampled Fisher is near singular.
    public var damping: Float = 0.1
    /// Halvings of the step the line search tries before keeping the old policy.
    public var lineSearchSteps = 10
    /// Discount γ.
    public var discount: Float = 0.99
    /// GAE's λ.
    public var lambda: Float = 0.95
    /// Normalise the advantages over the batch (a scale-free step: δ alone sets its size).
    public var normalizeAdvantages = true
    /// Adam's learning rate for the value function (the policy has no learning rate).
    public var learningRate: Float = 1e-3
    /// Passes of the value regression over each batch, and minibatches per pass.
    public var epochs = 5
    public var minibatches = 16
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

/// A TRPO learner: ``iterate()`` collects one rollout, takes one trust-region policy step and
/// fits the value function.
public final class TRPO: OnPolicyLearner {
    public let config: TRPOConfig
    public let network: ActorCritic
    /// Fits the critic only; the actor moves by the natural-gradient step.
    public let valueOptimizer: Adam
    public let environments: VectorEnvironment
    /// Counters, settable so a resumed run continues them.
    public var iteration = 0
    public var environmentSteps = 0
    public var generator: RandomGenerator

    public init(config: TRPOConfig, makeEnvironment: () -> Environment) {
        precondition(config.batchSize % config.minibatches == 0,
                     "TRPO: the batch of \(config.batchSize) steps does not split into \(config.minibatches) minibatches")
        self.config = config
        environments = VectorEnvironment(count: config.environmentCount, makeEnvironment)
        var initialization = RandomGenerator(seed: config.seed)
        network = ActorCritic(observationSpace: environments.observationSpace, actionSpace: environments.actionSpace,
                              hiddenSizes: config.hiddenSizes, generator: &initialization)
        valueOptimizer = Adam(parameters: network.criticParameters, learningRate: config.learningRate, epsilon: 1e-5)
        generator = RandomGenerator(seed: config.seed).derived(stream: 2)
        environments.reset(seed: config.seed)
    }

    public var totalIterations: Int { config.iterations }
    public var optimizers: [String: any Optimizer] { ["valueOptimizer": valueOptimizer] }

    /// One rollout, one policy step, `epochs` passes of value regression.
    public func iterate() -> [String: Double] {
        let rollout = collectRollout(environments, network: network, steps: config.rolloutSteps,
                                     discount: config.discount, generator: &generator)
        environmentSteps += config.batchSize
        iteration += 1
        let (advantages, returns) = generalizedAdvantages(rollout, discount: config.discount, lambda: config.lambda)
        var advantage = Tensor(advantages)
        if config.normalizeAdvantages { advantage = normalized(advantage) }
        var metrics = updatePolicy(rollout, advantages: advantage)
        metrics["value_loss"] = updateValue(rollout, returns: Tensor(returns))
        metrics.merge(episodeMetrics(rollout.finishedEpisodes)) { $1 }
        return metrics
    }

    /// The policy's parameters as the vector the trust-region step moves.
    var policyParameters: [Tensor] { network.actorParameters.map(\.parameter) }

    /// `v ↦ (F + damping·I) v` on `observations`, with F the Hessian of `mean KL(π_old ‖ π_θ)` at
    /// θ = θ_old, which equals the Fisher information matrix of the policy there (the KL's
    /// gradient vanishes at θ_old, its curvature does not). The first gradient is recorded once
    /// (`createGraph`); each product is one more backward sweep through it.
    func fisherVectorProduct(observations: Tensor) -> ([Float]) -> [Float] {
        let parameters = policyParameters, damping = config.damping
        let old = withoutGradients { network.distribution(observations).copied() }
        let kl = old.klDivergence(to: network.distribution(observations)).mean()
        let klGradient = flatten(Tensor.gradients(of: kl, withRespectTo: parameters, createGraph: true))
        return { vector in
            let product = flatten(Tensor.gradients(of: (klGradient * Tensor(vector)).sum(), withRespectTo: parameters)).scalars
            return zip(product, vector).map { $0 + damping * $1 }
        }
    }

    /// The natural-gradient step on the surrogate, scaled to the KL boundary and shortened by
    /// backtracking until the surrogate improves with `KL ≤ δ` (or undone if no halving does).
    func updatePolicy(_ rollout: Rollout, advantages: Tensor) -> [String: Double] {
        let parameters = policyParameters
        let observations = rollout.observations, actions = rollout.actions
        let oldLogProbabilities = Tensor(rollout.logProbabilities)
        let old = withoutGradients { network.distribution(observations).copied() }
        func surrogate() -> Tensor {
            ((network.distribution(observations).logProbability(actions) - oldLogProbabilities).exp() * advantages).mean()
        }
        func meanKL() -> Float { withoutGradients { old.klDivergence(to: network.distribution(observations)).mean().item } }

        let objective = surrogate()
        let gradient = flatten(Tensor.gradients(of: objective, withRespectTo: parameters)).scalars
        let fisher = fisherVectorProduct(observations: observations)
        let direction = conjugateGradient(fisher, gradient, iterations: config.conjugateGradientIterations)
        // ½ sᵀF s = δ for s = β·x gives β = √(2δ / xᵀF x).
        let curvature = dot(direction, fisher(direction))
        let stepLength = (2 * config.maximumKL / max(curvature, 1e-12)).squareRoot()
        let start = withoutGradients { flatten(parameters).scalars }
        let oldObjective = objective.item

        var fraction: Float = 1, accepted = false, kl: Float = 0, improvement: Float = 0
        for _ in 0..<config.lineSearchSteps {
            assignFlat(zip(start, direction).map { $0 + fraction * stepLength * $1 }, to: parameters)
            kl = meanKL()
            improvement = withoutGradients { surrogate().item } - oldObjective
            if improvement > 0 && kl <= config.maximumKL { accepted = true; break }
            fraction /= 2
        }
        if !accepted {
            assignFlat(start, to: parameters)
            (kl, improvement, fraction) = (0, 0, 0)
        }
        return ["kl": Double(kl), "surrogate_improvement": Double(improvement), "step_fraction": Double(fraction),
                "entropy": Double(withoutGradients { network.distribution(observations).entropy.mean().item })]
    }

    /// `epochs` passes of minibatch Adam on `½(V(s) − R)²`. Returns the mean loss.
    func updateValue(_ rollout: Rollout, returns: Tensor) -> Double {
        let batch = config.batchSize, minibatchSize = batch / config.minibatches
        var total = 0.0, count = 0.0
        for _ in 0..<config.epochs {
            let order = generator.permutation(batch)
            for start in stride(from: 0, to: batch, by: minibatchSize) {
                let indices = Tensor(order[start..<(start + minibatchSize)].map { Float($0) })
                let error = network.value(rollout.observations.indexSelect(alongAxis: 0, indices: indices))
                    - returns.indexSelect(alongAxis: 0, indices: indices)
                let loss = (error * error).mean() * 0.5
                valueOptimizer.zeroGradients()
                loss.backward()
                valueOptimizer.step()
                total += Double(loss.item)
                count += 1
            }
        }
        return total / count
    }

    public func act(_ observation: [Float]) -> Action { network.greedyAction(observation) }
}

/// Solves `A x = b` for a symmetric positive definite A given only as `v ↦ A v`, by `iterations`
/// steps of conjugate gradient from x = 0 (Hestenes & Stiefel, 1952; Nocedal & Wright, alg. 5.2).
func conjugateGradient(_ product: ([Float]) -> [Float], _ b: [Float], iterations: Int,
                       tolerance: Float = 1e-10) -> [Float] {
    var x = [Float](repeating: 0, count: b.count), residual = b, direction = b
    var residualNorm = dot(residual, residual)
    for _ in 0..<iterations where residualNorm > tolerance {
        let productDirection = product(direction)
        let alpha = residualNorm / dot(direction, productDirection)
        for i in x.indices {
            x[i] += alpha * direction[i]
            residual[i] -= alpha * productDirection[i]
        }
        let newNorm = dot(residual, residual)
        let beta = newNorm / residualNorm
        for i in direction.indices { direction[i] = residual[i] + beta * direction[i] }
        residualNorm = newNorm
    }
    return x
}

func dot(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

/// The tensors laid end to end as one `[n]` vector (differentiable).
func flatten(_ tensors: [Tensor]) -> Tensor { Tensor.concatenate(tensors.map { $0.reshape([-1]) }, alongAxis: 0) }

/// Overwrites `parameters` with consecutive slices of `values` (the inverse of ``flatten``).
func assignFlat(_ values: [Float], to parameters: [Tensor]) {
    var offset = 0
    for parameter in parameters {
        parameter.assign(Tensor(shape: parameter.shape, scalars: Array(values[offset..<(offset + parameter.count)])))
        offset += parameter.count
    }
}

extension PolicyDistribution {
    /// The same distribution on copied values, so later parameter changes cannot reach it: π_old.
    func copied() -> PolicyDistribution {
        switch self {
        case .categorical(let logits): return .categorical(logits: logits.copy())
        case .gaussian(let mean, let logStandardDeviation):
            return .gaussian(mean: mean.copy(), logStandardDeviation: logStandardDeviation.copy())
        }
    }
}
