import Foundation
import TesseraData
import TesseraGenerative
import TesseraNN
import TesseraTensor

/// The generator a `GenerativeRecipe` describes, behind the three things training, evaluation and
/// `tessera sample` need of it: the log-likelihood of quantised digits, and samples.
///
/// Every likelihood here is of the *discrete* images (grey values `k / (levels − 1)`), in nats per
/// image, so the models compare: the flows and the VAE model the dequantised points
/// `y = (k + u) / levels` (`dequantize(_:levels:generator:)`), whose density bounds the discrete
/// probability by `log P(k) ≥ E_u log p(y) − D log levels`; the PixelCNN's softmax is discrete
/// already. The flows see `y − ½`, centred on zero (a shift: no change to the log-determinant).
/// A diffusion model sees `2y − 1` in [−1, 1] (Ho et al.'s data scaling) and has no likelihood
/// here: its training objective is `diffusionLoss(_:labels:uniform:timesteps:noise:)`.
final class GenerativeNetwork {
    enum Model {
        case vae(VAE)
        case nice(NICE)
        case realNVP(RealNVP)
        case glow(Glow)
        case pixelCNN(PixelCNN)
        case ddpm(DDPM)
    }

    /// How a diffusion model draws its samples (the recipe's `evaluation` settings, or `tessera sample`'s).
    struct DiffusionSampling {
        var sampler: DiffusionSamplerKind = .ddpm
        /// nil: every step of the chain.
        var steps: Int?
        var eta: Double = 0

        init(sampler: DiffusionSamplerKind = .ddpm, steps: Int? = nil, eta: Double = 0) {
            (self.sampler, self.steps, self.eta) = (sampler, steps, eta)
        }

        init(_ evaluation: GenerativeEvaluationSection) {
            self.init(sampler: evaluation.sampler, steps: evaluation.samplingSteps, eta: evaluation.eta)
        }
    }

    let model: Model
    let levels: Int
    /// Classes a conditional model samples and scores by (the cVAE's 10), 0 when unconditional.
    let classCount: Int
    static let imageShape = [1, GenerativeDataSection.imageSide, GenerativeDataSection.imageSide]
    static var dimensions: Int { imageShape.reduce(1, *) }

    init(_ section: GenerativeModelSection, levels: Int, generator: inout RandomGenerator) throws {
        self.levels = levels
        classCount = section.kind == .cvae || (section.kind == .ddpm && section.classConditional) ? 10 : 0
        switch section.kind {
        case .vae, .cvae:
            var config = VAEConfig(inputFeatures: Self.dimensions, latentDimensions: section.latentDimensions)
            config.hiddenSizes = section.hiddenSizes
            // Dequantised pixels are continuous: the Bernoulli decoder's likelihood would not be a density.
            config.decoder = .gaussian
            config.conditionClasses = classCount
            model = .vae(try VAE(config: config, generator: &generator))
        case .nice:
            var config = NICEConfig(features: Self.dimensions)
            config.couplingLayers = section.couplingLayers
            config.hiddenSizes = section.hiddenSizes
            config.prior = section.prior.nice
            model = .nice(try NICE(config: config, generator: &generator))
        case .realnvp:
            var config = RealNVPConfig(inputShape: Self.imageShape)
            config.scales = section.scales
            config.checkerboardCouplings = section.checkerboardCouplings
            config.channelCouplings = section.channelCouplings
            config.finalCouplings = section.finalCouplings
            config.hiddenChannels = section.hiddenChannels
            model = .realNVP(try RealNVP(config: config, generator: &generator))
        case .glow:
            var config = GlowConfig(inputShape: Self.imageShape)
            config.levels = section.levels
            config.stepsPerLevel = section.stepsPerLevel
            config.hiddenChannels = section.hiddenChannels
            model = .glow(try Glow(config: config, generator: &generator))
        case .pixelcnn:
            var config = PixelCNNConfig(height: Self.imageShape[1], width: Self.imageShape[2], levels: levels)
            config.architecture = section.architecture.pixelCNN
            config.hiddenChannels = section.hiddenChannels
            config.layers = section.layers
            config.firstKernelSize = section.firstKernelSize
            config.kernelSize = section.kernelSize
            model = .pixelCNN(try PixelCNN(config: config, generator: &generator))
        case .ddpm:
            var network = DiffusionUNetConfig()
            network.baseChannels = section.hiddenChannels
            network.channelMultipliers = section.channelMultipliers
            network.groups = section.groups
            network.classes = classCount
            var config = DDPMConfig()
            config.schedule = section.noiseSchedule
            config.timesteps = section.timesteps
            config.betaStart = section.betaStart
            config.betaEnd = section.betaEnd
            config.variance = section.variance
            model = .ddpm(try DDPM(config: config, network: try DiffusionUNet(config: network, generator: &generator)))
        }
    }

    var module: any Module {
        switch model {
        case .vae(let vae): return vae
        case .nice(let nice): return nice
        case .realNVP(let flow): return flow
        case .glow(let glow): return glow
        case .pixelCNN(let pixelCNN): return pixelCNN
        case .ddpm(let ddpm): return ddpm
        }
    }

    /// `D log levels`: what a density on the dequantised cube gives up to a discrete probability.
    private var dequantizationNats: Float { Float(Double(Self.dimensions) * log(Double(levels))) }

    /// The training objective's per-image log-likelihood of `images` `[batch, 1, 8, 8]` in nats:
    /// exact (flows, PixelCNN) or the ELBO (VAE, with the reparameterisation `latentNoise`).
    /// `uniform` `[batch, 1, 8, 8]` is the dequantisation noise in [0, 1).
    func logLikelihood(_ images: Tensor, labels: [Int], uniform: Tensor, latentNoise: Tensor?) throws -> Tensor {
        let points = dequantized(images, uniform: uniform)
        switch model {
        case .vae(let vae):
            let flat = points.reshape([images.shape[0], Self.dimensions])
            let noise = latentNoise ?? Tensor.zeros([images.shape[0], vae.config.latentDimensions])
            return try vae.elbo(flat, labels: conditionLabels(labels), noise: noise) - dequantizationNats
        case .nice(let nice):
            return try nice.logLikelihood((points - 0.5).reshape([images.shape[0], Self.dimensions])) - dequantizationNats
        case .realNVP(let flow):
            return try flow.logLikelihood(points - 0.5) - dequantizationNats
        case .glow(let glow):
            return try glow.logLikelihood(points - 0.5) - dequantizationNats
        case .pixelCNN(let pixelCNN):
            return try pixelCNN.logLikelihood(images)
        case .ddpm:
            throw GenerativeError("a diffusion model has no tractable likelihood here; its objective is the ε-prediction loss")
        }
    }

    /// A diffusion model's simple loss of every row (`[batch]`, Ho et al. eq. 14): the mean squared
    /// error of the predicted noise at `timesteps`, on the dequantised `images` scaled to [−1, 1].
    func diffusionLoss(_ images: Tensor, labels: [Int], uniform: Tensor, timesteps: [Int], noise: Tensor) throws -> Tensor {
        guard case .ddpm(let ddpm) = model else { throw GenerativeError("diffusionLoss: the model is not a diffusion model") }
        return try ddpm.loss(dequantized(images, uniform: uniform) * 2 - 1, labels: conditionLabels(labels), timesteps: timesteps, noise: noise)
    }

    /// A diffusion model's samples `[count, 1, 8, 8]` in [−1, 1] from the initial noise `initial`.
    func diffusionSamples(from initial: Tensor, labels: [Int], sampling: DiffusionSampling,
                          generator: inout RandomGenerator) throws -> Tensor {
        guard case .ddpm(let ddpm) = model else { throw GenerativeError("diffusionSamples: the model is not a diffusion model") }
        let steps = sampling.steps ?? ddpm.schedule.timesteps
        switch sampling.sampler {
        case .ddpm:
            guard sampling.eta == 0 else {
                throw GenerativeError("eta \(sampling.eta) is the DDIM sampler's; the DDPM sampler's variance is the model's (\(ddpm.config.variance.rawValue))")
            }
            return try ddpm.sample(from: initial, labels: conditionLabels(labels), timesteps: try ddpm.schedule.samplingTimesteps(count: steps),
                                   generator: &generator)
        case .ddim:
            var ddim = DDIM()
            ddim.steps = steps
            ddim.eta = sampling.eta
            return try ddim.sample(ddpm, from: initial, labels: conditionLabels(labels), generator: &generator)
        }
    }

    /// Grey values `k / (levels − 1)` `[count, 64]` of continuous images in [0, 1]: the cell
    /// `(k + u) / levels` each value falls in (non-finite values are kept, so a failure shows).
    func quantized(_ continuous: Tensor) -> Tensor {
        let top = Float(levels - 1), count = continuous.shape[0]
        let values = continuous.reshape([count, Self.dimensions]).scalars.map { value -> Float in
            guard value.isFinite else { return value }
            return min(max((value * Float(levels)).rounded(.down), 0), top) / top
        }
        return Tensor(shape: [count, Self.dimensions], scalars: values)
    }

    /// The VAE's importance-weighted bound with `samples` latents per image (nats, `[batch]`); the
    /// other models' likelihood needs no latents.
    func importanceWeightedLogLikelihood(_ images: Tensor, labels: [Int], uniform: Tensor, samples: Int,
                                         generator: inout RandomGenerator) throws -> Tensor {
        guard case .vae(let vae) = model else { return try logLikelihood(images, labels: labels, uniform: uniform, latentNoise: nil) }
        let flat = dequantized(images, uniform: uniform).reshape([images.shape[0], Self.dimensions])
        return try vae.importanceWeightedBound(flat, labels: conditionLabels(labels), samples: samples, generator: &generator)
            - dequantizationNats
    }

    /// `(k + u) / levels` for the grey-level index `k` of every pixel.
    private func dequantized(_ images: Tensor, uniform: Tensor) -> Tensor {
        let top = Float(levels - 1)
        let indices = Tensor(shape: images.shape, scalars: images.scalars.map { ($0 * top).rounded() })
        return (indices + uniform) / Float(levels)
    }

    private func conditionLabels(_ labels: [Int]) -> [Int]? { classCount > 0 ? labels : nil }

    /// Glow's data-dependent actnorm initialisation, once, from `images` (the whole first global
    /// batch, which every process holds: the batch is a function of the seed and the step, so
    /// every process computes the same statistics without a collective). No-op for the others and
    /// once initialised (the flag is a buffer, so a resumed run keeps its actnorms).
    func initializeIfNeeded(_ images: Tensor, uniform: Tensor) throws {
        guard case .glow(let glow) = model, !glow.actnorms.allSatisfy(\.isInitialized) else { return }
        try glow.initializeActNorms(dequantized(images, uniform: uniform) - 0.5)
    }

    /// `count` digits `[count, 64]` with grey values `k / (levels − 1)`, at `temperature`; a
    /// conditional model draws digit `labels[i]` for row `i`; a diffusion model samples by `diffusion`.
    func sample(count: Int, labels: [Int], temperature: Float, diffusion: DiffusionSampling = DiffusionSampling(),
                generator: inout RandomGenerator) throws -> Tensor {
        try withoutGradients {
            let continuous: Tensor
            switch model {
            case .vae(let vae):
                guard temperature > 0, temperature.isFinite else {
                    throw GenerativeError("VAE sample: temperature must be positive and finite, got \(temperature)")
                }
                let z = Tensor.randomNormal([count, vae.config.latentDimensions], generator: &generator) * temperature
                continuous = try vae.decode(z, labels: conditionLabels(labels))
            case .nice(let nice):
                continuous = try nice.sample(count: count, temperature: temperature, generator: &generator) + 0.5
            case .realNVP(let flow):
                continuous = try flow.sample(count: count, temperature: temperature, generator: &generator) + 0.5
            case .glow(let glow):
                continuous = try glow.sample(count: count, temperature: temperature, generator: &generator) + 0.5
            case .pixelCNN(let pixelCNN):
                return try pixelCNN.sample(count: count, temperature: temperature, generator: &generator).reshape([count, Self.dimensions])
            case .ddpm:
                guard temperature == 1 else {
                    throw GenerativeError("a diffusion model has no sampling temperature (its noise is the chain's own), got \(temperature); DDIM's eta sets its stochasticity")
                }
                let initial = Tensor.randomNormal([count] + Self.imageShape, generator: &generator)
                continuous = (try diffusionSamples(from: initial, labels: labels, sampling: diffusion, generator: &generator) + 1) * 0.5
            }
            return quantized(continuous)
        }
    }
}

/// The digits with `levels` grey values: each of the 17 source values `g = 16 · pixel` becomes
/// `k = ⌊g · levels / 17⌋`, stored as `k / (levels − 1)`. 17 levels keeps the digits as they are.
func quantizedDigits(_ pixels: Tensor, levels: Int) -> Tensor {
    let scale = Float(levels) / (Digits.maximumGreyLevel + 1), top = Float(levels - 1)
    return Tensor(shape: pixels.shape, scalars: pixels.scalars.map { pixel in
        min(((pixel * Digits.maximumGreyLevel).rounded() * scale).rounded(.down), top) / top
    })
}

/// Bits per dimension of the independent-pixel baseline: each pixel's own categorical over the
/// `levels` grey values, fitted to `train` with add-one (Laplace) smoothing so no test value has
/// probability 0, and scored on `test` (both `[count, dimensions]`, values `k / (levels − 1)`).
/// The number every image model must beat: it knows each pixel's marginal, nothing of the others.
func independentPixelBitsPerDimension(train: Tensor, test: Tensor, levels: Int) -> Double {
    let dimensions = train.shape[1], top = Float(levels - 1)
    var counts = [Double](repeating: 1, count: dimensions * levels)
    for (index, value) in train.scalars.enumerated() {
        counts[(index % dimensions) * levels + Int((value * top).rounded())] += 1
    }
    let total = Double(train.shape[0] + levels)
    var bits = 0.0
    for (index, value) in test.scalars.enumerated() {
        bits -= log2(counts[(index % dimensions) * levels + Int((value * top).rounded())] / total)
    }
    return bits / Double(test.count)
}
