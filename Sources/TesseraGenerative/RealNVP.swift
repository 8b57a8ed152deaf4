import TesseraNN
import TesseraTensor

/// RealNVP (Dinh, Sohl-Dickstein & Bengio, "Density estimation using Real NVP", ICLR 2017): affine
/// coupling layers with checkerboard and channel masks, the squeeze, and the multi-scale
/// architecture (``MultiScaleFlow``). Over images `[batch, channels, height, width]`.
///
/// Each scale but the last is 3 checkerboard couplings, a squeeze, 3 channel couplings and a split;
/// the last scale is 4 checkerboard couplings (§3.6). The masks alternate, so every element is
/// transformed. The scale and shift networks are small convolutional nets here, not the paper's
/// residual networks with batch normalisation (whose running statistics would make the density
/// depend on the batch).
///
/// ```swift
/// let flow = try RealNVP(config: RealNVPConfig(inputShape: [1, 8, 8]), generator: &rng)
/// let bits = try bitsPerDimension(logLikelihood: flow.logLikelihood(y), dimensions: 64, levels: 17)
/// ```
public struct RealNVPConfig: Equatable, Sendable {
    /// `[channels, height, width]`; height and width must be divisible by `2^(scales − 1)`.
    public var inputShape: [Int]
    /// Levels of the multi-scale architecture.
    public var scales: Int = 2
    /// Checkerboard couplings before each squeeze (the paper: 3).
    public var checkerboardCouplings: Int = 3
    /// Channel couplings after each squeeze (the paper: 3).
    public var channelCouplings: Int = 3
    /// Checkerboard couplings of the last scale (the paper: 4).
    public var finalCouplings: Int = 4
    /// Channels of the hidden layers of the scale and shift networks.
    public var hiddenChannels: Int = 32

    public init(inputShape: [Int]) {
        self.inputShape = inputShape
    }
}

/// Which elements an ``AffineCoupling`` passes through unchanged.
public enum CouplingMask: Equatable, Sendable {
    /// Elements with `(h + w + parity)` even, the spatial checkerboard (RealNVP Fig. 3, left).
    case checkerboard(parity: Int)
    /// The first half of the channels (`parity` 0) or the second (`parity` 1) (Fig. 3, right).
    case channel(parity: Int)

    /// `[1, channels, height, width]`, 1 where the input is kept.
    func tensor(channels: Int, height: Int, width: Int) -> Tensor {
        Tensor(shape: [1, channels, height, width]) { flat in
            let c = flat / (height * width), h = (flat / width) % height, w = flat % width
            switch self {
            case .checkerboard(let parity): return (h + w + parity) % 2 == 0 ? 1 : 0
            case .channel(let parity): return (c < channels / 2) == (parity == 0) ? 1 : 0
            }
        }
    }
}

/// `y = m ⊙ x + (1 − m) ⊙ (x ⊙ exp(s(m ⊙ x)) + t(m ⊙ x))` (RealNVP eq. 9), with
/// `s = scale ⊙ tanh(·)` bounded as in the paper's code; `log |det J| = Σ (1 − m) ⊙ s`.
public final class AffineCoupling: FlowLayer {
    public let mask: CouplingMask
    public let channels: Int
    public let first: Conv2d
    public let second: Conv2d
    /// Outputs `2·channels`: the raw log-scales, then the shifts.
    public let last: Conv2d
    /// `[channels]`, the bound of each channel's log-scale; starts at 1.
    public let scale: Tensor

    public init(channels: Int, hiddenChannels: Int, mask: CouplingMask, generator: inout RandomGenerator) {
        self.mask = mask
        self.channels = channels
        first = Conv2d(channels, hiddenChannels, kernelSize: 3, padding: 1, generator: &generator)
        second = Conv2d(hiddenChannels, hiddenChannels, kernelSize: 3, padding: 1, generator: &generator)
        last = Conv2d(hiddenChannels, 2 * channels, kernelSize: 3, padding: 1, generator: &generator)
        scale = Tensor.ones([channels]).requiringGradient()
    }

    /// The masked log-scales and shifts, from the kept elements only.
    private func scaleAndShift(_ input: Tensor) throws -> (logScale: Tensor, shift: Tensor, keep: Tensor) {
        try checkRank(input, 4, "AffineCoupling", "[batch, \(channels), height, width]")
        guard input.shape[1] == channels else {
            throw GenerativeError("AffineCoupling: expected input [batch, \(channels), height, width], got shape \(input.shape)")
        }
        if case .channel = mask, channels < 2 {
            throw GenerativeError("AffineCoupling: a channel mask needs at least 2 channels, got \(channels)")
        }
        let keep = mask.tensor(channels: channels, height: input.shape[2], width: input.shape[3])
        let hidden = second(first(input * keep).relu()).relu()
        let parts = last(hidden).chunked(2, alongAxis: 1)
        let change = 1 - keep
        let logScale = parts[0].tanh() * scale.reshape([1, channels, 1, 1]) * change
        return (logScale, parts[1] * change, keep)
    }

    public func forward(_ input: Tensor) throws -> (output: Tensor, logDeterminant: Tensor) {
        let (logScale, shift, _) = try scaleAndShift(input)
        return (input * logScale.exp() + shift, logScale.sum(alongAxes: [1, 2, 3]))
    }

    public func inverse(_ output: Tensor) throws -> Tensor {
        // The kept elements of y are those of x, so s and t are recomputed from y.
        let (logScale, shift, _) = try scaleAndShift(output)
        return (output - shift) * (-logScale).exp()
    }
}

public final class RealNVP: Module {
    public let config: RealNVPConfig
    public let flow: MultiScaleFlow

    public init(config: RealNVPConfig, generator: inout RandomGenerator) throws {
        guard config.scales >= 1 else { throw GenerativeError("RealNVP: scales must be at least 1, got \(config.scales)") }
        guard config.checkerboardCouplings >= 0, config.channelCouplings >= 0, config.finalCouplings >= 1 else {
            throw GenerativeError("RealNVP: coupling counts must be non-negative (finalCouplings at least 1), got \(config.checkerboardCouplings), \(config.channelCouplings), \(config.finalCouplings)")
        }
        guard config.hiddenChannels > 0 else { throw GenerativeError("RealNVP: hiddenChannels must be positive, got \(config.hiddenChannels)") }
        guard config.inputShape.count == 3 else {
            throw GenerativeError("RealNVP: expected inputShape [channels, height, width], got \(config.inputShape)")
        }
        let factor = 1 << (config.scales - 1)
        guard config.inputShape[1] % factor == 0, config.inputShape[2] % factor == 0 else {
            throw GenerativeError("RealNVP: an image of \(config.inputShape[1]) × \(config.inputShape[2]) cannot be squeezed \(config.scales - 1) times (height and width must be divisible by \(factor))")
        }
        self.config = config
        var channels = config.inputShape[0]
        var levels: [[any FlowLayer]] = []
        for scale in 0..<config.scales {
            var level: [any FlowLayer] = []
            let isLast = scale == config.scales - 1
            for index in 0..<(isLast ? config.finalCouplings : config.checkerboardCouplings) {
                level.append(AffineCoupling(channels: channels, hiddenChannels: config.hiddenChannels,
                                            mask: .checkerboard(parity: index % 2), generator: &generator))
            }
            if !isLast {
                level.append(Squeeze())
                channels *= 4
                for index in 0..<config.channelCouplings {
                    level.append(AffineCoupling(channels: channels, hiddenChannels: config.hiddenChannels,
                                                mask: .channel(parity: index % 2), generator: &generator))
                }
                channels /= 2
            }
            levels.append(level)
        }
        flow = try MultiScaleFlow(levels: levels, inputShape: config.inputShape, model: "RealNVP")
    }

    /// `log p(x)` in nats, `[batch]`, of images `[batch, channels, height, width]`.
    public func logLikelihood(_ input: Tensor) throws -> Tensor { try flow.logLikelihood(input) }

    /// `count` images from latents drawn at temperature `T`.
    public func sample(count: Int, temperature: Float = 1, generator: inout RandomGenerator) throws -> Tensor {
        try flow.sample(count: count, temperature: temperature, generator: &generator)
    }
}
