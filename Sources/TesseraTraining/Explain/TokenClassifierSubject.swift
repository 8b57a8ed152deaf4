import TesseraData
import TesseraExplain
import TesseraNN
import TesseraPicture
import TesseraTensor
import TesseraTransformers

/// The sequence classifier of the majority-token task, explained token by token: LRP by the
/// transformer rules (Ali et al. 2022) sums each token's embedding relevance over its features; the
/// gradient baselines differentiate with respect to the token embeddings — gradient × input and
/// integrated gradients summed over the features (their completeness holds in embedding space),
/// the plain gradient and SmoothGrad as the gradient's length per token (a sensitivity, unsigned).
public struct TokenClassifierSubject: FeatureExplainSubject {
    public let network: SequenceClassifier
    public let task: MajorityTokenTask
    public let examples: TensorDataset
    public var summary: String { "sequence classifier on majority-token" }
    public var model: any Layer { network }
    public var inputShape: [Int] { [task.sequenceLength] }
    public var classCount: Int { task.classCount }

    public init(model: SequenceClassifier, task: MajorityTokenTask, examples: TensorDataset) {
        model.eval()
        network = model
        self.task = task
        self.examples = examples
    }

    public func relevance(of inputs: Tensor, target: ExplanationTarget, method: ExplainMethod) throws -> Tensor {
        let embedded = withoutGradients { network.tokenEmbedding(inputs) }
        let rest = AfterTokenEmbedding(network: network)
        func perToken(_ values: Tensor) -> Tensor { withoutGradients { values.sum(alongAxes: [2]) } }
        func length(_ values: Tensor) -> Tensor { withoutGradients { (values * values).sum(alongAxes: [2]).sqrt() } }
        switch method {
        case .lrp(let composite):
            let explainer = try Explainer(model: network, composite: composite.composite(), inputShape: inputShape)
            return try explainer.explain(inputs, target: target).inputRelevance
        case .gradient:
            return length(try Attribution.gradient(of: rest, at: embedded, target: target))
        case .gradientTimesInput:
            return perToken(try Attribution.gradientTimesInput(of: rest, at: embedded, target: target))
        case .integratedGradients(let steps):
            return perToken(try Attribution.integratedGradients(of: rest, at: embedded, target: target, steps: steps))
        case .smoothGrad(let fraction, let samples):
            var generator = RandomGenerator(seed: 0x5300_7468)
            let scale = embedded.scalars.map(abs).max() ?? 1
            return length(try Attribution.smoothGrad(of: rest, at: embedded, target: target, noise: fraction * 2 * scale,
                                                     samples: samples, generator: &generator))
        case .random:
            var generator = RandomGenerator(seed: 0x7261_6e64)
            return PixelFlipping.randomOrdering(like: inputs, generator: &generator)
        }
    }

    /// Markers are named by their class (`m0`…), filler tokens `·`.
    public func tokenName(_ token: Int) -> String {
        token < task.markerCount ? "m\(token)" : "."
    }

    public func picture(input: Tensor, relevance: Tensor, title: String) -> RGBImage {
        TokenRelevanceStrip(title: title, tokens: input.scalars.map { tokenName(Int($0)) }, relevance: relevance.scalars).render()
    }

    /// A removed token becomes filler: a random filler token (noise) or the first one (zero).
    public func removedValues(for inputs: Tensor, removal: FeatureRemoval) -> Tensor? {
        var generator = RandomGenerator(seed: 0x666c_6970)
        return Tensor(shape: inputs.shape) { _ in
            Float(task.markerCount + (removal == .noise ? generator.nextInt(below: task.fillerCount) : 0))
        }
    }
}

/// The classifier from its token embeddings on: the model the gradient baselines differentiate.
final class AfterTokenEmbedding: Layer {
    let network: SequenceClassifier

    init(network: SequenceClassifier) {
        self.network = network
    }

    func callAsFunction(_ embedded: Tensor) -> Tensor { network.logits(embedded: embedded) }
}
