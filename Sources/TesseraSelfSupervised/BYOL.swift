import TesseraNN
import TesseraTensor

/// BYOL (Grill et al., "Bootstrap Your Own Latent: A New Approach to Self-Supervised Learning",
/// NeurIPS 2020): an online network — encoder `f_θ`, projector `g_θ`, predictor `q_θ` — predicts
/// a target network's projection `z'_ξ = g_ξ(f_ξ(v'))` of the other view; the target is an
/// exponential moving average of the online encoder and projector, `ξ ← τξ + (1 − τ)θ`, with τ
/// rising from 0.996 to 1 on a cosine (``BYOLLoss/targetDecay(step:totalSteps:base:)``), and gets
/// no gradient. The loss is the normalised MSE of eq. 2, symmetrised over the two views (eq. 4).
///
/// No negatives keep the representation from collapsing to a constant; the paper (Sect. 3.1 and
/// Table 5) finds that the predictor does, together with the slow target: remove it
/// (``Configuration/usesPredictor`` false) and the online projection can simply copy the target,
/// so the two agree on a constant.
///
/// A trainer's step: ``loss(views:)``, backward, (average gradients), `optimizer.step()` over
/// ``onlineParameters()``, then ``updateTarget(step:totalSteps:)``. The target's weights are in
/// `stateDictionary()` (under `targetEncoder.` and `targetProjector.`), so a checkpoint of the
/// module holds them; the schedule needs only the step.
public final class BYOL: Module {
    /// The fixed settings of a BYOL model.
    public struct Configuration: Sendable {
        /// The size of the encoder's output (the projector's input).
        public var representationSize: Int
        /// The hidden width of projector and predictor (4096 in the paper).
        public var hiddenSize: Int
        /// The size of projections and predictions (256 in the paper).
        public var projectionSize: Int
        /// τ_base, the target decay at step 0 (0.996 in the paper).
        public var baseTargetDecay: Float
        /// Whether the online network has a predictor; `false` is the collapsing ablation.
        public var usesPredictor: Bool

        public init(representationSize: Int, hiddenSize: Int = 4096, projectionSize: Int = 256,
                    baseTargetDecay: Float = 0.996, usesPredictor: Bool = true) {
            self.representationSize = representationSize
            self.hiddenSize = hiddenSize
            self.projectionSize = projectionSize
            self.baseTargetDecay = baseTargetDecay
            self.usesPredictor = usesPredictor
        }
    }

    public typealias Output = TwoViewOutput

    public let configuration: Configuration
    public let onlineEncoder: any Layer
    public let onlineProjector: ProjectionHead
    /// `q_θ`, a head of the same layout as the projector; `nil` without a predictor.
    public let predictor: ProjectionHead?
    /// `f_ξ`: built like the online encoder and starting from its weights; frozen.
    public let targetEncoder: any Layer
    /// `g_ξ`, likewise.
    public let targetProjector: ProjectionHead

    /// - Parameters:
    ///   - makeEncoder: builds the encoder; called twice, for the online network and for the
    ///     target, which then takes a copy of the online weights. The notes say only that the
    ///     teacher starts random; the copy is that random start, shared with the online network
    ///     as DINO's Algorithm 1 does (`gt.params = gs.params`). A factory, not an instance,
    ///     because a `Layer` cannot be deep-copied in general.
    ///   - configuration: the head sizes, the base target decay and whether a predictor is used.
    ///   - generator: draws the projector's and predictor's initial weights (the encoders draw
    ///     from the factory's own generator).
    /// - Throws: for a `baseTargetDecay` outside [0, 1], or when the two encoders the factory
    ///   builds do not have the same parameters.
    public init(makeEncoder: () -> any Layer, configuration: Configuration, generator: inout RandomGenerator) throws {
        guard (0...1).contains(configuration.baseTargetDecay) else {
            throw SelfSupervisedError("BYOL: baseTargetDecay must be in [0, 1], got \(configuration.baseTargetDecay)")
        }
        self.configuration = configuration
        onlineEncoder = makeEncoder()
        onlineProjector = ProjectionHead(inputSize: configuration.representationSize, hiddenSize: configuration.hiddenSize,
                                         outputSize: configuration.projectionSize, generator: &generator)
        predictor = configuration.usesPredictor
            ? ProjectionHead(inputSize: configuration.projectionSize, hiddenSize: configuration.hiddenSize,
                             outputSize: configuration.projectionSize, generator: &generator)
            : nil
        targetEncoder = makeEncoder()
        targetProjector = ProjectionHead(inputSize: configuration.representationSize, hiddenSize: configuration.hiddenSize,
                                         outputSize: configuration.projectionSize, generator: &generator)
        do {
            // `loadStateDictionary` copies values: the target shares no storage with the online network.
            try targetEncoder.loadStateDictionary(onlineEncoder.stateDictionary())
            try targetProjector.loadStateDictionary(onlineProjector.stateDictionary())
        } catch {
            throw SelfSupervisedError("BYOL: the target encoder makeEncoder built does not match the online one: \(error)")
        }
        targetEncoder.freeze()
        targetProjector.freeze()
    }

    /// What the optimizer updates: the online encoder, projector and predictor, named as in
    /// `stateDictionary()`.
    public func onlineParameters() -> [(name: String, parameter: Tensor)] {
        namedParameters().filter { !$0.name.hasPrefix("target") }
    }

    /// The online encoder's representation: what downstream tasks use.
    public func representation(_ input: Tensor) -> Tensor {
        onlineEncoder(input)
    }

    /// The symmetrised loss of two views (`[N, …]` each, row i of both from sample i): each view's
    /// online prediction regresses the target projection of the other view. The target runs
    /// without recording gradients (the stop-gradient).
    public func loss(views: (Tensor, Tensor)) -> Output {
        let count = views.0.shape[0]
        precondition(views.1.shape == views.0.shape, "BYOL: the two views have shapes \(views.0.shape) and \(views.1.shape)")
        let both = Tensor.concatenate([views.0, views.1], alongAxis: 0)
        let representations = onlineEncoder(both)
        let projections = onlineProjector(representations)
        let predictions = predictor.map { $0(projections) } ?? projections
        let targets = withoutGradients { targetProjector(targetEncoder(both)) }
        func halves(_ rows: Tensor) -> (Tensor, Tensor) {
            (rows.slice(alongAxis: 0, start: 0, end: count), rows.slice(alongAxis: 0, start: count, end: 2 * count))
        }
        let loss = BYOLLoss.symmetric(predictions: halves(predictions), targets: halves(targets))
        return Output(loss: loss, representations: representations, projections: projections)
    }

    /// Moves the target toward the online encoder and projector with τ at `step` of `totalSteps`
    /// (after the optimizer's step, as in the paper's Algorithm 1); returns τ.
    @discardableResult
    public func updateTarget(step: Int, totalSteps: Int) throws -> Float {
        let decay = BYOLLoss.targetDecay(step: step, totalSteps: totalSteps, base: configuration.baseTargetDecay)
        try updateExponentialMovingAverage(target: targetEncoder, online: onlineEncoder, decay: decay)
        try updateExponentialMovingAverage(target: targetProjector, online: onlineProjector, decay: decay)
        return decay
    }

    /// One training step on one process: loss, backward, `optimizer.step()` (an optimizer over
    /// ``onlineParameters()``), target update.
    @discardableResult
    public func step(views: (Tensor, Tensor), optimizer: any Optimizer, step: Int, totalSteps: Int) throws -> Output {
        let output = loss(views: views)
        optimizer.zeroGradients()
        output.loss.backward()
        optimizer.step()
        try updateTarget(step: step, totalSteps: totalSteps)
        return output
    }
}
