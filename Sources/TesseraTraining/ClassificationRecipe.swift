import TesseraConfig
import TesseraNN

/// A supervised classification recipe (`task: classification`): which data, which network, how to
/// optimise it and for how long. Every key is the Swift property name; optional keys show their
/// default here.
///
/// ```yaml
/// task: classification
/// name: mlp-digits
/// seed: 0
/// data: {dataset: digits, batchSize: 64, testFraction: 0.2}
/// model: {kind: mlp, hiddenSizes: [256, 256], activation: relu}
/// optimizer: {kind: adam, learningRate: 0.001}
/// training: {epochs: 40}
/// ```
public struct ClassificationRecipe: Decodable, RecipeValidatable {
    /// Always `classification`: lets the CLI pick the trainer for a recipe file.
    public var task: String
    /// Names the run directory (`runs/<name>`) and the checkpoints.
    public var name: String
    /// Fixes every random stream of the run: initial weights, data split and order, dropout.
    public var seed: UInt64
    public var data: DataSection
    public var model: ModelSection
    public var optimizer: OptimizerSection
    public var schedule: ScheduleSection
    public var training: TrainingSection
    public var distributed: DistributedSection

    enum CodingKeys: String, CodingKey, CaseIterable {
        case task, name, seed, data, model, optimizer, schedule, training, distributed
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        task = try container.decode(String.self, forKey: .task)
        name = try container.decode(String.self, forKey: .name)
        seed = try container.decodeIfPresent(UInt64.self, forKey: .seed) ?? 0
        data = try container.decode(DataSection.self, forKey: .data)
        model = try container.decode(ModelSection.self, forKey: .model)
        optimizer = try container.decode(OptimizerSection.self, forKey: .optimizer)
        schedule = try container.decodeIfPresent(ScheduleSection.self, forKey: .schedule) ?? ScheduleSection()
        training = try container.decode(TrainingSection.self, forKey: .training)
        distributed = try container.decodeIfPresent(DistributedSection.self, forKey: .distributed) ?? DistributedSection()
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.that(task == "classification", "task", "must be 'classification' for this trainer, found '\(task)'")
        try check.that(!name.isEmpty && !name.contains("/"), "name", "must be a non-empty name without '/', found '\(name)'")
    }
}

/// Where the examples come from and how they are batched.
public struct DataSection: Decodable, RecipeValidatable {
    public enum Source: String, Decodable, CaseIterable {
        /// The bundled 8×8 handwritten digits (1,797 images, 10 classes).
        case digits
        /// Synthetic 2-D point sets (scikit-learn's shapes), `count` points with `noise`.
        case moons, circles, spirals, gaussians, checkerboard
        /// A numeric CSV file at `path`; the label is column `labelColumn`.
        case csv
        /// An IDX image file at `path` with labels at `labelsPath` (the MNIST format).
        case idx
        /// A `.npy` array of inputs at `path` with a `.npy` of labels at `labelsPath`.
        case npy
    }

    /// The data set.
    public var dataset: Source
    /// File for `csv`, `idx` and `npy` sets.
    public var path: String?
    /// Labels file for `idx` and `npy` sets.
    public var labelsPath: String?
    /// Label column of a CSV file (0-based; negative counts from the end).
    public var labelColumn: Int
    /// Whether a CSV file starts with a header row.
    public var hasHeader: Bool
    /// Points to generate for synthetic sets.
    public var count: Int
    /// Standard deviation of the noise added to synthetic points.
    public var noise: Float
    /// Share of examples held out for testing, chosen by `seed` (stratified by class).
    public var testFraction: Double
    /// Examples per optimisation step (the global batch, summed over all processes).
    public var batchSize: Int
    /// Digits as `[1, 8, 8]` images (`image`, for convolutions) or `[64]` vectors (`flat`).
    public var layout: Layout

    public enum Layout: String, Decodable, CaseIterable { case flat, image }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case dataset, path, labelsPath, labelColumn, hasHeader, count, noise, testFraction, batchSize, layout
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        dataset = try container.decode(Source.self, forKey: .dataset)
        path = try container.decodeIfPresent(String.self, forKey: .path)
        labelsPath = try container.decodeIfPresent(String.self, forKey: .labelsPath)
        labelColumn = try container.decodeIfPresent(Int.self, forKey: .labelColumn) ?? 0
        hasHeader = try container.decodeIfPresent(Bool.self, forKey: .hasHeader) ?? false
        count = try container.decodeIfPresent(Int.self, forKey: .count) ?? 2000
        noise = try container.decodeIfPresent(Float.self, forKey: .noise) ?? 0.1
        testFraction = try container.decodeIfPresent(Double.self, forKey: .testFraction) ?? 0.2
        batchSize = try container.decodeIfPresent(Int.self, forKey: .batchSize) ?? 64
        layout = try container.decodeIfPresent(Layout.self, forKey: .layout) ?? .flat
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.positive("batchSize", batchSize)
        try check.positive("count", count)
        try check.nonNegative("noise", noise)
        try check.range("testFraction", testFraction, 0.01...0.9)
        switch dataset {
        case .csv:
            try check.that(path != nil, "path", "a csv data set needs the file's path")
        case .idx, .npy:
            try check.that(path != nil, "path", "a \(dataset.rawValue) data set needs the inputs file's path")
            try check.that(labelsPath != nil, "labelsPath", "a \(dataset.rawValue) data set needs the labels file's path")
        default:
            break
        }
    }
}

/// The network.
public struct ModelSection: Decodable, RecipeValidatable {
    public enum Kind: String, Decodable, CaseIterable {
        /// Fully connected layers over the flattened input.
        case mlp
        /// Convolution blocks (conv 3×3, activation, 2×2 max pool) then a fully connected head.
        case cnn
    }

    /// The architecture.
    public var kind: Kind
    /// Widths of the hidden layers of an MLP.
    public var hiddenSizes: [Int]
    /// Nonlinearity between layers.
    public var activation: Activation
    /// Dropout probability before each hidden linear layer of an MLP or head (0 = none).
    public var dropout: Float
    /// Output channels of each convolution block of a CNN.
    public var channels: [Int]
    /// Width of the CNN's hidden fully connected layer.
    public var headSize: Int
    /// Batch normalisation after each convolution of a CNN.
    public var batchNorm: Bool

    enum CodingKeys: String, CodingKey, CaseIterable {
        case kind, hiddenSizes, activation, dropout, channels, headSize, batchNorm
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(Kind.self, forKey: .kind)
        hiddenSizes = try container.decodeIfPresent([Int].self, forKey: .hiddenSizes) ?? [256, 256]
        activation = try container.decodeIfPresent(Activation.self, forKey: .activation) ?? .relu
        dropout = try container.decodeIfPresent(Float.self, forKey: .dropout) ?? 0
        channels = try container.decodeIfPresent([Int].self, forKey: .channels) ?? [32, 64]
        headSize = try container.decodeIfPresent(Int.self, forKey: .headSize) ?? 128
        batchNorm = try container.decodeIfPresent(Bool.self, forKey: .batchNorm) ?? false
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.that(hiddenSizes.allSatisfy { $0 > 0 }, "hiddenSizes", "every width must be positive, found \(hiddenSizes)")
        try check.that(channels.allSatisfy { $0 > 0 }, "channels", "every channel count must be positive, found \(channels)")
        try check.range("dropout", dropout, 0...0.95)
        try check.positive("headSize", headSize)
    }
}

/// The optimiser and its hyper-parameters (PyTorch's defaults where not given).
public struct OptimizerSection: Decodable, RecipeValidatable {
    public enum Kind: String, Decodable, CaseIterable { case sgd, adam, adamw, rmsprop, lars }

    public var kind: Kind
    /// Peak learning rate (the schedule scales it).
    public var learningRate: Float
    /// Momentum of SGD, RMSprop and LARS.
    public var momentum: Float
    /// Nesterov momentum for SGD.
    public var nesterov: Bool
    /// L2 penalty (coupled for SGD/Adam/RMSprop/LARS, decoupled for AdamW).
    public var weightDecay: Float
    /// Adam's first- and second-moment decay rates.
    public var beta1: Float
    public var beta2: Float
    /// Denominator guard of Adam and RMSprop.
    public var epsilon: Float

    enum CodingKeys: String, CodingKey, CaseIterable {
        case kind, learningRate, momentum, nesterov, weightDecay, beta1, beta2, epsilon
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(Kind.self, forKey: .kind)
        learningRate = try container.decode(Float.self, forKey: .learningRate)
        momentum = try container.decodeIfPresent(Float.self, forKey: .momentum) ?? 0
        nesterov = try container.decodeIfPresent(Bool.self, forKey: .nesterov) ?? false
        weightDecay = try container.decodeIfPresent(Float.self, forKey: .weightDecay) ?? 0
        beta1 = try container.decodeIfPresent(Float.self, forKey: .beta1) ?? 0.9
        beta2 = try container.decodeIfPresent(Float.self, forKey: .beta2) ?? 0.999
        epsilon = try container.decodeIfPresent(Float.self, forKey: .epsilon) ?? 1e-8
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.range("learningRate", learningRate, 1e-8...10)
        try check.range("momentum", momentum, 0...0.9999)
        try check.range("weightDecay", weightDecay, 0...1)
        try check.range("beta1", beta1, 0...0.9999)
        try check.range("beta2", beta2, 0...0.99999)
        try check.positive("epsilon", epsilon)
        try check.that(!nesterov || (kind == .sgd && momentum > 0), "nesterov", "needs the sgd optimizer with momentum > 0")
    }
}

/// How the learning rate changes with the step.
public struct ScheduleSection: Decodable, RecipeValidatable {
    public enum Kind: String, Decodable, CaseIterable { case constant, step, linear, cosine }

    /// `constant`; `step`: × `gamma` every `stepSize` steps; `linear`/`cosine`: decay to
    /// `minimumLearningRate` at the last step. All but `step` start with `warmupSteps` of linear warm-up.
    public var kind: Kind
    public var warmupSteps: Int
    public var stepSize: Int
    public var gamma: Float
    public var minimumLearningRate: Float

    enum CodingKeys: String, CodingKey, CaseIterable { case kind, warmupSteps, stepSize, gamma, minimumLearningRate }

    public init() {
        kind = .constant
        warmupSteps = 0
        stepSize = 1000
        gamma = 0.1
        minimumLearningRate = 0
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        kind = try container.decode(Kind.self, forKey: .kind)
        warmupSteps = try container.decodeIfPresent(Int.self, forKey: .warmupSteps) ?? warmupSteps
        stepSize = try container.decodeIfPresent(Int.self, forKey: .stepSize) ?? stepSize
        gamma = try container.decodeIfPresent(Float.self, forKey: .gamma) ?? gamma
        minimumLearningRate = try container.decodeIfPresent(Float.self, forKey: .minimumLearningRate) ?? minimumLearningRate
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.nonNegative("warmupSteps", warmupSteps)
        try check.positive("stepSize", stepSize)
        try check.range("gamma", gamma, 0...1)
        try check.nonNegative("minimumLearningRate", minimumLearningRate)
    }
}

/// How long to train, and how often to log, evaluate and save.
public struct TrainingSection: Decodable, RecipeValidatable {
    /// Passes over the training set.
    public var epochs: Int
    /// Steps between log lines and `metrics.jsonl` records.
    public var logEvery: Int
    /// Steps between test-set evaluations (0: only at the end).
    public var evaluateEvery: Int
    /// Steps between checkpoints (0: only at the end).
    public var checkpointEvery: Int
    /// Step checkpoints kept (the best by test accuracy is kept besides).
    public var keepCheckpoints: Int
    /// Largest global gradient norm before clipping (0: no clipping).
    public var gradientClipNorm: Float
    /// Label smoothing of the cross-entropy loss.
    public var labelSmoothing: Float

    enum CodingKeys: String, CodingKey, CaseIterable {
        case epochs, logEvery, evaluateEvery, checkpointEvery, keepCheckpoints, gradientClipNorm, labelSmoothing
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        epochs = try container.decode(Int.self, forKey: .epochs)
        logEvery = try container.decodeIfPresent(Int.self, forKey: .logEvery) ?? 20
        evaluateEvery = try container.decodeIfPresent(Int.self, forKey: .evaluateEvery) ?? 0
        checkpointEvery = try container.decodeIfPresent(Int.self, forKey: .checkpointEvery) ?? 0
        keepCheckpoints = try container.decodeIfPresent(Int.self, forKey: .keepCheckpoints) ?? 3
        gradientClipNorm = try container.decodeIfPresent(Float.self, forKey: .gradientClipNorm) ?? 0
        labelSmoothing = try container.decodeIfPresent(Float.self, forKey: .labelSmoothing) ?? 0
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.positive("epochs", epochs)
        try check.positive("logEvery", logEvery)
        try check.nonNegative("evaluateEvery", evaluateEvery)
        try check.nonNegative("checkpointEvery", checkpointEvery)
        try check.positive("keepCheckpoints", keepCheckpoints)
        try check.nonNegative("gradientClipNorm", gradientClipNorm)
        try check.range("labelSmoothing", labelSmoothing, 0...0.5)
    }
}

/// How processes train together when the recipe runs under MPI (ignored in local mode).
public struct DistributedSection: Decodable, RecipeValidatable {
    /// Size of a gradient bucket. Buckets start their allreduce as soon as backward has produced
    /// all their gradients; small buckets start earlier, large ones cost fewer messages. 2 MB was
    /// the better of 1, 2 and 4 MB on the 2-core benchmark machine (BENCHMARKS.md).
    public var bucketMegabytes: Double
    /// Overlap gradient averaging with backward (buckets); `false` averages in one flat allreduce
    /// after backward.
    public var overlap: Bool
    /// Seconds a collective may wait for every rank before the job reports the missing ranks and ends.
    public var collectiveTimeoutSeconds: Double
    /// Batch norm statistics of the whole global batch, summed over processes (synchronized batch
    /// norm), so a model with batch norm trains as in local mode; `false` normalizes each process's
    /// shard by its own statistics (no allreduces in the forward pass, but results then depend on
    /// the number of processes).
    public var syncBatchNorm: Bool

    enum CodingKeys: String, CodingKey, CaseIterable { case bucketMegabytes, overlap, collectiveTimeoutSeconds, syncBatchNorm }

    public init() {
        bucketMegabytes = 2
        overlap = true
        collectiveTimeoutSeconds = 120
        syncBatchNorm = true
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        bucketMegabytes = try container.decodeIfPresent(Double.self, forKey: .bucketMegabytes) ?? bucketMegabytes
        overlap = try container.decodeIfPresent(Bool.self, forKey: .overlap) ?? overlap
        collectiveTimeoutSeconds = try container.decodeIfPresent(Double.self, forKey: .collectiveTimeoutSeconds) ?? collectiveTimeoutSeconds
        syncBatchNorm = try container.decodeIfPresent(Bool.self, forKey: .syncBatchNorm) ?? syncBatchNorm
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.range("bucketMegabytes", bucketMegabytes, 0.01...1024)
        try check.range("collectiveTimeoutSeconds", collectiveTimeoutSeconds, 0.1...86_400)
    }
}
