import Foundation
import TesseraCheckpoint
import TesseraConfig
import TesseraData
import TesseraExplain
import TesseraNN
import TesseraPicture
import TesseraTensor

/// A trained model rebuilt from its checkpoint, with the held-out examples of its recipe: what
/// `tessera explain` explains. Each family that trains classifiers provides one.
public protocol ExplainSubject {
    /// What the model is, for messages and picture titles (`cnn on digits`).
    var summary: String { get }
    /// Explains one input as `request` says and writes the heatmap and the relevances.
    func explain(_ request: ExplainRequest) throws -> ExplainOutcome
    /// Pixel-flipping curves of `methods` on the first `examples` held-out inputs.
    func faithfulness(methods: [ExplainMethod], examples: Int, steps: Int, removal: FeatureRemoval) throws -> [FaithfulnessRow]
}

/// A classifier whose input is a tensor of features — pixels, a vector, tokens — each of which gets
/// a relevance: the MLP, the CNN, the ViT and the sequence classifier. Its extensions implement
/// ``ExplainSubject/explain(_:)`` and ``ExplainSubject/faithfulness(methods:examples:steps:removal:)``.
public protocol FeatureExplainSubject: ExplainSubject {
    /// The model on batches of inputs `[N] + inputShape`, returning logits `[N, classCount]`, in
    /// evaluation mode (no dropout, batch norms on their running statistics).
    var model: any Layer { get }
    var inputShape: [Int] { get }
    var classCount: Int { get }
    /// The recipe's held-out examples (inputs and class labels).
    var examples: TensorDataset { get }
    /// The relevance of every element of `inputs` for `target` by `method`, shaped like `inputs`.
    func relevance(of inputs: Tensor, target: ExplanationTarget, method: ExplainMethod) throws -> Tensor
    /// One input (`[1] + inputShape`) and its relevance drawn together.
    func picture(input: Tensor, relevance: Tensor, title: String) -> RGBImage
    /// What pixel flipping puts in place of removed features of `inputs` (`nil`: zeros).
    func removedValues(for inputs: Tensor, removal: FeatureRemoval) -> Tensor?
}

/// Reads a training checkpoint, rebuilds the model its stored recipe describes, loads the weights
/// and the recipe's held-out data. Paths in the stored recipe resolve against the current
/// directory. A checkpoint of a task without classes to explain is refused by name.
public func loadExplainSubject(checkpoint path: String) throws -> any ExplainSubject {
    let stored = try Checkpoint.read(from: path)
    let recipe = try Recipe(yaml: try TrainingCheckpoint.recipe(of: stored, path: path), file: "\(path) (its recipe)")
    let task = recipe.root.mapping?["task"]?.string ?? "classification"
    let recipeFile = FileManager.default.currentDirectoryPath + "/recipe.yaml"
    switch task {
    case "classification":
        let classification = try recipe.decode(ClassificationRecipe.self)
        let data = try ClassificationData(classification.data, seed: classification.seed, recipeFile: recipeFile)
        var initialization = RandomGenerator(seed: classification.seed).derived(stream: RandomStreams.initialization)
        let model = try makeClassifier(classification.model, inputShape: data.inputShape, classCount: data.classCount,
                                       generator: &initialization)
        _ = try TrainingCheckpoint.restore(stored, path: path, model: model, optimizer: nil)
        return try ImageClassifierSubject(summary: "\(classification.model.kind.rawValue) on \(classification.data.dataset.rawValue)",
                                          model: model, train: data.train, test: data.test, classCount: data.classCount)
    case "vision-transformer":
        let transformer = try recipe.decode(TransformerRecipe.self)
        var initialization = RandomGenerator(seed: transformer.seed)
        let workload = try VisionTransformerWorkload(transformer, generator: &initialization)
        _ = try TrainingCheckpoint.restore(stored, path: path, model: workload.model, optimizer: nil)
        return try ImageClassifierSubject(summary: "vit on digits", model: workload.network, train: workload.split.train,
                                          test: workload.split.test, classCount: Digits.classCount)
    case "sequence-classification":
        let (model, task) = try TransformerTasks.sequenceClassifier(checkpoint: path)
        let transformer = try recipe.decode(TransformerRecipe.self)
        var initialization = RandomGenerator(seed: transformer.seed)
        let heldOut = SequenceClassificationWorkload(transformer, generator: &initialization).heldOut
        return TokenClassifierSubject(model: model, task: task, examples: TensorDataset(inputs: heldOut.tokens, labels: heldOut.labels))
    case GraphTasks.taskName:
        return try GraphExplainSubject(recipe: recipe.decode(GraphRecipe.self), checkpoint: stored, path: path, recipeFile: recipeFile)
    default:
        throw TrainingError("\(path): a checkpoint of task '\(task)'; tessera explain explains classifiers (tasks: \(explainableTasks.joined(separator: ", ")))")
    }
}

/// The tasks whose checkpoints ``loadExplainSubject(checkpoint:)`` rebuilds.
let explainableTasks = ["classification", "vision-transformer", "sequence-classification", GraphTasks.taskName]

/// A classifier of dense inputs — images `[C, H, W]` or flat vectors — whose every input element is
/// a feature: the MLP, the CNN and the ViT (whose relevance reaches the pixels through the patch
/// embedding).
public struct ImageClassifierSubject: FeatureExplainSubject {
    public let summary: String
    public let model: any Layer
    public let inputShape: [Int]
    public let classCount: Int
    public let examples: TensorDataset
    /// The smallest and largest training input value: the z^B rule's box and SmoothGrad's scale.
    public let inputRange: (low: Float, high: Float)

    public init(summary: String, model: any Layer, train: TensorDataset, test: TensorDataset, classCount: Int) throws {
        guard model is any ExplainableModel else {
            throw TrainingError("\(summary): the model \(type(of: model)) does not list its layers for relevance propagation (ExplainableModel)")
        }
        model.eval()
        self.summary = summary
        self.model = model
        inputShape = test.inputShape
        self.classCount = classCount
        examples = test
        let values = train.inputs.scalars
        inputRange = (values.min() ?? 0, values.max() ?? 1)
    }

    public func relevance(of inputs: Tensor, target: ExplanationTarget, method: ExplainMethod) throws -> Tensor {
        switch method {
        case .lrp(let composite):
            let explainer = try Explainer(model: model as! any ExplainableModel,
                                          composite: composite.composite(low: inputRange.low, high: inputRange.high),
                                          inputShape: inputShape)
            return try explainer.explain(inputs, target: target).inputRelevance
        case .gradient:
            return try Attribution.gradient(of: model, at: inputs, target: target)
        case .gradientTimesInput:
            return try Attribution.gradientTimesInput(of: model, at: inputs, target: target)
        case .integratedGradients(let steps):
            return try Attribution.integratedGradients(of: model, at: inputs, target: target, steps: steps)
        case .smoothGrad(let fraction, let samples):
            var generator = RandomGenerator(seed: 0x5300_7468)
            return try Attribution.smoothGrad(of: model, at: inputs, target: target, noise: fraction * (inputRange.high - inputRange.low),
                                              samples: samples, generator: &generator)
        case .random:
            var generator = RandomGenerator(seed: 0x7261_6e64)
            return PixelFlipping.randomOrdering(like: inputs, generator: &generator)
        }
    }

    /// Noise: uniform over the training inputs' range, one fixed draw (Samek et al. 2017).
    public func removedValues(for inputs: Tensor, removal: FeatureRemoval) -> Tensor? {
        guard removal == .noise else { return nil }
        var noise = RandomGenerator(seed: 0x666c_6970)
        return Tensor.randomUniform(inputs.shape, low: inputRange.low, high: inputRange.high, generator: &noise)
    }

    /// Images are drawn channel-summed; a flat input of a square size (64 = 8 × 8) as a square,
    /// any other as one row.
    public func picture(input: Tensor, relevance: Tensor, title: String) -> RGBImage {
        let (width, height) = pictureSize
        func plane(_ tensor: Tensor) -> [Float] {
            let values = tensor.scalars, pixels = width * height
            return (0..<pixels).map { pixel in stride(from: pixel, to: values.count, by: pixels).reduce(0) { $0 + values[$1] } }
        }
        return RelevanceMap(title: title, input: plane(input), relevance: plane(relevance), width: width, height: height).render()
    }

    var pictureSize: (width: Int, height: Int) {
        if inputShape.count == 3 { return (inputShape[2], inputShape[1]) }
        let count = inputShape.reduce(1, *), side = Int(Double(count).squareRoot().rounded())
        return side * side == count ? (side, side) : (count, 1)
    }
}
