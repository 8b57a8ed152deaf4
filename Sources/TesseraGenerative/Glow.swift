import TesseraNN
import TesseraTensor

/// Glow (Kingma & Dhariwal, "Glow: Generative Flow with Invertible 1×1 Convolutions", NeurIPS 2018):
/// the multi-scale architecture of RealNVP (``MultiScaleFlow``) whose levels are a squeeze and `K`
/// steps of flow — ``ActNorm``, ``InvertibleConvolution1x1``, ``GlowCoupling`` — followed by a split.
///
/// The factored-out latents get the standard Gaussian (the paper learns a conditional prior for
/// them from the other half; left out, so every flow here shares one prior).
///
/// ```swift
/// let glow = try Glow(config: GlowConfig(inputShape: [1, 8, 8]), generator: &rng)
/// let loss = -(try glow.logLikelihood(y)).mean()      // the first call initialises the actnorms
/// let samples = try glow.sample(count: 16, temperature: 0.7, generator: &rng)
/// ```
public struct GlowConfig: Equatable, Sendable {
    /// `[channels, height, width]`; height and width must be divisible by `2^levels`.
    public var inputShape: [Int]
    /// Levels `L`, each starting with a squeeze.
    public var levels: Int = 2
    /// Steps of flow per level `K` (the paper: 32).
    public var stepsPerLevel: Int = 4
    /// Channels of the hidden layers of each coupling's network (the paper: 512).
    public var hiddenChannels: Int = 64
    /// Zero-initialise each coupling's last convolution so that it starts as the identity (§3.3).
    public var zeroInitializeCouplings: Bool = true

    public init(inputShape: [Int]) {
        self.inputShape = inputShape
    }
}

/// Glow's affine coupling (§3.3, Table 1): split the channels `x = [xa, xb]`, then
/// `(log s̃, t) = NN(xa)`, `s = sigmoid(log s̃ + 2)`, `yb = (xb + t) ⊙ s`, `ya = xa`;
/// `log |det J| = Σ log s`. The sigmoid keeps the scale in (0, 1), as the paper's code does.
public final class GlowCoupling: FlowLayer {
    public let channels: Int
    public let first: Conv2d
    public let second: Conv2d
    /// Outputs `channels`: the raw log-scales of `xb`, then its shifts.
    public let last: Conv2d

    public init(channels: Int, hiddenChannels: Int, zeroInitialize: Bool, generator: inout RandomGenerator) throws {
        guard channels >= 2, channels % 2 == 0 else {
            throw GenerativeError("GlowCoupling: channels must be even and at least 2 to split in half, got \(channels)")
        }
        self.channels = channels
        first = Conv2d(channels / 2, hiddenChannels, kernelSize: 3, padding: 1, generator: &generator)
        second = Conv2d(hiddenChannels, hiddenChannels, kernelSize: 1, generator: &generator)
        last = Conv2d(hiddenChannels, channels, kernelSize: 3, padding: 1, generator: &generator)
        if zeroInitialize {
            last.weight.assign(Tensor.zeros(last.weight.shape))
            last.bias?.assign(Tensor.zeros([channels]))
        }
    }

    private func split(_ input: Tensor) throws -> (kept: Tensor, changed: Tensor, logScale: Tensor, shift: Tensor) {
        guard input.rank == 4, input.shape[1] == channels else {
            throw GenerativeError("GlowCoupling: expected input [batch, \(channels), height, width], got shape \(input.shape)")
        }
        let halves = input.chunked(2, alongAxis: 1)
        let parts = last(second(first(halves[0]).relu()).relu()).chunked(2, alongAxis: 1)
        // log sigmoid(a) = −softplus(−a), stable for large |a|.
        let logScale = -(-(parts[0] + 2)).softplus()
        return (halves[0], halves[1], logScale, parts[1])
    }

    public func forward(_ input: Tensor) throws -> (output: Tensor, logDeterminant: Tensor) {
        let (kept, changed, logScale, shift) = try split(input)
        let output = Tensor.concatenate([kept, (changed + shift) * logScale.exp()], alongAxis: 1)
        return (output, logScale.sum(alongAxes: [1, 2, 3]))
    }

    public func inverse(_ output: Tensor) throws -> Tensor {
        let (kept, changed, logScale, shift) = try split(output)
        return Tensor.concatenate([kept, changed * (-logScale).exp() - shift], alongAxis: 1)
    }
}

/// One step of flow: actnorm, then the invertible 1×1 convolution, then the affine coupling.
public final class GlowStep: FlowLayer {
    public let actnorm: ActNorm
    public let convolution: InvertibleConvolution1x1
    public let coupling: GlowCoupling

    public init(channels: Int, hiddenChannels: Int, zeroInitialize: Bool, generator: inout RandomGenerator) throws {
        actnorm = ActNorm(channels: channels)
        convolution = try InvertibleConvolution1x1(channels: channels, generator: &generator)
        coupling = try GlowCoupling(channels: channels, hiddenChannels: hiddenChannels, zeroInitialize: zeroInitialize, generator: &generator)
    }

    private var layers: [any FlowLayer] { [actnorm, convolution, coupling] }

    public func forward(_ input: Tensor) throws -> (output: Tensor, logDeterminant: Tensor) {
        try composeForward(layers, input, model: "GlowStep")
    }

    public func inverse(_ output: Tensor) throws -> Tensor {
        try composeInverse(layers, output)
    }
}

public final class Glow: Module {
    public let config: GlowConfig
    public let flow: MultiScaleFlow

    public init(config: GlowConfig, generator: inout RandomGenerator) throws {
        guard config.levels >= 1 else { throw GenerativeError("Glow: levels must be at least 1, got \(config.levels)") }
        guard config.stepsPerLevel >= 1 else { throw GenerativeError("Glow: stepsPerLevel must be at least 1, got \(config.stepsPerLevel)") }
        guard config.hiddenChannels > 0 else { throw GenerativeError("Glow: hiddenChannels must be positive, got \(config.hiddenChannels)") }
        guard config.inputShape.count == 3 else {
            throw GenerativeError("Glow: expected inputShape [channels, height, width], got \(config.inputShape)")
        }
        let factor = 1 << config.levels
        guard config.inputShape[1] % factor == 0, config.inputShape[2] % factor == 0 else {
            throw GenerativeError("Glow: an image of \(config.inputShape[1]) × \(config.inputShape[2]) cannot be squeezed \(config.levels) times (height and width must be divisible by \(factor))")
        }
        self.config = config
        var channels = config.inputShape[0]
        var levels: [[any FlowLayer]] = []
        for level in 0..<config.levels {
            channels *= 4
            var layers: [any FlowLayer] = [Squeeze()]
            for _ in 0..<config.stepsPerLevel {
                layers.append(try GlowStep(channels: channels, hiddenChannels: config.hiddenChannels,
                                           zeroInitialize: config.zeroInitializeCouplings, generator: &generator))
            }
            levels.append(layers)
            if level < config.levels - 1 { channels /= 2 }
        }
        flow = try MultiScaleFlow(levels: levels, inputShape: config.inputShape, model: "Glow")
    }

    /// Every actnorm, in the order the data reaches them (for a data-parallel initialisation).
    public var actnorms: [ActNorm] {
        flow.levels.flatMap { $0.compactMap { ($0 as? GlowStep)?.actnorm } }
    }

    /// The data-dependent initialisation of every actnorm, in order, each from the statistics of
    /// its input over the global batch: this process's ``ActNorm/moments(_:)`` go through
    /// `sumOverProcesses` (an allreduce, filled in by a data-parallel trainer; the identity for one
    /// process), so every process sets the same parameters. Model code never calls a collective itself.
    public func initializeActNorms(_ batch: Tensor, sumOverProcesses: ([Double]) throws -> [Double] = { $0 }) throws {
        try flow.checkInput(batch)
        var x = batch
        try withoutGradients {
            for (index, level) in flow.levels.enumerated() {
                for layer in level {
                    if let step = layer as? GlowStep {
                        let local = try step.actnorm.moments(x)
                        let global = try sumOverProcesses(local)
                        guard global.count == local.count else {
                            throw GenerativeError("Glow.initializeActNorms: sumOverProcesses returned \(global.count) values for \(local.count)")
                        }
                        try step.actnorm.initialize(moments: global)
                    }
                    x = try layer.forward(x).output
                }
                if index < flow.levels.count - 1 { x = x.chunked(2, alongAxis: 1)[0] }
            }
        }
    }

    /// `log p(x)` in nats, `[batch]`, of images `[batch, channels, height, width]`.
    public func logLikelihood(_ input: Tensor) throws -> Tensor { try flow.logLikelihood(input) }

    /// `count` images from latents drawn at temperature `T`.
    public func sample(count: Int, temperature: Float = 1, generator: inout RandomGenerator) throws -> Tensor {
        guard actnorms.allSatisfy(\.isInitialized) else {
            throw GenerativeError("Glow.sample: the actnorms are not initialised (run logLikelihood on a batch of data first)")
        }
        return try flow.sample(count: count, temperature: temperature, generator: &generator)
    }
}
