import TesseraNN
import TesseraTensor

/// SimCLR (Chen et al., "A Simple Framework for Contrastive Learning of Visual Representations",
/// ICML 2020): an encoder `f` maps each of two augmented views of a sample to a representation
/// `h = f(x)`, a projection head `g` maps it to `z = g(h)`, and NT-Xent (``NTXentLoss``) pulls the
/// two views' projections together against the other 2N − 2 projections of the batch.
///
/// The head is thrown away after training: the paper's Sect. 4.2 finds `h`, before the head, a
/// better representation than `z` (the head learns to discard what the augmentations change), so
/// ``representation(_:)`` is what a probe or fine-tuning uses.
///
/// ```swift
/// let simCLR = try SimCLR(encoder: MLP(sizes: [64, 128, 64], generator: &rng),
///                         configuration: .init(representationSize: 64), generator: &rng)
/// let optimizer = LARS(parameters: simCLR.namedParameters(), learningRate: 0.3)
/// let (viewA, viewB) = TwoViews(augment)(batch.inputs, generator: &rng)
/// let output = simCLR.step(views: (viewA, viewB), optimizer: optimizer)
/// ```
public final class SimCLR: Module {
    /// The fixed settings of a SimCLR model.
    public struct Configuration: Sendable {
        /// The size of the encoder's output `h` (the head's input).
        public var representationSize: Int
        /// The head's hidden width (the paper keeps it at the representation size, 2048 for ResNet-50).
        public var hiddenSize: Int
        /// The size of `z`, where the loss is taken (128 in the paper).
        public var projectionSize: Int
        /// NT-Xent's τ (0.5 in the paper's CIFAR-10 runs, 0.1 at large batches; Table 5).
        public var temperature: Float

        public init(representationSize: Int, hiddenSize: Int? = nil, projectionSize: Int = 128, temperature: Float = 0.5) {
            self.representationSize = representationSize
            self.hiddenSize = hiddenSize ?? representationSize
            self.projectionSize = projectionSize
            self.temperature = temperature
        }
    }

    public typealias Output = TwoViewOutput

    public let configuration: Configuration
    /// `f`: any layer from inputs to `[N, representationSize]`.
    public let encoder: any Layer
    /// `g`: Linear → BatchNorm → ReLU → Linear.
    public let projector: ProjectionHead
    public let criterion: NTXentLoss

    /// Throws for a temperature that is not positive.
    public init(encoder: any Layer, configuration: Configuration, generator: inout RandomGenerator) throws {
        self.configuration = configuration
        self.encoder = encoder
        projector = ProjectionHead(inputSize: configuration.representationSize, hiddenSize: configuration.hiddenSize,
                                   outputSize: configuration.projectionSize, generator: &generator)
        criterion = try NTXentLoss(temperature: configuration.temperature)
    }

    /// `h = f(x)`: the representation downstream tasks use.
    public func representation(_ input: Tensor) -> Tensor {
        encoder(input)
    }

    /// NT-Xent of the projections of two views (`[N, …]` each, row i of both from sample i). Both
    /// views go through the encoder in one batch, so batch norm normalises over all 2N, as in the
    /// paper's global batch norm (Sect. 2.2, "Global BN").
    public func loss(views: (Tensor, Tensor)) -> Output {
        let count = views.0.shape[0]
        precondition(views.1.shape == views.0.shape, "SimCLR: the two views have shapes \(views.0.shape) and \(views.1.shape)")
        let representations = encoder(Tensor.concatenate([views.0, views.1], alongAxis: 0))
        let projections = projector(representations)
        let loss = criterion(projections.slice(alongAxis: 0, start: 0, end: count),
                             projections.slice(alongAxis: 0, start: count, end: 2 * count))
        return Output(loss: loss, representations: representations, projections: projections)
    }

    /// One training step on one process: loss, backward, `optimizer.step()`. With several
    /// processes, call ``loss(views:)``, backward, average the gradients, then step.
    @discardableResult
    public func step(views: (Tensor, Tensor), optimizer: any Optimizer) -> Output {
        let output = loss(views: views)
        optimizer.zeroGradients()
        output.loss.backward()
        optimizer.step()
        return output
    }
}

/// The two-layer head of SimCLR and BYOL: `Linear → BatchNorm → ReLU → Linear`.
///
/// SimCLR's Sect. 2.1 writes the head as `W⁽²⁾ σ(W⁽¹⁾ h)` and leaves where batch norm goes
/// unsaid, as do the notes; we follow BYOL's Sect. 3.3, which spells out this layout for both its
/// projector and predictor (a linear layer, batch normalization, ReLU, a final linear layer), so
/// the two methods share one head. The last layer has no batch norm.
public final class ProjectionHead: Layer {
    public let hidden: Linear
    public let normalization: BatchNorm
    public let output: Linear

    public init(inputSize: Int, hiddenSize: Int, outputSize: Int, generator: inout RandomGenerator) {
        hidden = Linear(inputSize, hiddenSize, generator: &generator)
        normalization = BatchNorm(featureCount: hiddenSize)
        output = Linear(hiddenSize, outputSize, generator: &generator)
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        output(normalization(hidden(input)).relu())
    }
}
