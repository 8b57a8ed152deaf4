import TesseraTensor

/// RMSprop (Tieleman & Hinton, Coursera lecture 6.5, 2012; the centered form from Graves,
/// "Generating Sequences With Recurrent Neural Networks", 2013), with PyTorch's update:
///
/// ```
/// g = g + weightDecay·θ
/// s = α·s + (1 − α)·g²
/// a = α·a + (1 − α)·g,  d = √(s − a²) + ε    (centered)   or   d = √s + ε
/// b = momentum·b + g/d,  θ = θ − learningRate·b   (momentum > 0)   or   θ = θ − learningRate·g/d
/// ```
public final class RMSprop: Optimizer {
    public let parameters: [(name: String, parameter: Tensor)]
    public var learningRate: Float
    public var state: [String: [String: Tensor]] = [:]
    /// Decay of the running average of squared gradients.
    public let alpha: Float
    public let epsilon: Float
    public let weightDecay: Float
    public let momentum: Float
    /// Divide by the gradient's estimated standard deviation instead of its root mean square.
    public let centered: Bool

    public init(parameters: [(name: String, parameter: Tensor)], learningRate: Float = 1e-2, alpha: Float = 0.99,
                epsilon: Float = 1e-8, weightDecay: Float = 0, momentum: Float = 0, centered: Bool = false) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.alpha = alpha
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.momentum = momentum
        self.centered = centered
    }

    public var slotNames: [String] {
        ["squareAverage"] + (centered ? ["gradientAverage"] : []) + (momentum > 0 ? ["momentumBuffer"] : [])
    }

    public func update(parameter: Tensor, gradient: Tensor, state: [String: Tensor], name: String) {
        let (theta, g, count) = pointers(parameter, gradient)
        let square = state["squareAverage"]!.storage.pointer
        let average = state["gradientAverage"]?.storage.pointer
        let buffer = state["momentumBuffer"]?.storage.pointer
        let (alpha, epsilon, weightDecay, momentum, learningRate) = (self.alpha, self.epsilon, self.weightDecay, self.momentum, self.learningRate)
        forEachGroupOfFour(count) { i, width in
            let t = load(theta, i, width)
            let d = load(g, i, width) + weightDecay * t
            let squares = alpha * load(square, i, width) + (1 - alpha) * d * d
            store(squares, square, i, width)
            var variance = squares
            if let average {
                let mean = alpha * load(average, i, width) + (1 - alpha) * d
                store(mean, average, i, width)
                variance -= mean * mean
            }
            let scaled = d / (squareRoot(variance) + epsilon)
            if let buffer {
                let b = momentum * load(buffer, i, width) + scaled
                store(b, buffer, i, width)
                store(t - learningRate * b, theta, i, width)
            } else {
                store(t - learningRate * scaled, theta, i, width)
            }
        }
    }
}
