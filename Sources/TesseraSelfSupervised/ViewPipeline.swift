import TesseraData
import TesseraTensor

// The augmented views of the joint-embedding methods: SimCLR's two views (Chen et al., "A
// Simple Framework for Contrastive Learning of Visual Representations", ICML 2020, §3 and
// appendix A) and DINO's multi-crop (Caron et al., "Emerging Properties in Self-Supervised
// Vision Transformers", ICCV 2021, §3.1: two global crops at a large scale and several small
// local crops at a lower resolution; the teacher sees only the global ones).
//
// Seeded per sample: view `v` of the sample with data-set index `i` in epoch `e` is drawn from
// its own random stream, a pure function of `(seed, e, i, v)` (``SampleSeeds``). A sample's views
// therefore do not depend on which batch it lands in, its position there, how many processes
// share the batch or in which order they work: a resumed run and a `--np N` run see the views
// of an uninterrupted one-process run, and nothing but the seed needs saving.
//
// ```swift
// let pipeline = try TwoViewPipeline(.simCLR(size: 8), seed: 7)
// let (first, second) = try pipeline.views(batch.inputs, indices: batchIndices, epoch: epoch)
//
// let multiCrop = try MultiCropPipeline(global: .dinoGlobal(size: 8), local: .dinoLocal(size: 4),
//                                       localCropCount: 6, seed: 7)
// let crops = try multiCrop.crops(batch.inputs, indices: batchIndices, epoch: epoch)  // 2 + 6 tensors
// ```

// MARK: - Per-sample random streams

/// Random streams keyed by `(epoch, sample, view)` under one seed. The pretext tasks that draw
/// per sample (``JigsawPuzzle``, ``MaskedImageModeling``) take one too; give each consumer its
/// own seed, or the same key hands two of them the same numbers.
public struct SampleSeeds: Codable, Equatable, Sendable {
    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    /// The generator of view `view` of sample `sample` (its index in the data set, not in the
    /// batch) in epoch `epoch`. Each key goes through its own `derived(stream:)`, which mixes the
    /// parent stream with the child, so `(e, i, v)` and, say, `(e, v, i)` get different streams.
    public func generator(epoch: Int, sample: Int, view: Int) -> RandomGenerator {
        precondition(epoch >= 0 && sample >= 0 && view >= 0,
                     "SampleSeeds: epoch \(epoch), sample \(sample) and view \(view) must be non-negative")
        return RandomGenerator(seed: seed)
            .derived(stream: UInt64(epoch))
            .derived(stream: UInt64(sample))
            .derived(stream: UInt64(view))
    }
}

// MARK: - One view's settings

/// What one view does to an image, in this order: a random resized crop to `height × width`,
/// a horizontal flip, a small rotation, brightness/contrast jitter, a Gaussian blur, Gaussian
/// noise, and cutout. A probability of 0 (or a strength of 0) leaves a step out.
public struct ViewSettings: Equatable, Sendable {
    /// Output height and width of the crop; at most the image's.
    public var height: Int
    public var width: Int
    /// Range of the crop's area as a fraction of the image's, inside (0, 1].
    public var scale: ClosedRange<Float>
    /// Range of the crop's width / height (torchvision's default 3/4 … 4/3).
    public var ratio: ClosedRange<Float> = 0.75...(4.0 / 3)
    /// Probability of mirroring left–right. Digits are not mirror-symmetric, so their views
    /// usually set it to 0.
    public var flipProbability: Float = 0.5
    /// The rotation angle is uniform in `−rotationDegrees … rotationDegrees`.
    public var rotationDegrees: Float = 0
    /// Strengths of `ColorJitter` and the probability of applying it (SimCLR: 0.8).
    public var brightness: Float = 0.4
    public var contrast: Float = 0.4
    public var jitterProbability: Float = 0.8
    /// Range of the blur's standard deviation in pixels and the probability of blurring
    /// (SimCLR: 0.5 with σ 0.1…2 at 224 pixels; BYOL: 1.0 in one view, 0.1 in the other).
    public var blurSigma: ClosedRange<Float> = 0.1...2
    public var blurProbability: Float = 0
    /// Standard deviation of the added Gaussian noise; 0 adds none.
    public var noiseStandardDeviation: Float = 0
    /// Side of the `Cutout` square and the probability of cutting it; 0 cuts nothing.
    public var cutoutSize: Int = 0
    public var cutoutProbability: Float = 0.5

    public init(height: Int, width: Int, scale: ClosedRange<Float>) {
        self.height = height
        self.width = width
        self.scale = scale
    }

    /// SimCLR's view (appendix A) for images of side `size`: crop scale 0.08…1, flip 0.5, jitter
    /// 0.8 and blur 0.5, σ scaled from 0.1…2 at 224 pixels to this size (at least 0.1…0.5 pixel).
    public static func simCLR(size: Int) -> ViewSettings {
        var settings = ViewSettings(height: size, width: size, scale: 0.08...1)
        settings.blurProbability = 0.5
        settings.blurSigma = 0.1...Swift.max(0.5, 2 * Float(size) / 224)
        return settings
    }

    /// DINO's global crop: scale 0.4…1 (the paper's released default), full resolution.
    public static func dinoGlobal(size: Int) -> ViewSettings {
        var settings = ViewSettings(height: size, width: size, scale: 0.4...1)
        settings.blurProbability = 0.5
        return settings
    }

    /// DINO's local crop: scale 0.05…0.4, at a smaller output size (96 against 224 in the paper).
    public static func dinoLocal(size: Int) -> ViewSettings {
        var settings = ViewSettings(height: size, width: size, scale: 0.05...0.4)
        settings.blurProbability = 0.5
        return settings
    }

    /// Throws naming the first setting that cannot work; `imageHeight`/`imageWidth` check the crop.
    public func validate(imageHeight: Int? = nil, imageWidth: Int? = nil) throws {
        func fail(_ message: String) throws -> Never { throw SelfSupervisedError("view settings: \(message)") }
        if height <= 0 || width <= 0 { try fail("height and width must be positive, got \(height)×\(width)") }
        if let imageHeight, let imageWidth, height > imageHeight || width > imageWidth {
            try fail("the \(height)×\(width) crop (height, width) is larger than the \(imageHeight)×\(imageWidth) image")
        }
        if !(scale.lowerBound > 0 && scale.upperBound <= 1) {
            try fail("scale must lie in (0, 1], got \(scale.lowerBound)...\(scale.upperBound)")
        }
        if !(ratio.lowerBound > 0) { try fail("ratio must be positive, got \(ratio.lowerBound)...\(ratio.upperBound)") }
        for (name, value) in [("flipProbability", flipProbability), ("jitterProbability", jitterProbability),
                              ("blurProbability", blurProbability), ("cutoutProbability", cutoutProbability)]
            where !(value >= 0 && value <= 1) {
            try fail("\(name) must lie in [0, 1], got \(value)")
        }
        for (name, value) in [("rotationDegrees", rotationDegrees), ("brightness", brightness), ("contrast", contrast),
                              ("noiseStandardDeviation", noiseStandardDeviation)]
            where !(value >= 0 && value.isFinite) {
            try fail("\(name) must be a non-negative number, got \(value)")
        }
        if !(blurSigma.lowerBound > 0) { try fail("blurSigma must be positive, got \(blurSigma.lowerBound)...\(blurSigma.upperBound)") }
        if cutoutSize < 0 { try fail("cutoutSize must be non-negative, got \(cutoutSize)") }
        if let imageHeight, let imageWidth, cutoutSize > Swift.max(imageHeight, imageWidth) {
            try fail("cutoutSize \(cutoutSize) is larger than the \(imageHeight)×\(imageWidth) image")
        }
    }

    /// The augmentation these settings describe (settings assumed valid).
    func augmentation() -> any Augmentation {
        var steps: [any Augmentation] = [RandomResizedCrop(height: height, width: width, scale: scale, ratio: ratio)]
        if flipProbability > 0 { steps.append(RandomHorizontalFlip(probability: flipProbability)) }
        if rotationDegrees > 0 { steps.append(RandomRotation(degrees: -rotationDegrees...rotationDegrees)) }
        if jitterProbability > 0 && (brightness > 0 || contrast > 0) {
            steps.append(RandomApply(ColorJitter(brightness: brightness, contrast: contrast), probability: jitterProbability))
        }
        if blurProbability > 0 { steps.append(RandomApply(GaussianBlur(sigma: blurSigma), probability: blurProbability)) }
        if noiseStandardDeviation > 0 { steps.append(GaussianNoise(standardDeviation: noiseStandardDeviation)) }
        if cutoutSize > 0 && cutoutProbability > 0 {
            steps.append(RandomApply(Cutout(size: cutoutSize), probability: cutoutProbability))
        }
        return Compose(steps)
    }
}

// MARK: - Pipelines

/// Applies `settings`' augmentation to every image of `images` (`[N, C, H, W]`), image `n` with
/// the stream of `(epoch, indices[n], view)`.
func augmentedView(_ images: Tensor, indices: [Int], epoch: Int, view: Int, settings: ViewSettings,
                   augmentation: any Augmentation, seeds: SampleSeeds) throws -> Tensor {
    guard images.rank == 4 else { throw SelfSupervisedError("views: expected images [N, C, H, W], got \(images.shape)") }
    guard indices.count == images.shape[0] else {
        throw SelfSupervisedError("views: \(indices.count) sample indices for a batch of \(images.shape[0]) images")
    }
    try settings.validate(imageHeight: images.shape[2], imageWidth: images.shape[3])
    let output = Tensor.zeros([images.shape[0], images.shape[1], settings.height, settings.width])
    let imageShape = Array(images.shape.dropFirst()), imageSize = imageShape.reduce(1, *)
    let viewSize = output.count / Swift.max(images.shape[0], 1)
    for (position, sample) in indices.enumerated() {
        let image = Tensor.zeros(imageShape)
        image.storage.pointer.update(from: images.storage.pointer + position * imageSize, count: imageSize)
        var generator = seeds.generator(epoch: epoch, sample: sample, view: view)
        let result = augmentation.transform(image, generator: &generator)
        (output.storage.pointer + position * viewSize).update(from: result.storage.pointer, count: viewSize)
    }
    return output
}

/// SimCLR's (and BYOL's) two views of each sample: view 0 from `first`, view 1 from `second`.
public struct TwoViewPipeline {
    public let first: ViewSettings
    public let second: ViewSettings
    public let seeds: SampleSeeds
    private let firstAugmentation: any Augmentation
    private let secondAugmentation: any Augmentation

    /// Throws naming a bad setting of either view.
    public init(first: ViewSettings, second: ViewSettings, seed: UInt64) throws {
        try first.validate()
        try second.validate()
        self.first = first
        self.second = second
        seeds = SampleSeeds(seed: seed)
        firstAugmentation = first.augmentation()
        secondAugmentation = second.augmentation()
    }

    /// The same settings for both views (SimCLR).
    public init(_ both: ViewSettings, seed: UInt64) throws {
        try self.init(first: both, second: both, seed: seed)
    }

    /// The two views `[N, C, height, width]` of `images` (`[N, C, H, W]`), whose rows are the
    /// samples `indices` of the data set. Throws if a crop is larger than the images.
    public func views(_ images: Tensor, indices: [Int], epoch: Int) throws -> (first: Tensor, second: Tensor) {
        (try augmentedView(images, indices: indices, epoch: epoch, view: 0, settings: first,
                           augmentation: firstAugmentation, seeds: seeds),
         try augmentedView(images, indices: indices, epoch: epoch, view: 1, settings: second,
                           augmentation: secondAugmentation, seeds: seeds))
    }
}

/// DINO's multi-crop: two global crops (views 0 and 1) and `localCropCount` local crops (views
/// 2 … 1 + localCropCount) of every sample.
public struct MultiCropPipeline {
    public let global: ViewSettings
    public let local: ViewSettings
    public let localCropCount: Int
    public let seeds: SampleSeeds
    private let globalAugmentation: any Augmentation
    private let localAugmentation: any Augmentation

    /// The crops of one batch: `global` holds 2 tensors `[N, C, global.height, global.width]`,
    /// `local` holds `localCropCount` tensors `[N, C, local.height, local.width]`.
    public struct Crops {
        public let global: [Tensor]
        public let local: [Tensor]
        /// Global crops first, then local: the student's inputs, in view order.
        public var all: [Tensor] { global + local }
    }

    /// Throws naming a bad setting, or a negative `localCropCount`.
    public init(global: ViewSettings, local: ViewSettings, localCropCount: Int, seed: UInt64) throws {
        try global.validate()
        try local.validate()
        guard localCropCount >= 0 else {
            throw SelfSupervisedError("multi-crop: localCropCount must be non-negative, got \(localCropCount)")
        }
        self.global = global
        self.local = local
        self.localCropCount = localCropCount
        seeds = SampleSeeds(seed: seed)
        globalAugmentation = global.augmentation()
        localAugmentation = local.augmentation()
    }

    /// Every crop of `images` (`[N, C, H, W]`), whose rows are the samples `indices`.
    public func crops(_ images: Tensor, indices: [Int], epoch: Int) throws -> Crops {
        let globalCrops = try (0..<2).map { view in
            try augmentedView(images, indices: indices, epoch: epoch, view: view, settings: global,
                              augmentation: globalAugmentation, seeds: seeds)
        }
        let localCrops = try (0..<localCropCount).map { crop in
            try augmentedView(images, indices: indices, epoch: epoch, view: 2 + crop, settings: local,
                              augmentation: localAugmentation, seeds: seeds)
        }
        return Crops(global: globalCrops, local: localCrops)
    }
}
