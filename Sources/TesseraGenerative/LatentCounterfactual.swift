import TesseraTensor

/// Counterfactuals by gradient ascent on a classifier's target-class log-probability with an L2 pull
/// back to the starting point (Wachter, Mittelstadt & Russell, "Counterfactual Explanations without
/// Opening the Black Box", 2017):
///
///     maximise  log softmax(c(z))_target − λ ‖z − z₀‖²
///
/// The search runs wherever `classifier` reads its input. Given a classifier on a generative
/// model's latents, it moves the latent and the caller decodes it (`vae.decode`, a flow's inverse),
/// which keeps the result near the data manifold (Joshi, Koyejo, Vijitbenjaronk, Kim & Ghosh,
/// "Towards Realistic Individual Recourse and Actionable Explanations in Black-Box Decision Making
/// Systems", 2019); given a classifier on pixels, it is the pixel-space attack that leaves the manifold.
public struct CounterfactualConfig: Equatable, Sendable {
    /// Gradient ascent step size.
    public var stepSize: Float = 0.1
    /// Steps at most; the search stops earlier once every row reaches `targetProbability`.
    public var maximumSteps: Int = 500
    /// The target-class probability that ends the search.
    public var targetProbability: Float = 0.9
    /// λ, the weight of the squared distance to the start.
    public var distanceWeight: Float = 0

    public init() {}
}

/// What ``counterfactual(from:targetClasses:classifier:config:)`` found.
public struct Counterfactual {
    /// The moved points, the shape of the start.
    public let points: Tensor
    /// The classifier's probability of each row's target class at `points`.
    public let targetProbabilities: [Float]
    /// Gradient steps taken.
    public let steps: Int
    /// Whether every row reached the target probability.
    public let reachedTarget: Bool
}

/// Moves every row of `start` `[count, …]` toward its entry of `targetClasses` under `classifier`
/// (which maps a batch to logits `[count, classes]`).
public func counterfactual(from start: Tensor, targetClasses: [Int], classifier: (Tensor) throws -> Tensor,
                           config: CounterfactualConfig = CounterfactualConfig()) throws -> Counterfactual {
    guard start.rank >= 2, start.shape[0] > 0 else {
        throw GenerativeError("counterfactual: expected start points [count, …], got shape \(start.shape)")
    }
    guard targetClasses.count == start.shape[0] else {
        throw GenerativeError("counterfactual: expected \(start.shape[0]) target classes (one per row), got \(targetClasses.count)")
    }
    guard config.stepSize > 0, config.stepSize.isFinite else {
        throw GenerativeError("counterfactual: stepSize must be positive and finite, got \(config.stepSize)")
    }
    guard config.maximumSteps > 0 else { throw GenerativeError("counterfactual: maximumSteps must be positive, got \(config.maximumSteps)") }
    guard config.targetProbability > 0, config.targetProbability < 1 else {
        throw GenerativeError("counterfactual: targetProbability must lie in (0, 1), got \(config.targetProbability)")
    }
    guard config.distanceWeight >= 0 else { throw GenerativeError("counterfactual: distanceWeight must be non-negative, got \(config.distanceWeight)") }
    let origin = start.detached().copy()
    var point = origin.copy()
    var steps = 0
    func probabilities(_ logits: Tensor) throws -> [Float] {
        guard logits.rank == 2, logits.shape[0] == start.shape[0] else {
            throw GenerativeError("counterfactual: the classifier must return logits [\(start.shape[0]), classes], got shape \(logits.shape)")
        }
        if let bad = targetClasses.first(where: { $0 < 0 || $0 >= logits.shape[1] }) {
            throw GenerativeError("counterfactual: target class \(bad) is out of range 0..<\(logits.shape[1])")
        }
        let p = withoutGradients { logits.softmax(alongAxis: 1) }
        return targetClasses.enumerated().map { p[element: $0.offset, $0.element] }
    }
    var current = try probabilities(withoutGradients { try classifier(point) })
    let oneHot = Tensor(targetClasses.map(Float.init))
    while steps < config.maximumSteps, current.contains(where: { $0 < config.targetProbability }) {
        let x = point.requiringGradient()
        let logits = try withGradientMode(true) { try classifier(x) }
        let targets = oneHot.oneHot(classes: logits.shape[1])
        let objective = (logits.logSoftmax(alongAxis: 1) * targets).sum()
            - config.distanceWeight * ((x - origin) * (x - origin)).sum()
        let gradient = Tensor.gradients(of: objective, withRespectTo: [x])[0]
        point = withoutGradients { x.detached() + gradient * config.stepSize }
        steps += 1
        current = try probabilities(withoutGradients { try classifier(point) })
    }
    return Counterfactual(points: point, targetProbabilities: current, steps: steps,
                          reachedTarget: current.allSatisfy { $0 >= config.targetProbability })
}
