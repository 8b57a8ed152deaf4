import TesseraConfig
import TesseraData
import TesseraNN

/// A self-supervised recipe (`task: selfsupervised`): an encoder pretrained on the unlabelled
/// training digits by `method.kind`, then judged by what the notes' downstream uses make of its
/// representation with only `data.labelFraction` of the labels: a linear probe, k-nearest
/// neighbours, k-means (NMI, ARI) and the representation's effective rank. `method.kind:
/// supervised` trains the same encoder with a linear head on those labels alone, the baseline the
/// pretrained encoders must beat. `method.kind: clip` trains an image and a text encoder on the
/// generated captioned shapes instead (`captions`, `textEncoder`; `encoder` is the image encoder),
/// judged by zero-shot classification and retrieval; it reads `data.batchSize` and
/// `data.testFraction`, and neither `views` (a crop or flip would falsify the caption) nor
/// `data.labelFraction`.
///
/// ```yaml
/// task: selfsupervised
/// name: simclr-digits
/// method: {kind: simclr, temperature: 0.5, projectionSize: 64}
/// encoder: {kind: cnn, channels: [32, 64], representationSize: 128}
/// data: {batchSize: 256, labelFraction: 0.1}
/// optimizer: {kind: lars, learningRate: 1.0, weightDecay: 0.000001}
/// schedule: {kind: cosine, warmupSteps: 50}
/// training: {steps: 1000, evaluateEvery: 250}
/// ```
///
/// ```yaml
/// task: selfsupervised
/// name: clip-shapes
/// method: {kind: clip, temperature: 0.07, projectionSize: 64}
/// encoder: {kind: cnn, channels: [32, 64], representationSize: 128}
/// textEncoder: {layerCount: 1, headCount: 2, modelDimensions: 64}
/// captions: {count: 4096, canvasSize: 16, template: "a {size} {color} {shape} at the {position}"}
/// data: {batchSize: 128, testFraction: 0.2}
/// optimizer: {kind: adam, learningRate: 0.001}
/// training: {steps: 1500, evaluateEvery: 250}
/// ```
public struct SelfSupervisedRecipe: StepRecipe, Decodable, RecipeValidatable {
    /// Always `selfsupervised`.
    public var task: String
    public var name: String
    public var seed: UInt64
    public var method: MethodSection
    public var encoder: EncoderSection
    public var data: SelfSupervisedDataSection
    public var views: ViewSection
    public var optimizer: OptimizerSection
    public var schedule: ScheduleSection
    public var training: StepTrainingSection
    /// With several processes each takes its share of every batch; SimCLR's and CLIP's negatives
    /// are gathered from all of them and batch norm uses the global batch's statistics.
    public var distributed: DistributedSection
    /// CLIP: the generated image–caption pairs (the other methods train on the digits).
    public var captions: CaptionsSection
    /// CLIP: the transformer that encodes the captions.
    public var textEncoder: TextEncoderSection

    enum CodingKeys: String, CodingKey, CaseIterable {
        case task, name, seed, method, encoder, data, views, optimizer, schedule, training, distributed, captions, textEncoder
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        task = try container.decode(String.self, forKey: .task)
        name = try container.decode(String.self, forKey: .name)
        seed = try container.decodeIfPresent(UInt64.self, forKey: .seed) ?? 0
        method = try container.decode(MethodSection.self, forKey: .method)
        encoder = try container.decode(EncoderSection.self, forKey: .encoder)
        data = try container.decodeIfPresent(SelfSupervisedDataSection.self, forKey: .data) ?? SelfSupervisedDataSection()
        views = try container.decodeIfPresent(ViewSection.self, forKey: .views) ?? ViewSection()
        optimizer = try container.decode(OptimizerSection.self, forKey: .optimizer)
        schedule = try container.decodeIfPresent(ScheduleSection.self, forKey: .schedule) ?? ScheduleSection()
        training = try container.decode(StepTrainingSection.self, forKey: .training)
        distributed = try container.decodeIfPresent(DistributedSection.self, forKey: .distributed) ?? DistributedSection()
        captions = try container.decodeIfPresent(CaptionsSection.self, forKey: .captions) ?? CaptionsSection()
        textEncoder = try container.decodeIfPresent(TextEncoderSection.self, forKey: .textEncoder) ?? TextEncoderSection()
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.that(task == SelfSupervisedTasks.taskName, "task", "must be \(SelfSupervisedTasks.taskName), found '\(task)'")
        try check.that(!name.isEmpty && !name.contains("/"), "name", "must be a non-empty name without '/', found '\(name)'")
        try check.that(schedule.kind == .constant || schedule.kind == .step || schedule.warmupSteps < training.steps,
                       "schedule.warmupSteps", "must be smaller than training.steps (\(training.steps)), found \(schedule.warmupSteps)")
    }
}

/// Which method pretrains the encoder, and its settings.
public struct MethodSection: Decodable, RecipeValidatable {
    public enum Kind: String, Decodable, CaseIterable { case simclr, byol, dino, supervised, clip }

    public var kind: Kind
    /// SimCLR's NT-Xent temperature τ (0.5 in the paper's CIFAR-10 runs); CLIP's starting τ, then
    /// learned (0.07 in the paper, the default for `clip`; at least 0.01, the logit scale's cap of 100).
    public var temperature: Float
    /// Hidden width of the projection head (and of BYOL's predictor, DINO's head MLP).
    public var hiddenSize: Int
    /// Where the loss is taken: SimCLR's and BYOL's projection size, CLIP's shared embedding space.
    public var projectionSize: Int
    /// BYOL and DINO: the EMA decay the target or teacher starts from, rising to 1 by a cosine.
    public var baseTargetDecay: Float
    /// BYOL: the online predictor (without it BYOL collapses).
    public var usesPredictor: Bool
    /// DINO: output dimensions K, bottleneck size, student temperature, teacher temperature after
    /// warm-up and at its start, warm-up steps, centre momentum, and whether outputs are centred.
    public var outputDimensions: Int
    public var bottleneckSize: Int
    public var studentTemperature: Float
    public var teacherTemperature: Float
    public var warmupTeacherTemperature: Float
    public var teacherWarmupSteps: Int
    public var centerMomentum: Float
    public var centering: Bool
    /// DINO: local crops beside the two global ones.
    public var localCrops: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case kind, temperature, hiddenSize, projectionSize, baseTargetDecay, usesPredictor, outputDimensions, bottleneckSize
        case studentTemperature, teacherTemperature, warmupTeacherTemperature, teacherWarmupSteps, centerMomentum, centering, localCrops
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(Kind.self, forKey: .kind)
        temperature = try container.decodeIfPresent(Float.self, forKey: .temperature) ?? (kind == .clip ? 0.07 : 0.5)
        hiddenSize = try container.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? 256
        projectionSize = try container.decodeIfPresent(Int.self, forKey: .projectionSize) ?? 64
        baseTargetDecay = try container.decodeIfPresent(Float.self, forKey: .baseTargetDecay) ?? 0.99
        usesPredictor = try container.decodeIfPresent(Bool.self, forKey: .usesPredictor) ?? true
        outputDimensions = try container.decodeIfPresent(Int.self, forKey: .outputDimensions) ?? 256
        bottleneckSize = try container.decodeIfPresent(Int.self, forKey: .bottleneckSize) ?? 64
        studentTemperature = try container.decodeIfPresent(Float.self, forKey: .studentTemperature) ?? 0.1
        teacherTemperature = try container.decodeIfPresent(Float.self, forKey: .teacherTemperature) ?? 0.04
        warmupTeacherTemperature = try container.decodeIfPresent(Float.self, forKey: .warmupTeacherTemperature) ?? 0.04
        teacherWarmupSteps = try container.decodeIfPresent(Int.self, forKey: .teacherWarmupSteps) ?? 0
        centerMomentum = try container.decodeIfPresent(Float.self, forKey: .centerMomentum) ?? 0.9
        centering = try container.decodeIfPresent(Bool.self, forKey: .centering) ?? true
        localCrops = try container.decodeIfPresent(Int.self, forKey: .localCrops) ?? 4
    }

    public func validate(_ check: RecipeValidator) throws {
        for (key, value) in [("temperature", temperature), ("studentTemperature", studentTemperature),
                             ("teacherTemperature", teacherTemperature), ("warmupTeacherTemperature", warmupTeacherTemperature)] {
            try check.that(value > 0 && value.isFinite, key, "must be positive, found \(value)")
        }
        try check.that(kind != .clip || temperature >= 0.01, "temperature",
                       "must be at least 0.01 for clip (the logit scale 1/τ is capped at 100), found \(temperature)")
        try check.positive("hiddenSize", hiddenSize)
        try check.positive("projectionSize", projectionSize)
        try check.positive("outputDimensions", outputDimensions)
        try check.positive("bottleneckSize", bottleneckSize)
        try check.that((0..<1).contains(baseTargetDecay), "baseTargetDecay", "must be in [0, 1), found \(baseTargetDecay)")
        try check.that((0..<1).contains(centerMomentum), "centerMomentum", "must be in [0, 1), found \(centerMomentum)")
        try check.nonNegative("teacherWarmupSteps", teacherWarmupSteps)
        try check.range("localCrops", localCrops, 0...16)
    }
}

/// The encoder every method trains: an MLP on the flattened digits or the digits CNN.
public struct EncoderSection: Decodable, RecipeValidatable {
    public enum Kind: String, Decodable, CaseIterable { case mlp, cnn }

    public var kind: Kind
    /// MLP: hidden widths before the representation.
    public var hiddenSizes: [Int]
    /// CNN: channels of the (3×3 convolution, ReLU, 2×2 max pool) blocks.
    public var channels: [Int]
    /// The representation's size: the encoder's output, what the probes read.
    public var representationSize: Int

    enum CodingKeys: String, CodingKey, CaseIterable { case kind, hiddenSizes, channels, representationSize }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(Kind.self, forKey: .kind)
        hiddenSizes = try container.decodeIfPresent([Int].self, forKey: .hiddenSizes) ?? [256]
        channels = try container.decodeIfPresent([Int].self, forKey: .channels) ?? [32, 64]
        representationSize = try container.decodeIfPresent(Int.self, forKey: .representationSize) ?? 128
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.that(hiddenSizes.allSatisfy { $0 > 0 }, "hiddenSizes", "every width must be positive, found \(hiddenSizes)")
        try check.that(!channels.isEmpty && channels.count <= 3 && channels.allSatisfy { $0 > 0 }, "channels",
                       "needs 1 to 3 positive channel counts (each block halves the 8×8 digits), found \(channels)")
        try check.positive("representationSize", representationSize)
    }
}

/// The digits, split into the unlabelled pretraining set and a held-out test set, and the share
/// of the training labels the downstream uses see.
public struct SelfSupervisedDataSection: Decodable, RecipeValidatable {
    /// Samples per step (the global batch; each gives two views).
    public var batchSize: Int
    /// Held out for testing.
    public var testFraction: Double
    /// Training labels the probes (and the supervised baseline) may use, stratified.
    public var labelFraction: Double

    enum CodingKeys: String, CodingKey, CaseIterable { case batchSize, testFraction, labelFraction }

    public init() {
        batchSize = 256
        testFraction = 0.2
        labelFraction = 0.1
    }

    public init(from decoder: Decoder) throws {
        self.init()
        let container = try decoder.container(keyedBy: CodingKeys.self)
        batchSize = try container.decodeIfPresent(Int.self, forKey: .batchSize) ?? batchSize
        testFraction = try container.decodeIfPresent(Double.self, forKey: .testFraction) ?? testFraction
        labelFraction = try container.decodeIfPresent(Double.self, forKey: .labelFraction) ?? labelFraction
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.range("batchSize", batchSize, 2...4096)
        try check.that(testFraction > 0 && testFraction < 1, "testFraction", "must lie strictly between 0 and 1, found \(testFraction)")
        try check.that(labelFraction > 0 && labelFraction <= 1, "labelFraction", "must be in (0, 1], found \(labelFraction)")
    }
}

/// The augmentations of the views (SimCLR's two, BYOL's two, DINO's global and local crops).
public struct ViewSection: Decodable, RecipeValidatable {
    /// Random resized crop: the share of the image a crop covers (global crops for DINO).
    public var scale: [Float]
    /// DINO's local crops: the share of the image each covers. They are resampled to the encoders'
    /// 8×8 input (the paper's smaller local resolution needs a ViT; the MLP and CNN take one size).
    public var localScale: [Float]
    /// Rotation range (degrees, ±), brightness and contrast jitter, Gaussian noise and cutout side.
    public var rotationDegrees: Float
    public var brightness: Float
    public var contrast: Float
    public var noise: Float
    public var cutoutSize: Int
    /// Horizontal flips (off for digits: a flipped 2 is no digit).
    public var flipProbability: Float

    enum CodingKeys: String, CodingKey, CaseIterable {
        case scale, localScale, rotationDegrees, brightness, contrast, noise, cutoutSize, flipProbability
    }

    public init() {
        scale = [0.5, 1]
        localScale = [0.2, 0.5]
        rotationDegrees = 10
        brightness = 0.4
        contrast = 0.4
        noise = 0.05
        cutoutSize = 2
        flipProbability = 0
    }

    public init(from decoder: Decoder) throws {
        self.init()
        let container = try decoder.container(keyedBy: CodingKeys.self)
        scale = try container.decodeIfPresent([Float].self, forKey: .scale) ?? scale
        localScale = try container.decodeIfPresent([Float].self, forKey: .localScale) ?? localScale
        rotationDegrees = try container.decodeIfPresent(Float.self, forKey: .rotationDegrees) ?? rotationDegrees
        brightness = try container.decodeIfPresent(Float.self, forKey: .brightness) ?? brightness
        contrast = try container.decodeIfPresent(Float.self, forKey: .contrast) ?? contrast
        noise = try container.decodeIfPresent(Float.self, forKey: .noise) ?? noise
        cutoutSize = try container.decodeIfPresent(Int.self, forKey: .cutoutSize) ?? cutoutSize
        flipProbability = try container.decodeIfPresent(Float.self, forKey: .flipProbability) ?? flipProbability
    }

    public func validate(_ check: RecipeValidator) throws {
        for (key, range) in [("scale", scale), ("localScale", localScale)] {
            try check.that(range.count == 2 && range[0] > 0 && range[0] <= range[1] && range[1] <= 1, key,
                           "must be [low, high] with 0 < low ≤ high ≤ 1, found \(range)")
        }
        try check.that(noise >= 0, "noise", "must not be negative, found \(noise)")
        try check.range("cutoutSize", cutoutSize, 0...8)
        try check.range("flipProbability", flipProbability, 0...1)
    }
}

/// CLIP's generated image–caption pairs (`CaptionedShapes`): coloured shapes of two sizes in four
/// quadrants, each captioned from `template`. The first `1 − data.testFraction` of them train, the
/// rest are the held-out pairs of zero-shot classification and retrieval.
public struct CaptionsSection: Decodable, RecipeValidatable {
    /// Pairs generated (train and test together).
    public var count: Int
    /// Image side in pixels (at least 12, so a large shape fits in a quadrant).
    public var canvasSize: Int
    /// The caption of every image, from the fixed vocabulary with the placeholders `{size}`,
    /// `{color}`, `{shape}` and `{position}`; zero-shot classification reads the colour and shape,
    /// so both must appear.
    public var template: String

    enum CodingKeys: String, CodingKey, CaseIterable { case count, canvasSize, template }

    public init() {
        count = 4096
        canvasSize = 16
        template = CaptionedShapes.defaultTemplate
    }

    public init(from decoder: Decoder) throws {
        self.init()
        let container = try decoder.container(keyedBy: CodingKeys.self)
        count = try container.decodeIfPresent(Int.self, forKey: .count) ?? count
        canvasSize = try container.decodeIfPresent(Int.self, forKey: .canvasSize) ?? canvasSize
        template = try container.decodeIfPresent(String.self, forKey: .template) ?? template
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.range("count", count, 16...1_000_000)
        try check.range("canvasSize", canvasSize, 12...64)
        try check.that(template.contains("{color}") && template.contains("{shape}"), "template",
                       "must name the {color} and the {shape} (zero-shot classification reads them), found \"\(template)\"")
        do {
            try CaptionedShapes.validate(template: template)
        } catch {
            throw check.error("template", "\(error)")
        }
    }
}

/// CLIP's text encoder: token embeddings and learned positions, `layerCount` pre-LN transformer
/// layers, the mean over the caption's positions (every caption of a template has as many words, so
/// nothing is padded). With `layerCount: 0` it is the mean of the (position-shifted) word embeddings.
public struct TextEncoderSection: Decodable, RecipeValidatable {
    public var layerCount: Int
    public var headCount: Int
    /// Width of the embeddings and the residual stream: the text representation's size.
    public var modelDimensions: Int

    enum CodingKeys: String, CodingKey, CaseIterable { case layerCount, headCount, modelDimensions }

    public init() {
        layerCount = 1
        headCount = 2
        modelDimensions = 64
    }

    public init(from decoder: Decoder) throws {
        self.init()
        let container = try decoder.container(keyedBy: CodingKeys.self)
        layerCount = try container.decodeIfPresent(Int.self, forKey: .layerCount) ?? layerCount
        headCount = try container.decodeIfPresent(Int.self, forKey: .headCount) ?? headCount
        modelDimensions = try container.decodeIfPresent(Int.self, forKey: .modelDimensions) ?? modelDimensions
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.range("layerCount", layerCount, 0...12)
        try check.positive("headCount", headCount)
        try check.that(modelDimensions > 0 && modelDimensions % headCount == 0, "modelDimensions",
                       "must be a positive multiple of headCount (\(headCount)), found \(modelDimensions)")
    }
}
