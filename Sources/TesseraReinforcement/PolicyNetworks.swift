import Foundation
import TesseraNN
import TesseraTensor

/// An MLP with orthogonal weights and zero biases, the initialisation of PPO's reference
/// implementations (Engstrom et al., "Implementation Matters in Deep RL", ICLR 2020): gain √2
/// for hidden layers, `outputGain` for the last (0.01 for a policy head so the first policy is
/// near uniform, 1 for a value head).
public func orthogonalMLP(sizes: [Int], outputGain: Float, generator: inout RandomGenerator) -> MLP {
    let network = MLP(sizes: sizes, activation: .tanh, generator: &generator)
    for (index, layer) in network.layers.enumerated() {
        let gain = index == network.layers.count - 1 ? outputGain : Float(2).squareRoot()
        layer.weight.assign(Initialization.orthogonal(layer.weight.shape, gain: gain, generator: &generator))
        layer.bias?.assign(Tensor.zeros(layer.bias!.shape))
    }
    return network
}

/// A stochastic policy over an environment's action space with a separate value network
/// (no shared trunk, as CleanRL's PPO): categorical over logits for discrete actions, a
/// diagonal Gaussian with a state-independent learned log standard deviation for continuous
/// ones (Schulman et al., 2017).
public final class ActorCritic: Module {
    public let actor: MLP
    public let critic: MLP
    /// `[1, action dimension]` log σ of the Gaussian policy; `nil` for discrete actions.
    public let logStandardDeviation: Tensor?
    public let observationSize: Int
    public let actionSpace: Space

    /// - Parameters:
    ///   - observationSpace: what the environment observes; its `dimension` is both networks'
    ///     input size.
    ///   - actionSpace: `.discrete(n)` gives a categorical policy over `n` logits, `.box` a
    ///     Gaussian with one mean per dimension.
    ///   - hiddenSizes: widths of the hidden layers of both networks (tanh between them).
    ///   - initialLogStandardDeviation: the Gaussian's starting log σ.
    ///   - generator: draws the orthogonal initial weights (gain 0.01 on the actor's last layer,
    ///     so the first logits or means start near 0: a near-uniform first policy).
    public init(observationSpace: Space, actionSpace: Space, hiddenSizes: [Int] = [64, 64],
                initialLogStandardDeviation: Float = 0, generator: inout RandomGenerator) {
        observationSize = observationSpace.dimension
        self.actionSpace = actionSpace
        let outputs = actionSpace.count ?? actionSpace.dimension
        actor = orthogonalMLP(sizes: [observationSize] + hiddenSizes + [outputs], outputGain: 0.01, generator: &generator)
        critic = orthogonalMLP(sizes: [observationSize] + hiddenSizes + [1], outputGain: 1, generator: &generator)
        logStandardDeviation = actionSpace.count == nil ? Tensor.full([1, outputs], initialLogStandardDeviation) : nil
    }

    /// `V(s)` for a `[batch, observation]` tensor, as `[batch]`.
    public func value(_ observations: Tensor) -> Tensor {
        checkInput(observations)
        return critic(observations).reshape([-1])
    }

    /// The action distribution for a `[batch, observation]` tensor.
    public func distribution(_ observations: Tensor) -> PolicyDistribution {
        checkInput(observations)
        let output = actor(observations)
        if let logStandardDeviation {
            return .gaussian(mean: output, logStandardDeviation: logStandardDeviation.expand(to: output.shape))
        }
        return .categorical(logits: output)
    }

    /// The actor's parameters (and log σ): what a policy-gradient step changes.
    public var actorParameters: [(name: String, parameter: Tensor)] {
        namedParameters().filter { !$0.name.hasPrefix("critic.") }
    }

    /// The critic's parameters.
    public var criticParameters: [(name: String, parameter: Tensor)] {
        namedParameters().filter { $0.name.hasPrefix("critic.") }
    }

    private func checkInput(_ observations: Tensor) {
        guard observations.rank == 2 && observations.shape[1] == observationSize else {
            fatalError("Tessera ActorCritic: observations of shape \(observations.shape) do not fit a network built for \(observationSize) observation values")
        }
    }
}

/// A batch of action distributions: one categorical or diagonal Gaussian per row.
public enum PolicyDistribution {
    /// `[batch, actions]` unnormalised log-probabilities.
    case categorical(logits: Tensor)
    /// `[batch, dimension]` means and log standard deviations.
    case gaussian(mean: Tensor, logStandardDeviation: Tensor)

    /// One sampled action per row.
    public func sample(generator: inout RandomGenerator) -> [Action] {
        withoutGradients {
            switch self {
            case .categorical(let logits):
                let indices = Tensor.categorical(probabilities: logits.softmax(alongAxis: -1), generator: &generator)
                return indices.scalars.map { .discrete(Int($0)) }
            case .gaussian(let mean, let logStandardDeviation):
                let noise = Tensor.randomNormal(mean.shape, generator: &generator)
                let values = (mean + logStandardDeviation.exp() * noise).scalars
                let width = mean.shape[1]
                return stride(from: 0, to: values.count, by: width).map { .continuous(Array(values[$0..<($0 + width)])) }
            }
        }
    }

    /// The most likely action per row (argmax, or the mean): used for evaluation.
    public var mode: [Action] {
        withoutGradients {
            switch self {
            case .categorical(let logits):
                return logits.argmax(alongAxis: -1).scalars.map { .discrete(Int($0)) }
            case .gaussian(let mean, _):
                let values = mean.scalars, width = mean.shape[1]
                return stride(from: 0, to: values.count, by: width).map { .continuous(Array(values[$0..<($0 + width)])) }
            }
        }
    }

    /// `log π(a|s)` per row, `[batch]`, differentiable in the distribution's parameters.
    public func logProbability(_ actions: Tensor) -> Tensor {
        switch self {
        case .categorical(let logits):
            return logits.logSoftmax(alongAxis: -1).gather(alongAxis: 1, indices: actions.reshape([-1, 1])).reshape([-1])
        case .gaussian(let mean, let logStandardDeviation):
            let z = (actions - mean) / logStandardDeviation.exp()
            let perDimension = z * z * -0.5 - logStandardDeviation - Float(0.5 * log(2 * Double.pi))
            return perDimension.sum(alongAxes: [1])
        }
    }

    /// Entropy per row, `[batch]`.
    public var entropy: Tensor {
        switch self {
        case .categorical(let logits):
            let logProbabilities = logits.logSoftmax(alongAxis: -1)
            return -(logProbabilities.exp() * logProbabilities).sum(alongAxes: [1])
        case .gaussian(_, let logStandardDeviation):
            return (logStandardDeviation + Float(0.5 + 0.5 * log(2 * Double.pi))).sum(alongAxes: [1])
        }
    }

    /// KL(self ‖ other) per row, `[batch]` (TRPO's constraint).
    public func klDivergence(to other: PolicyDistribution) -> Tensor {
        switch (self, other) {
        case (.categorical(let p), .categorical(let q)):
            return TesseraNN.klDivergence(logitsP: p, logitsQ: q, reduction: .none)
        case (.gaussian(let mean, let logStd), .gaussian(let otherMean, let otherLogStd)):
            return gaussianKLDivergence(mean: mean, logVariance: logStd * 2, otherMean: otherMean,
                                        otherLogVariance: otherLogStd * 2, reduction: .none)
        default:
            fatalError("Tessera PolicyDistribution: KL between a categorical and a Gaussian policy")
        }
    }
}

/// Actions as a tensor: `[batch]` indices or `[batch, dimension]` vectors.
public func actionTensor(_ actions: [Action]) -> Tensor {
    switch actions.first {
    case .continuous(let first)?:
        return Tensor(shape: [actions.count, first.count], scalars: actions.flatMap { action -> [Float] in
            if case .continuous(let values) = action { return values }
            return []
        })
    default:
        return Tensor(shape: [actions.count], scalars: actions.map { action -> Float in
            if case .discrete(let index) = action { return Float(index) }
            return 0
        })
    }
}
