import Foundation
import TesseraNN
import TesseraTensor

/// Classifier guidance (Dhariwal & Nichol, "Diffusion Models Beat GANs on Image Synthesis",
/// NeurIPS 2021, §4): a classifier `p_φ(y | x_t, t)` trained on noisy images `x_t ~ q(x_t | x_0)`
/// at every timestep steers an unconditional model's sampler toward class `y`. For DDIM
/// (their Algorithm 2) the predicted noise becomes
///
///     ε̂(x_t) = ε_θ(x_t, t) − √(1 − ᾱ_t) · s · ∇_{x_t} log p_φ(y | x_t, t),
///
/// the score of `p(x_t) p(y | x_t)^s`: a `scale` `s` above 1 sharpens the class at some cost in variety.
///
/// ```swift
/// let classifier = try NoisyClassifier(config: NoisyClassifierConfig(classes: 10), generator: &rng)
/// let loss = try classifier.loss(images, labels: labels, schedule: ddpm.schedule, generator: &rng).mean()
/// let guided = try DDIM().sample(ddpm, from: noise, labels: wanted,
///                                guidance: ClassifierGuidance(classifier: classifier, scale: 2), generator: &rng)
/// ```
public struct NoisyClassifierConfig: Equatable, Sendable {
    /// Classes it tells apart.
    public var classes: Int
    /// Channels of the images.
    public var imageChannels: Int = 1
    /// Channels of the first level, doubled at the second (after one downsampling).
    public var baseChannels: Int = 32
    /// Groups of the group normalisations.
    public var groups: Int = 8

    public init(classes: Int) { self.classes = classes }
}

/// The downward half of a ``DiffusionUNet`` (the same residual blocks and time embedding), then
/// global average pooling and a linear layer to the class logits.
public final class NoisyClassifier: Module {
    public let config: NoisyClassifierConfig
    public let timeHidden: Linear
    public let timeOutput: Linear
    public let inputConvolution: Conv2d
    public let firstBlock: DiffusionResidualBlock
    public let downsampler: Conv2d
    public let secondBlock: DiffusionResidualBlock
    public let outputNorm: GroupNorm
    public let output: Linear

    public init(config: NoisyClassifierConfig, generator: inout RandomGenerator) throws {
        guard config.classes >= 2 else { throw GenerativeError("NoisyClassifier: classes must be at least 2, got \(config.classes)") }
        guard config.imageChannels > 0, config.baseChannels >= 2, config.baseChannels % 2 == 0, config.groups > 0,
              config.baseChannels % config.groups == 0 else {
            throw GenerativeError("NoisyClassifier: imageChannels must be positive and baseChannels even and divisible by groups, got \(config.imageChannels), \(config.baseChannels) and \(config.groups)")
        }
        self.config = config
        let (width, embedding) = (config.baseChannels, 4 * config.baseChannels)
        timeHidden = Linear(width, embedding, generator: &generator)
        timeOutput = Linear(embedding, embedding, generator: &generator)
        inputConvolution = Conv2d(config.imageChannels, width, kernelSize: 3, padding: 1, generator: &generator)
        firstBlock = DiffusionResidualBlock(inputChannels: width, outputChannels: width, embeddingDimensions: embedding, groups: config.groups, generator: &generator)
        downsampler = Conv2d(width, width, kernelSize: 3, stride: 2, padding: 1, generator: &generator)
        secondBlock = DiffusionResidualBlock(inputChannels: width, outputChannels: 2 * width, embeddingDimensions: embedding, groups: config.groups, generator: &generator)
        outputNorm = GroupNorm(groupCount: config.groups, channelCount: 2 * width)
        output = Linear(2 * width, config.classes, generator: &generator)
    }

    /// Class logits `[batch, classes]` of noisy images `[batch, channels, H, W]` at `timesteps` `[batch]`.
    public func logits(_ noisy: Tensor, timesteps: Tensor) throws -> Tensor {
        guard noisy.rank == 4, noisy.shape[1] == config.imageChannels, noisy.shape[0] > 0, timesteps.shape == [noisy.shape[0]] else {
            throw GenerativeError("NoisyClassifier: expected images [batch, \(config.imageChannels), H, W] and one timestep per image, got \(noisy.shape) and \(timesteps.shape)")
        }
        let embedding = timeOutput(timeHidden(try sinusoidalTimeEmbedding(timesteps, dimensions: config.baseChannels)).silu())
        var hidden = firstBlock(inputConvolution(noisy), embedding: embedding)
        hidden = secondBlock(downsampler(hidden), embedding: embedding)
        return output(outputNorm(hidden).silu().mean(alongAxes: [2, 3]))
    }

    /// The cross-entropy of every row, `[batch]`, on `clean` images noised by `schedule` at uniform
    /// random timesteps.
    public func loss(_ clean: Tensor, labels: [Int], schedule: NoiseSchedule, generator: inout RandomGenerator) throws -> Tensor {
        guard clean.rank == 4, labels.count == clean.shape[0], labels.allSatisfy({ $0 >= 0 && $0 < config.classes }) else {
            throw GenerativeError("NoisyClassifier.loss: expected one label in 0..<\(config.classes) per image (\(clean.shape.first ?? 0)), got \(labels.prefix(8))")
        }
        let timesteps = labels.map { _ in generator.nextInt(below: schedule.timesteps) }
        let noisy = try schedule.noised(clean, timesteps: timesteps, noise: Tensor.randomNormal(clean.shape, generator: &generator))
        return try logits(noisy, timesteps: Tensor(timesteps.map(Float.init))).softmaxCrossEntropy(labels: Tensor(labels.map(Float.init)))
    }
}

/// A ``NoisyClassifier`` and the guidance scale `s` that a sampler applies it with.
public struct ClassifierGuidance {
    public let classifier: NoisyClassifier
    /// `s ≥ 0`: 0 is no guidance.
    public let scale: Double

    public init(classifier: NoisyClassifier, scale: Double) throws {
        guard scale >= 0, scale.isFinite else { throw GenerativeError("ClassifierGuidance: scale must be non-negative and finite, got \(scale)") }
        self.classifier = classifier
        self.scale = scale
    }

    /// Checks that the classifier fits the model and the labels before any sampling step runs.
    func check(_ model: DDPM, labels: [Int]?, batch: Int) throws {
        guard classifier.config.imageChannels == model.network.config.imageChannels else {
            throw GenerativeError("ClassifierGuidance: the classifier takes \(classifier.config.imageChannels)-channel images, the model draws \(model.network.config.imageChannels)-channel ones")
        }
        guard let labels, labels.count == batch else {
            throw GenerativeError("ClassifierGuidance: needs one wanted class per sample (\(batch)), got \(labels.map { "\($0.count)" } ?? "none")")
        }
        if let bad = labels.first(where: { $0 < 0 || $0 >= classifier.config.classes }) {
            throw GenerativeError("ClassifierGuidance: class \(bad) is out of the classifier's range 0..<\(classifier.config.classes)")
        }
    }

    /// `∇_{x_t} Σ_i log p_φ(y_i | x_t, t)`, the gradient of every row's own log-probability.
    public func logProbabilityGradient(_ sample: Tensor, timestep t: Int, labels: [Int]) throws -> Tensor {
        try withGradientMode(true) {
            let input = sample.detached().requiringGradient()
            let logits = try classifier.logits(input, timesteps: Tensor.full([sample.shape[0]], Float(t)))
            let logProbability = -logits.softmaxCrossEntropy(labels: Tensor(labels.map(Float.init))).sum()
            return Tensor.gradients(of: logProbability, withRespectTo: [input])[0]
        }
    }

    /// `ε̂ − √(1 − ᾱ_t) s ∇ log p_φ(y | x_t, t)` (Dhariwal & Nichol, Algorithm 2).
    public func guidedNoise(_ predictedNoise: Tensor, sample: Tensor, timestep t: Int, labels: [Int], schedule: NoiseSchedule) throws -> Tensor {
        guard scale > 0 else { return predictedNoise }
        let gradient = try logProbabilityGradient(sample, timestep: t, labels: labels)
        return predictedNoise - gradient * Float(sqrt(1 - schedule.alphaBar(t)) * scale)
    }
}
