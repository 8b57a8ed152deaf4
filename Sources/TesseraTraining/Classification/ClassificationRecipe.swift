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

