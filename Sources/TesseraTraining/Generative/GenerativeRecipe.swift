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
///   al., 2016): an exact discrete likelihood;
/// - `ddpm` — a denoising diffusion model (Ho et al., 2020) on the dequantised pixels scaled to
///   [−1, 1], trained on the simple ε-prediction loss, class-conditional with
///   `model.classConditional`, sampled by ancestral DDPM steps or by DDIM (Song et al., 2021)
///   (`evaluation.sampler`). It has no tractable likelihood here: its test figure is the ε-MSE
///   (`test_loss`), and its quality is the yardstick's.
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
        case .ddpm:
            let levels = model.channelMultipliers.count
            try check.that(side % (1 << (levels - 1)) == 0, "model.channelMultipliers",
                           "the U-Net halves the \(side) × \(side) digits between levels, so \(side) must be divisible by 2^(levels − 1); \(levels) levels need \(1 << (levels - 1)), use at most 4")
            try check.that(model.betaStart <= model.betaEnd, "model.betaStart",
                           "must not exceed model.betaEnd (\(model.betaEnd)), found \(model.betaStart)")
            try check.that(evaluation.samplingSteps == nil || evaluation.samplingSteps! <= model.timesteps, "evaluation.samplingSteps",
                           "must be at most model.timesteps (\(model.timesteps)), the steps of the chain it skips along, found \(evaluation.samplingSteps ?? 0)")
            for (key, counts) in [("evaluation.consistencySteps", evaluation.consistencySteps), ("evaluation.stepSweep", evaluation.stepSweep)] {
                try check.that(counts.allSatisfy { $0 <= model.timesteps }, key,
                               "every step count must be at most model.timesteps (\(model.timesteps)), found \(counts)")
            }
            try check.that(evaluation.temperature == 1, "evaluation.temperature",
                           "a diffusion model has no sampling temperature (its noise is the chain's own); leave it at 1 and use evaluation.eta for DDIM's stochasticity, found \(evaluation.temperature)")
            try check.that(evaluation.sampler == .ddim || evaluation.eta == 0, "evaluation.eta",
                           "is DDIM's (evaluation.sampler: ddim); the DDPM sampler's variance is model.variance, found \(evaluation.eta)")
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
        /// A denoising diffusion model: a U-Net predicts the noise of the forward process.
        case ddpm
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
    /// realnvp, glow, pixelcnn: channels of the hidden layers; ddpm: of the U-Net's first level.
    public var hiddenChannels: Int
    /// pixelcnn: `plain` masked convolutions (with the blind spot) or the `gated` two-stack version.
    public var architecture: Architecture
    /// pixelcnn: layers after the first.
    public var layers: Int
    /// pixelcnn: kernel extent of the first (mask A) layer.
    public var firstKernelSize: Int
    /// pixelcnn: kernel extent of the later layers.
    public var kernelSize: Int
    /// ddpm: `T`, the steps of the forward (noising) process.
    public var timesteps: Int
    /// ddpm: the β schedule, `linear` (Ho et al., 2020) or `cosine` (Nichol & Dhariwal, 2021).
    public var noiseSchedule: NoiseScheduleKind
    /// ddpm, linear schedule: `β` of the first and the last step (Ho et al.: 10⁻⁴ and 0.02 for T = 1000).
    public var betaStart: Double
    public var betaEnd: Double
    /// ddpm: the reverse steps' variance, `beta` (`σ² = β_t`) or `posterior` (`σ² = β̃_t`).
    public var variance: DDPMVariance
    /// ddpm: the U-Net's levels, each's channels a multiple of `hiddenChannels` (`[1, 2]`: 8 × 8 and 4 × 4).
    public var channelMultipliers: [Int]
    /// ddpm: groups of the U-Net's group normalisations (every level's channels divide by it).
    public var groups: Int
    /// ddpm: the U-Net also sees the digit's class (a label embedding added to the time embedding).
    public var classConditional: Bool

    enum CodingKeys: String, CodingKey, CaseIterable {
        case kind, hiddenSizes, latentDimensions, couplingLayers, prior, scales, checkerboardCouplings, channelCouplings, finalCouplings
        case levels, stepsPerLevel, hiddenChannels, architecture, layers, firstKernelSize, kernelSize
        case timesteps, noiseSchedule, betaStart, betaEnd, variance, channelMultipliers, groups, classConditional
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
        timesteps = try container.decodeIfPresent(Int.self, forKey: .timesteps) ?? 1000
        noiseSchedule = try container.decodeIfPresent(NoiseScheduleKind.self, forKey: .noiseSchedule) ?? .linear
        betaStart = try container.decodeIfPresent(Double.self, forKey: .betaStart) ?? 1e-4
        betaEnd = try container.decodeIfPresent(Double.self, forKey: .betaEnd) ?? 0.02
        variance = try container.decodeIfPresent(DDPMVariance.self, forKey: .variance) ?? .beta
        channelMultipliers = try container.decodeIfPresent([Int].self, forKey: .channelMultipliers) ?? [1, 2]
        groups = try container.decodeIfPresent(Int.self, forKey: .groups) ?? 8
        classConditional = try container.decodeIfPresent(Bool.self, forKey: .classConditional) ?? false
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
        try check.range("timesteps", timesteps, 2...100_000)
        try check.that(betaStart > 0 && betaStart < 1, "betaStart", "every β must lie in (0, 1), found \(betaStart)")
        try check.that(betaEnd > 0 && betaEnd < 1, "betaEnd", "every β must lie in (0, 1), found \(betaEnd)")
        try check.nonEmpty("channelMultipliers", channelMultipliers)
        try check.that(channelMultipliers.allSatisfy { $0 > 0 }, "channelMultipliers", "every multiplier must be positive, found \(channelMultipliers)")
        try check.range("groups", groups, 1...1024)
        if kind == .ddpm {
            try check.that(hiddenChannels % 2 == 0 && channelMultipliers.allSatisfy { ($0 * hiddenChannels) % groups == 0 }, "hiddenChannels",
                           "the U-Net needs an even hiddenChannels whose every level (× channelMultipliers \(channelMultipliers)) divides into groups = \(groups), found \(hiddenChannels)")
        }
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
    /// ddpm: how samples are drawn, `ddpm` (ancestral steps, Ho et al.) or `ddim` (Song et al.).
    public var sampler: DiffusionSamplerKind
    /// ddpm: the sampler's steps along a sub-sequence of the chain; absent: all `model.timesteps`.
    public var samplingSteps: Int?
    /// ddpm with the ddim sampler: its `η ≥ 0` (0 deterministic, 1 DDPM's posterior variance).
    public var eta: Double
    /// ddpm: two or more DDIM step counts (η = 0) run from the same `x_T`; logs how often the
    /// yardstick's class of a sample agrees between the first and each other count, and their
    /// mean pixel distance (Song et al. §5.3's consistency). Empty: not measured.
    public var consistencySteps: [Int]
    /// ddpm: DDIM step counts (η = 0) whose samples are scored by the yardstick and timed, each
    /// from the same `x_T` (`ddim<steps>_fid`, `…_confidence`, `…_seconds`). Empty: none.
    public var stepSweep: [Int]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case samples, temperature, yardstick, importanceSamples, sampler, samplingSteps, eta, consistencySteps, stepSweep
    }

    public init() {
        samples = 64
        temperature = 1
        yardstick = "configs/generative-yardstick-digits.yaml"
        importanceSamples = 64
        sampler = .ddpm
        eta = 0
        consistencySteps = []
        stepSweep = []
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        samples = try container.decodeIfPresent(Int.self, forKey: .samples) ?? samples
        temperature = try container.decodeIfPresent(Float.self, forKey: .temperature) ?? temperature
        yardstick = try container.decodeIfPresent(String.self, forKey: .yardstick) ?? yardstick
        importanceSamples = try container.decodeIfPresent(Int.self, forKey: .importanceSamples) ?? importanceSamples
        sampler = try container.decodeIfPresent(DiffusionSamplerKind.self, forKey: .sampler) ?? sampler
        samplingSteps = try container.decodeIfPresent(Int.self, forKey: .samplingSteps)
        eta = try container.decodeIfPresent(Double.self, forKey: .eta) ?? eta
        consistencySteps = try container.decodeIfPresent([Int].self, forKey: .consistencySteps) ?? consistencySteps
        stepSweep = try container.decodeIfPresent([Int].self, forKey: .stepSweep) ?? stepSweep
    }

    public func validate(_ check: RecipeValidator) throws {
        // The yardstick's Fréchet distance fits a covariance, which needs at least two samples.
        try check.range("samples", samples, 2...10_000)
        try check.that(temperature > 0 && temperature.isFinite, "temperature", "must be positive and finite, found \(temperature)")
        try check.range("importanceSamples", importanceSamples, 1...10_000)
        if let samplingSteps { try check.that(samplingSteps >= 1, "samplingSteps", "must be at least 1, found \(samplingSteps)") }
        try check.that(eta >= 0 && eta.isFinite, "eta", "must be non-negative and finite (0: deterministic DDIM, 1: DDPM's variance), found \(eta)")
        try check.that(consistencySteps.isEmpty || consistencySteps.count >= 2, "consistencySteps",
                       "compares two or more step counts, found \(consistencySteps)")
        try check.that(consistencySteps.allSatisfy { $0 >= 1 }, "consistencySteps", "every step count must be at least 1, found \(consistencySteps)")
        try check.that(stepSweep.allSatisfy { $0 >= 1 }, "stepSweep", "every step count must be at least 1, found \(stepSweep)")
    }
}

/// How a diffusion model's samples are drawn.
public enum DiffusionSamplerKind: String, Decodable, CaseIterable {
    /// Ancestral sampling (Ho et al. 2020, Algorithm 2), respaced when fewer steps are asked.
    case ddpm
    /// The non-Markovian sampler of Song et al. 2021 with its `η`.
    case ddim
}
