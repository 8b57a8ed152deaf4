import Foundation
import TesseraNN
import TesseraTensor

/// Denoising diffusion probabilistic models (Ho, Jain & Abbeel, "Denoising Diffusion Probabilistic
/// Models", NeurIPS 2020). A network `ε_θ(x_t, t)` learns to predict the noise that
/// ``NoiseSchedule/noised(_:timesteps:noise:)`` mixed into `x_0`, by the simple loss (eq. 14)
///
///     L_simple = E_{t, x_0, ε} ‖ε − ε_θ(√ᾱ_t x_0 + √(1 − ᾱ_t) ε, t)‖²,
///
/// and samples by ancestral sampling (Algorithm 2) from `x_T ~ N(0, I)`:
///
///     x_{t−1} = 1/√α_t (x_t − β_t/√(1 − ᾱ_t) ε_θ(x_t, t)) + σ_t z,
///
/// with either of the paper's variances (§3.2): `σ_t² = β_t` (``DDPMVariance/beta``, the upper
/// bound, optimal for `x_0 ~ N(0, I)`) or `σ_t² = β̃_t` (``DDPMVariance/posterior``, the lower
/// bound, optimal for a deterministic `x_0`), no noise at the last step.
///
/// The step is written as the posterior `q(x_{t−1} | x_t, x̂_0)` (eq. 7) at the clean image the
/// prediction implies, `x̂_0 = (x_t − √(1 − ᾱ_t) ε̂)/√ᾱ_t`, which is the same mean unless `x̂_0`
/// is clipped to the data range `[−1, 1]`. Ho et al.'s released code clips (as diffusers'
/// `DDPMScheduler` does by default), Algorithm 2 does not: ``DDPMConfig/clipDenoised`` chooses,
/// and the default follows the code, which gives cleaner samples in few training steps. Written
/// this way the step also serves a sub-sequence of timesteps (a respaced chain: `α_t` becomes
/// `ᾱ_t / ᾱ_previous`), as diffusers does.
///
/// With `DiffusionUNetConfig.classes > 0` the network sees the label too: class-conditional
/// training and sampling (the label embedding added to the time embedding).
///
/// ```swift
/// let ddpm = try DDPM(config: DDPMConfig(), network: try DiffusionUNet(config: DiffusionUNetConfig(), generator: &rng))
/// let loss = try ddpm.loss(images, generator: &rng).mean()   // images in [−1, 1]
/// let samples = try ddpm.sample(count: 16, generator: &rng)
/// ```
public struct DDPMConfig: Equatable, Sendable {
    /// The β schedule.
    public var schedule: NoiseScheduleKind = .linear
    /// `T`, the steps of the forward process (1000 in the paper).
    public var timesteps: Int = 1000
    /// Linear schedule only: `β` at the first and last step (the paper's 10⁻⁴ and 0.02 for T = 1000).
    public var betaStart: Double = 1e-4
    public var betaEnd: Double = 0.02
    /// The variance of the reverse steps.
    public var variance: DDPMVariance = .beta
    /// Clamps every predicted `x̂_0` to `[−1, 1]` (the data range) while sampling.
    public var clipDenoised: Bool = true

    public init() {}

    /// The schedule these settings describe.
    public func makeSchedule() throws -> NoiseSchedule {
        switch schedule {
        case .linear: return try NoiseSchedule.linear(timesteps: timesteps, betaStart: betaStart, betaEnd: betaEnd)
        case .cosine: return try NoiseSchedule.cosine(timesteps: timesteps)
        }
    }
}

/// Which β schedule a ``NoiseSchedule`` is built from.
public enum NoiseScheduleKind: String, Codable, CaseIterable, Sendable {
    /// Ho et al. 2020: β evenly spaced.
    case linear
    /// Nichol & Dhariwal 2021: `ᾱ` follows a squared cosine.
    case cosine
}

/// `σ_t²` of DDPM's reverse steps (Ho et al. 2020, §3.2).
public enum DDPMVariance: String, Codable, CaseIterable, Sendable {
    /// `σ_t² = β_t` (diffusers' `fixed_large`).
    case beta
    /// `σ_t² = β̃_t = (1 − ᾱ_{t−1})/(1 − ᾱ_t) β_t`, the forward posterior's (diffusers' `fixed_small`).
    case posterior
}

extension NoiseSchedule {
    /// One reverse step from `sample` `x_t` at `timestep` to `previous` (−1: the data), with the
    /// network's `predictedNoise` and the step's standard-normal `noise` (unused at the last
    /// step): the posterior mean at `x̂_0` (clamped to `[−clip, clip]` when `clip` is given) plus
    /// `σ z`. Equals diffusers' `DDPMScheduler.step`.
    public func ddpmStep(predictedNoise: Tensor, timestep t: Int, previous: Int, sample: Tensor, noise: Tensor,
                         variance: DDPMVariance, clip: Float? = 1) throws -> Tensor {
        try checkStep(predictedNoise: predictedNoise, timestep: t, previous: previous, sample: sample, noise: noise, op: "ddpmStep")
        let (current, before) = (alphaBar(t), alphaBar(previous))
        let alpha = current / before, beta = 1 - alpha
        let clean = predictedClean(sample: sample, predictedNoise: predictedNoise, timestep: t, clip: clip)
        // Ho et al., eq. 7: μ̃ = √ᾱ_{t−1} β_t/(1 − ᾱ_t) x_0 + √α_t (1 − ᾱ_{t−1})/(1 − ᾱ_t) x_t.
        let mean = clean * Float(sqrt(before) * beta / (1 - current)) + sample * Float(sqrt(alpha) * (1 - before) / (1 - current))
        guard previous >= 0 else { return mean }
        let varianceValue = variance == .beta ? beta : max(posteriorVariance(t, previous: previous), 1e-20)
        return mean + noise * Float(sqrt(varianceValue))
    }

    func checkStep(predictedNoise: Tensor, timestep t: Int, previous: Int, sample: Tensor, noise: Tensor?, op: String) throws {
        try checkTimesteps([t], op: op)
        guard previous >= -1, previous < t else {
            throw GenerativeError("\(op): the previous timestep must lie in -1..<\(t) (−1 is the data), got \(previous)")
        }
        guard predictedNoise.shape == sample.shape, noise.map({ $0.shape == sample.shape }) ?? true else {
            throw GenerativeError("\(op): the predicted noise \(predictedNoise.shape), the sample \(sample.shape) and the noise \(noise?.shape ?? sample.shape) must share one shape")
        }
    }
}

public final class DDPM: Module {
    public let config: DDPMConfig
    public let schedule: NoiseSchedule
    /// `ε_θ(x_t, t)`.
    public let network: DiffusionUNet

    public init(config: DDPMConfig, network: DiffusionUNet) throws {
        self.config = config
        schedule = try config.makeSchedule()
        self.network = network
    }

    /// Whether the network sees labels (one per row, in training and sampling).
    public var isConditional: Bool { network.config.classes > 0 }

    /// `ε_θ(x_t, t)` for one timestep per row (fractional timesteps are allowed: the ODE view uses them).
    public func predictedNoise(_ noisy: Tensor, timesteps: [Double], labels: [Int]? = nil) throws -> Tensor {
        try network(noisy, timesteps: Tensor(timesteps.map(Float.init)), labels: labels)
    }

    /// The simple loss of every row, `[batch]`: the mean over pixels of `(ε − ε_θ(x_t, t))²` with
    /// `x_t` the closed-form noising of `clean` (in `[−1, 1]`) at `timesteps` with `noise`.
    public func loss(_ clean: Tensor, labels: [Int]? = nil, timesteps: [Int], noise: Tensor) throws -> Tensor {
        let noisy = try schedule.noised(clean, timesteps: timesteps, noise: noise)
        let error = try predictedNoise(noisy, timesteps: timesteps.map(Double.init), labels: labels) - noise
        return (error * error).mean(alongAxes: Array(1..<clean.rank))
    }

    /// The simple loss with `t` uniform in `0 ..< T` and `ε ~ N(0, I)` drawn for every row.
    public func loss(_ clean: Tensor, labels: [Int]? = nil, generator: inout RandomGenerator) throws -> Tensor {
        guard clean.rank >= 1, clean.shape[0] > 0 else { throw GenerativeError("DDPM.loss: expected a batch [batch, …], got shape \(clean.shape)") }
        let timesteps = (0..<clean.shape[0]).map { _ in generator.nextInt(below: schedule.timesteps) }
        return try loss(clean, labels: labels, timesteps: timesteps, noise: Tensor.randomNormal(clean.shape, generator: &generator))
    }

    /// Ancestral sampling (Algorithm 2) from `initial` `x_T` along `timesteps` (descending; the
    /// full chain `T − 1 … 0` by default, a sub-sequence from ``NoiseSchedule/samplingTimesteps(count:)``
    /// for a respaced chain), with `variance` (the config's by default).
    public func sample(from initial: Tensor, labels: [Int]? = nil, timesteps: [Int]? = nil, variance: DDPMVariance? = nil,
                       generator: inout RandomGenerator) throws -> Tensor {
        let path = timesteps ?? Array((0..<schedule.timesteps).reversed())
        try checkPath(path, op: "DDPM.sample")
        return try withoutGradients {
            var sample = initial
            for (index, t) in path.enumerated() {
                let previous = index + 1 < path.count ? path[index + 1] : -1
                let predicted = try predictedNoise(sample, timesteps: Array(repeating: Double(t), count: sample.shape[0]), labels: labels)
                let noise = previous >= 0 ? Tensor.randomNormal(sample.shape, generator: &generator) : Tensor.zeros(sample.shape)
                sample = try schedule.ddpmStep(predictedNoise: predicted, timestep: t, previous: previous, sample: sample, noise: noise,
                                               variance: variance ?? config.variance, clip: config.clipDenoised ? 1 : nil)
            }
            return sample
        }
    }

    /// `count` samples `[count, channels, side, side]` in `[−1, 1]` (clipped) from fresh `x_T`.
    public func sample(count: Int, side: Int = 8, labels: [Int]? = nil, timesteps: [Int]? = nil,
                       generator: inout RandomGenerator) throws -> Tensor {
        guard count > 0 else { throw GenerativeError("DDPM.sample: count must be positive, got \(count)") }
        let initial = Tensor.randomNormal([count, network.config.imageChannels, side, side], generator: &generator)
        return try sample(from: initial, labels: labels, timesteps: timesteps, generator: &generator).clamp(min: -1, max: 1)
    }

    /// A sampling path must descend strictly within `0 ..< T`.
    func checkPath(_ path: [Int], op: String) throws {
        guard !path.isEmpty else { throw GenerativeError("\(op): the sampling path needs at least one timestep") }
        try schedule.checkTimesteps(path, op: op)
        guard zip(path, path.dropFirst()).allSatisfy({ $0 > $1 }) else {
            throw GenerativeError("\(op): the sampling timesteps must strictly decrease, got \(path.prefix(8))…")
        }
    }
}
