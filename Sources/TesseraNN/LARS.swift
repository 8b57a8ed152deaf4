import Foundation
import TesseraTensor

/// Layer-wise adaptive rate scaling (You et al., "Large Batch Training of Convolutional
/// Networks", 2017), in the form SimCLR and BYOL train with at batch sizes of 4096:
///
/// ```
/// d = g + weightDecay·θ
/// d = d · trustCoefficient·‖θ‖/‖d‖     (when both norms are positive)
/// b = momentum·b + d
/// θ = θ − learningRate·b               (Nesterov: θ − learningRate·(momentum·b + d))
/// ```
///
/// Parameters for which `isExcluded(name)` holds — biases and normalization parameters by
/// default — get neither weight decay nor the trust ratio, as in both papers.
public final class LARS: Optimizer {
    public let parameters: [(name: String, parameter: Tensor)]
    public var learningRate: Float
    public var state: [String: [String: Tensor]] = [:]
    public let momentum: Float
    public let weightDecay: Float
    /// η: the fraction of the weight norm one step may move (0.001 in both papers).
    public let trustCoefficient: Float
    public let nesterov: Bool
    /// Which parameters skip weight decay and adaptation, by dotted name.
    public let isExcluded: (String) -> Bool

    /// Biases, and parameters of any module whose name mentions "norm" (`batchNorm`, `norm1`,
    /// `layerNorm`): the rank-1 parameters SimCLR and BYOL exclude. Name your normalization
    /// layers accordingly, or pass your own predicate.
    public static let biasesAndNormalization: (String) -> Bool = { name in
        let components = name.split(separator: ".")
        return components.last == "bias" || components.dropLast().contains { $0.lowercased().contains("norm") }
    }

    public init(parameters: [(name: String, parameter: Tensor)], learningRate: Float, momentum: Float = 0.9,
                weightDecay: Float = 0, trustCoefficient: Float = 0.001, nesterov: Bool = false,
                isExcluded: @escaping (String) -> Bool = LARS.biasesAndNormalization) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.trustCoefficient = trustCoefficient
        self.nesterov = nesterov
        self.isExcluded = isExcluded
    }

    public let slotNames = ["momentumBuffer"]

    public func update(parameter: Tensor, gradient: Tensor, state: [String: Tensor], name: String) {
        let (theta, g, count) = pointers(parameter, gradient)
        let buffer = state["momentumBuffer"]!.storage.pointer
        let excluded = isExcluded(name)
        let decay = excluded ? 0 : weightDecay
        var scale: Float = 1
        if !excluded {
            // Norms of θ and of the decayed gradient, accumulated in Double.
            var weightSquares = 0.0, updateSquares = 0.0
            for i in 0..<count {
                let d = Double(g[i] + decay * theta[i])
                weightSquares += Double(theta[i]) * Double(theta[i])
                updateSquares += d * d
            }
            if weightSquares > 0 && updateSquares > 0 {
                scale = trustCoefficient * Float((weightSquares / updateSquares).squareRoot())
            }
        }
        let (momentum, learningRate, nesterov) = (self.momentum, self.learningRate, self.nesterov)
        let (lookAhead, fromGradient): (Float, Float) = nesterov ? (momentum, 1) : (1, 0)
        forEachGroupOfFour(count) { i, width in
            let t = load(theta, i, width)
            let d = (load(g, i, width) + decay * t) * scale
            let b = momentum * load(buffer, i, width) + d
            store(b, buffer, i, width)
            store(t - learningRate * (lookAhead * b + fromGradient * d), theta, i, width)
        }
    }
}
