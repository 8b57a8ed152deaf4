import Foundation
import TesseraTensor

/// Adam (Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015) with PyTorch's
/// update, including its bias corrections and placement of ε:
///
/// ```
/// g = g + weightDecay·θ                       (Adam: L2 penalty in the gradient)
/// θ = θ·(1 − learningRate·weightDecay)        (AdamW: decoupled decay instead)
/// m = β₁m + (1 − β₁)g,   v = β₂v + (1 − β₂)g²
/// θ = θ − (learningRate / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
/// ```
///
/// `decoupledWeightDecay: true` is AdamW (Loshchilov & Hutter, "Decoupled Weight Decay
/// Regularization", ICLR 2019); ``AdamW(parameters:learningRate:beta1:beta2:epsilon:weightDecay:)`` builds it with PyTorch's default decay of 0.01.
public final class Adam: Optimizer {
    public let parameters: [(name: String, parameter: Tensor)]
    public var learningRate: Float
    public var state: [String: [String: Tensor]] = [:]
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    public let weightDecay: Float
    /// Decay the weights directly (AdamW) rather than adding an L2 term to the gradient.
    public let decoupledWeightDecay: Bool

    public init(parameters: [(name: String, parameter: Tensor)], learningRate: Float = 1e-3,
                beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0, decoupledWeightDecay: Bool = false) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
    }

    public let slotNames = ["exponentialAverage", "exponentialAverageOfSquares"]

    public func update(parameter: Tensor, gradient: Tensor, state: [String: Tensor], name: String) {
        let (theta, g, count) = pointers(parameter, gradient)
        let m = state["exponentialAverage"]!.storage.pointer
        let v = state["exponentialAverageOfSquares"]!.storage.pointer
        let t = stepCount(state)
        let (beta1, beta2, epsilon) = (self.beta1, self.beta2, self.epsilon)
        let stepSize = learningRate / (1 - Foundation.pow(beta1, t))
        let inverseCorrection2 = 1 / (1 - Foundation.pow(beta2, t)).squareRoot()
        let l2 = decoupledWeightDecay ? 0 : weightDecay
        let shrink = decoupledWeightDecay ? 1 - learningRate * weightDecay : 1
        forEachGroupOfFour(count) { i, width in
            let t = load(theta, i, width)
            let gradient = load(g, i, width) + l2 * t
            let mean = beta1 * load(m, i, width) + (1 - beta1) * gradient
            let square = beta2 * load(v, i, width) + (1 - beta2) * gradient * gradient
            store(mean, m, i, width)
            store(square, v, i, width)
            store(t * shrink - stepSize * mean / (squareRoot(square) * inverseCorrection2 + epsilon), theta, i, width)
        }
    }
}

/// Adam with decoupled weight decay (Loshchilov & Hutter, ICLR 2019), PyTorch's defaults.
public func AdamW(parameters: [(name: String, parameter: Tensor)], learningRate: Float = 1e-3,
                  beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0.01) -> Adam {
    Adam(parameters: parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
         weightDecay: weightDecay, decoupledWeightDecay: true)
}
