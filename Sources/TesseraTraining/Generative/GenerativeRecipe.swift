import TesseraConfig
import TesseraGenerative

/// A generative recipe (`task: generative`) on the bundled 8×8 digits: `model.kind` picks the
/// generator, every one fitted by maximum likelihood (or its lower bound) to the digits quantised
/// to `data.levels` grey values, and scored on the held-out digits in nats per image and bits per
/// dimension, and on its samples by the yardstick (`evaluation.yardstick`):
///
/// - `vae` / `cvae` — a variational autoencoder with a Gaussian decoder on the dequantised pixels
///   (Kingma & Welling, 2014), conditioned on the label for `cvae` (Sohn et al., 2015); trained on
///   the negative ELBO, its test likelihood is the importance-weighted bound (Burda et al., 2016);
/// - `nice`, `realnvp`, `glow` — normalizing flows on the dequantised pixels (Dinh et al., 2015 and
///   2017; Kingma & Dhariwal, 2018): exact log-likelihood by the change of variables;
/// - `pixelcnn` — an autoregressive softmax over the grey values, plain or gated (van den Oord et
///   al., 2016): an exact discrete likelihood.
///
/// ```yaml
/// task: generative
/// name: generative-glow-digits
/// data: {levels: 16, batchSize: 64}
/// model: {kind: glow, levels: 2, stepsPerLevel: 4, hiddenChannels: 32}
/// evaluation: {samples: 256, temperature: 0.7, yardstick: configs/generative-yardstick-digits.yaml}
/// optimizer: {kind: adam, learningRate: 0.001}
/// training: {steps: 1500, evaluateEvery: 500, batchShards: 2, gradientClipNorm: 0}
/// ```
public struct GenerativeRecipe: StepRecipe, Decodable, RecipeValidatable {
    /// Always `generative`.
    public var task: String
    public var name: String
    public var seed: UInt64
    public var data: GenerativeDataSection
    public var model: GenerativeModelSection
    public var evaluation: GenerativeEvaluationSection
    public var optimizer: OptimizerSection
    public var schedule: ScheduleSection
    public var training: StepTrainingSection
    /// With several processes each takes its `BatchShard` of every step's batch; the
    /// dequantisation noise and a VAE's latent noise are drawn for the whole global batch, and
    /// Glow's actnorms are initialised from the whole first batch on every process, so the
    /// processes train as one.
    public var distributed: DistributedSection

    enum CodingKeys: String, CodingKey, CaseIterable {
        case task, name, seed, data, model, evaluation, optimizer, schedule, training, distributed
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        task = try container.decode(String.self, forKey: .task)
        name = try container.decode(String.self, forKey: .name)
        seed = try container.decodeIfPresent(UInt64.self, forKey: .seed) ?? 0
        data = try container.decodeIfPresent(GenerativeDataSection.self, forKey: .data) ?? GenerativeDataSection()
        model = try container.decode(GenerativeModelSection.self, forKey: .model)
        evaluation = try container.decodeIfPresent(GenerativeEvaluationSection.self, forKey: .evaluation) ?? GenerativeEvaluationSection()
        optimizer = try container.decode(OptimizerSection.self, forKey: .optimizer)
        schedule = try container.decodeIfPresent(ScheduleSection.self, forKey: .schedule) ?? ScheduleSection()
        training = try container.decode(StepTrainingSection.self, forKey: .training)
        distributed = try container.decodeIfPresent(DistributedSection.self, forKey: .distributed) ?? DistributedSection()
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.that(task == GenerativeTasks.taskName, "task", "must be \(GenerativeTasks.taskName), found '\(task)'")
        try check.that(!name.isEmpty && !name.contains("/"), "name", "must be a non-empty name without '/', found '\(name)'")
        let side = GenerativeDataSection.imageSide
        switch model.kind {
        case .glow:
            // Every level starts with a squeeze, which halves height and width.
            try check.that(side % (1 << model.levels) == 0, "model.levels",
                           "Glow squeezes the \(side) × \(side) digits once per level, so \(side) must be divisible by 2^levels; \(model.levels) levels need \(1 << model.levels), use at most 3")
        case .realnvp:
            // Every scale but the last ends with a squeeze.
            try check.that(side % (1 << (model.scales - 1)) == 0, "model.scales",
                           "RealNVP squeezes the \(side) × \(side) digits after every scale but the last, so \(side) must be divisible by 2^(scales − 1); \(model.scales) scales need \(1 << (model.scales - 1)), use at most 4")
        case .vae, .cvae, .nice, .pixelcnn:
            break
        }
        try check.that(data.outlierClass == nil || model.kind != .cvae, "data.outlierClass",
                       "a cvae is told each digit's class, so it cannot score a class it never saw; use an unconditional model")
        try check.that(schedule.kind == .constant || schedule.kind == .step || schedule.warmupSteps < training.steps,
                       "schedule.warmupSteps", "must be smaller than training.steps (\(training.steps)), found \(schedule.warmupSteps)")
    }
}

/// The digits, how finely their grey values are kept, and how they are split and batched.
public struct GenerativeDataSection: Decodable, RecipeValidatable {
    /// Height and width of a digit.
    public static let imageSide = 8

    /// Grey values a pixel keeps: the digits' 17 (0 … 16) map to `levels` by `⌊g · levels / 17⌋`,
    /// then to `k / (levels − 1)` in [0, 1]. 16 keeps nearly all of the detail and is a power of 2.
    public var levels: Int
    /// The share of the digits held out for testing (stratified by class, fixed by the seed).
    public var testFraction: Double
    /// Images per step (the global batch, shared out among the processes).
    public var batchSize: Int
    /// A digit class left out of training and of the test likelihood; its test digits are scored
    /// as outliers by their likelihood (`outlier_auroc`). Unconditional models only.
    public var outlierClass: Int?

    enum CodingKeys: String, CodingKey, CaseIterable { case levels, testFraction, batchSize, outlierClass }

    public init() {
        levels = 16
        testFraction = 0.2
        batchSize = 64
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        levels = try container.decodeIfPresent(Int.self, forKey: .levels) ?? levels
        testFraction = try container.decodeIfPresent(Double.self, forKey: .testFraction) ?? testFraction
        batchSize = try container.decodeIfPresent(Int.self, forKey: .batchSize) ?? batchSize
        outlierClass = try container.decodeIfPresent(Int.self, forKey: .outlierClass)
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.range("levels", levels, 2...17)
        try check.range("testFraction", testFraction, 0.05...0.9)
        try check.positive("batchSize", batchSize)
        if let outlierClass { try check.range("outlierClass", outlierClass, 0...9) }
    }
}

/// The generator and its size. Each kind reads only its own keys (listed with each field).
public struct GenerativeModelSection: Decodable, RecipeValidatable {
    public enum Kind: String, Decodable, CaseIterable {
        /// A VAE with a Gaussian decoder on the dequantised pixels.
        case vae
        /// The same VAE conditioned on the digit's class (encoder and decoder see its one-hot).
        case cvae
        /// Additive couplings and a diagonal scaling over the 64 pixels.
        case nice
        /// Affine couplings with checkerboard and channel masks, squeezes, multi-scale.
        case realnvp
        /// Actnorm, invertible 1×1 convolutions and affine couplings, multi-scale.
        case glow
        /// An autoregressive softmax over each pixel's grey values.
        case pixelcnn
    }

    /// A PixelCNN's layers (`PixelCNNArchitecture`'s cases, by name).
    public enum Architecture: String, Decodable, CaseIterable {
        /// Masked convolutions of type A then B: the receptive field has a blind spot.
        case plain
        /// Gated layers on a vertical and a horizontal stack: no blind spot.
        case gated

        var pixelCNN: PixelCNNArchitecture { self == .plain ? .plain : .gated }
    }

    /// A NICE flow's prior (`NICEPrior`'s cases, by name).
    public enum Prior: String, Decodable, CaseIterable {
        /// The standard Gaussian of every other flow.
        case gaussian
        /// The standard logistic, whose log-density falls linearly in `|z|`.
        case logistic

        var nice: NICEPrior { self == .gaussian ? .gaussian : .logistic }
    }

    public var kind: Kind
    /// vae, cvae: hidden sizes of the encoder (the decoder's reversed); nice: of each coupling's MLP.
    public var hiddenSizes: [Int]
    /// vae, cvae: dimensions of the latent `z`.
    public var latentDimensions: Int
    /// nice: additive coupling layers (4 updates every pixel at least twice).
    public var couplingLayers: Int
    /// nice: the distribution of `z`, `gaussian` or `logistic` (the paper's MNIST prior).
    public var prior: Prior
    /// realnvp: scales of the multi-scale architecture (8 × 8 allows up to 4).
    public var scales: Int
    /// realnvp: checkerboard couplings before each squeeze.
    public var checkerboardCouplings: Int
    /// realnvp: channel couplings after each squeeze.
    public var channelCouplings: Int
    /// realnvp: checkerboard couplings of the last scale.
    public var finalCouplings: Int
    /// glow: levels, each a squeeze and `stepsPerLevel` steps of flow (8 × 8 allows up to 3).
    public var levels: Int
    /// glow: steps of flow (actnorm, 1×1 convolution, coupling) per level.
    public var stepsPerLevel: Int
    /// realnvp, glow, pixelcnn: channels of the hidden layers.
    public var hiddenChannels: Int
    /// pixelcnn: `plain` masked convolutions (with the blind spot) or the `gated` two-stack version.
    public var architecture: Architecture
    /// pixelcnn: layers after the first.
    public var layers: Int
    /// pixelcnn: kernel extent of the first (mask A) layer.
    public var firstKernelSize: Int
    /// pixelcnn: kernel extent of the later layers.
    public var kernelSize: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case kind, hiddenSizes, latentDimensions, couplingLayers, prior, scales, checkerboardCouplings, channelCouplings, finalCouplings
        case levels, stepsPerLevel, hiddenChannels, architecture, layers, firstKernelSize, kernelSize
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(Kind.self, forKey: .kind)
        hiddenSizes = try container.decodeIfPresent([Int].self, forKey: .hiddenSizes) ?? [256]
        latentDimensions = try container.decodeIfPresent(Int.self, forKey: .latentDimensions) ?? 8
        couplingLayers = try container.decodeIfPresent(Int.self, forKey: .couplingLayers) ?? 4
        prior = try container.decodeIfPresent(Prior.self, forKey: .prior) ?? .gaussian
        scales = try container.decodeIfPresent(Int.self, forKey: .scales) ?? 2
        checkerboardCouplings = try container.decodeIfPresent(Int.self, forKey: .checkerboardCouplings) ?? 3
        channelCouplings = try container.decodeIfPresent(Int.self, forKey: .channelCouplings) ?? 3
        finalCouplings = try container.decodeIfPresent(Int.self, forKey: .finalCouplings) ?? 4
        levels = try container.decodeIfPresent(Int.self, forKey: .levels) ?? 2
        stepsPerLevel = try container.decodeIfPresent(Int.self, forKey: .stepsPerLevel) ?? 4
        hiddenChannels = try container.decodeIfPresent(Int.self, forKey: .hiddenChannels) ?? 32
        architecture = try container.decodeIfPresent(Architecture.self, forKey: .architecture) ?? .gated
        layers = try container.decodeIfPresent(Int.self, forKey: .layers) ?? 4
        firstKernelSize = try container.decodeIfPresent(Int.self, forKey: .firstKernelSize) ?? 5
        kernelSize = try container.decodeIfPresent(Int.self, forKey: .kernelSize) ?? 3
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.nonEmpty("hiddenSizes", hiddenSizes)
        try check.that(hiddenSizes.allSatisfy { $0 > 0 }, "hiddenSizes", "every width must be positive, found \(hiddenSizes)")
        try check.range("latentDimensions", latentDimensions, 1...1024)
        try check.range("couplingLayers", couplingLayers, 1...64)
        try check.range("scales", scales, 1...8)
        try check.nonNegative("checkerboardCouplings", checkerboardCouplings)
        try check.nonNegative("channelCouplings", channelCouplings)
        try check.range("finalCouplings", finalCouplings, 1...64)
        try check.range("levels", levels, 1...8)
        try check.range("stepsPerLevel", stepsPerLevel, 1...64)
        try check.range("hiddenChannels", hiddenChannels, 1...1024)
        try check.range("layers", layers, 0...64)
        try check.that(firstKernelSize > 0 && firstKernelSize % 2 == 1, "firstKernelSize", "must be odd and positive, found \(firstKernelSize)")
        try check.that(kernelSize > 0 && kernelSize % 2 == 1, "kernelSize", "must be odd and positive, found \(kernelSize)")
    }
}

/// What every evaluation measures besides the test likelihood.
public struct GenerativeEvaluationSection: Decodable, RecipeValidatable {
    /// Images sampled at every evaluation: the first 64 make `samples.png`, all of them go to the
    /// yardstick. A PixelCNN draws them pixel by pixel (64 forward passes), so keep this modest.
    public var samples: Int
    /// Sampling temperature: the base (or prior) noise is scaled by it; a PixelCNN divides its
    /// logits by it. Below 1 trades variety for cleaner digits.
    public var temperature: Float
    /// The yardstick's classification recipe, trained once on demand into
    /// `runs/yardstick/<name>-<hash of its recipe>/` and reused; empty: no yardstick metrics.
    public var yardstick: String
    /// vae, cvae: importance samples `K` of the test likelihood's IWAE bound.
    public var importanceSamples: Int

    enum CodingKeys: String, CodingKey, CaseIterable { case samples, temperature, yardstick, importanceSamples }

    public init() {
        samples = 64
        temperature = 1
        yardstick = "configs/generative-yardstick-digits.yaml"
        importanceSamples = 64
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        samples = try container.decodeIfPresent(Int.self, forKey: .samples) ?? samples
        temperature = try container.decodeIfPresent(Float.self, forKey: .temperature) ?? temperature
        yardstick = try container.decodeIfPresent(String.self, forKey: .yardstick) ?? yardstick
        importanceSamples = try container.decodeIfPresent(Int.self, forKey: .importanceSamples) ?? importanceSamples
    }

    public func validate(_ check: RecipeValidator) throws {
        // The yardstick's Fréchet distance fits a covariance, which needs at least two samples.
        try check.range("samples", samples, 2...10_000)
        try check.that(temperature > 0 && temperature.isFinite, "temperature", "must be positive and finite, found \(temperature)")
        try check.range("importanceSamples", importanceSamples, 1...10_000)
    }
}
