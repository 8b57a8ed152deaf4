import TesseraTensor

/// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2
/// weight decay, with PyTorch's exact update:
///
/// ```
/// d = g + weightDecay·θ
/// b = d                                   (first step)
/// b = momentum·b + (1 − dampening)·d      (later steps)
/// d = d + momentum·b  (Nesterov)  or  d = b
/// θ = θ − learningRate·d
/// ```
///
/// Nesterov momentum as reformulated by Sutskever et al., "On the importance of initialization
/// and momentum in deep learning", ICML 2013.
public final class SGD: Optimizer {
    public let parameters: [(name: String, parameter: Tensor)]
    public var learningRate: Float
    public var state: [String: [String: Tensor]] = [:]
    public let momentum: Float
    public let dampening: Float
    public let nesterov: Bool
    public let weightDecay: Float

    public init(parameters: [(name: String, parameter: Tensor)], learningRate: Float, momentum: Float = 0,
                dampening: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
        precondition(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov momentum needs momentum > 0 and no dampening")
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }

    public var slotNames: [String] { momentum == 0 ? [] : ["momentumBuffer"] }

    public func update(parameter: Tensor, gradient: Tensor, state: [String: Tensor], name: String) {
        let (theta, g, count) = pointers(parameter, gradient)
        let (learningRate, weightDecay, momentum) = (self.learningRate, self.weightDecay, self.momentum)
        guard momentum != 0 else {
            forEachGroupOfFour(count) { i, width in
                let t = load(theta, i, width)
                store(t - learningRate * (load(g, i, width) + weightDecay * t), theta, i, width)
            }
            return
        }
        let buffer = state["momentumBuffer"]!.storage.pointer
        // The first step starts the buffer at d; later steps keep `momentum` of it and add d.
        let first = stepCount(state) == 1
        let (keepBuffer, keepGradient): (Float, Float) = first ? (0, 1) : (momentum, 1 - dampening)
        let lookAhead: Float = nesterov ? momentum : 0
        let fromBuffer: Float = nesterov ? 0 : 1
        let fromGradient: Float = nesterov ? 1 : 0
        forEachGroupOfFour(count) { i, width in
            let t = load(theta, i, width)
            let d = load(g, i, width) + weightDecay * t
            let b = keepBuffer * load(buffer, i, width) + keepGradient * d
            store(b, buffer, i, width)
            // Nesterov: d + momentum·b; plain: b.
            store(t - learningRate * (fromGradient * d + (lookAhead + fromBuffer) * b), theta, i, width)
        }
    }
}
