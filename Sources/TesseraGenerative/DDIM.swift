import Foundation
import TesseraNN
import TesseraTensor

/// Denoising diffusion implicit models (Song, Meng & Ermon, "Denoising Diffusion Implicit Models",
/// ICLR 2021): a family of non-Markovian forward processes with the same marginals
/// `q(x_t | x_0)` as DDPM's, so a network trained by DDPM's loss serves them all. Its reverse
/// step (eq. 12) from `x_t` to an earlier `x_s` is
///
///     x_s = √ᾱ_s x̂_0 + √(1 − ᾱ_s − σ²) ε̂ + σ z,   x̂_0 = (x_t − √(1 − ᾱ_t) ε̂)/√ᾱ_t,
///     σ = η √((1 − ᾱ_s)/(1 − ᾱ_t)) √(1 − ᾱ_t/ᾱ_s)                        (eq. 16),
///
/// so `η = 0` is deterministic (the DDIM proper) and `η = 1` has DDPM's posterior variance `β̃`
/// (and, with the same `x̂_0`, DDPM's mean). Since the step only needs `ᾱ` at both ends, it runs
/// on any sub-sequence of timesteps (§4.2: "accelerated generation"), here
/// ``NoiseSchedule/samplingTimesteps(count:)``.
///
/// With `η = 0` the map `x_T → x_0` is a function, hence the consistency the paper observes (§5.3):
/// samples from one `x_T` with different step counts share their high-level features; and
/// interpolating `x_T` by ``slerp(_:_:steps:)`` interpolates the samples semantically (§5.4).
///
/// The ODE view (§4.3, eq. 13–14): in `σ = √(1 − ᾱ)/√ᾱ` and `x̄ = x/√ᾱ` the η = 0 step is
/// exactly the Euler step `x̄_s = x̄_t + (σ_s − σ_t) ε_θ(x_t, t)` of
/// `dx̄/dσ = ε_θ(x̄/√(σ² + 1), t(σ))` (``ProbabilityFlow``), which other ODE solvers integrate too.
///
/// Classifier guidance is Dhariwal & Nichol's ("Diffusion Models Beat GANs on Image Synthesis",
/// NeurIPS 2021, Algorithm 2) for DDIM, not in Song et al.: `ε̂ ← ε̂ − √(1 − ᾱ_t) s ∇ log p_φ(y | x_t)`
/// with a classifier trained on noisy inputs (``NoisyClassifier``).
///
/// ```swift
/// var sampler = DDIM()
/// sampler.steps = 20            // of T = 1000
/// sampler.eta = 0
/// let samples = try sampler.sample(ddpm, from: Tensor.randomNormal([16, 1, 8, 8], generator: &rng), generator: &rng)
/// ```
public struct DDIM: Equatable, Sendable {
    /// Sampling steps, a sub-sequence of the model's `T` (at most `T`).
    public var steps: Int = 50
    /// The stochasticity `η ≥ 0` of eq. 16: 0 deterministic, 1 DDPM's posterior variance.
    public var eta: Double = 0
    /// Clamps every predicted `x̂_0` to `[−1, 1]` (as the DDPM sampler; diffusers' default).
    public var clipDenoised: Bool = true

    public init() {}

    /// Samples from `initial` `x_T` `[batch, channels, H, W]`, guided by `guidance` when given.
    public func sample(_ model: DDPM, from initial: Tensor, labels: [Int]? = nil, guidance: ClassifierGuidance? = nil,
                       generator: inout RandomGenerator) throws -> Tensor {
        guard eta >= 0, eta.isFinite else { throw GenerativeError("DDIM: eta must be non-negative and finite, got \(eta)") }
        let path = try model.schedule.samplingTimesteps(count: steps)
        if let guidance { try guidance.check(model, labels: labels, batch: initial.shape[0]) }
        return try withoutGradients {
            var sample = initial
            for (index, t) in path.enumerated() {
                let previous = index + 1 < path.count ? path[index + 1] : -1
                let times = Array(repeating: Double(t), count: sample.shape[0])
                var predicted = try model.predictedNoise(sample, timesteps: times, labels: labels)
                if let guidance, let labels {
                    predicted = try guidance.guidedNoise(predicted, sample: sample, timestep: t, labels: labels, schedule: model.schedule)
                }
                let noise = eta > 0 && previous >= 0 ? Tensor.randomNormal(sample.shape, generator: &generator) : nil
                sample = try model.schedule.ddimStep(predictedNoise: predicted, timestep: t, previous: previous, sample: sample,
                                                     eta: eta, noise: noise, clip: clipDenoised ? 1 : nil)
            }
            return sample
        }
    }
}

extension NoiseSchedule {
    /// `σ` of the step `t → previous` at `eta` (Song et al., eq. 16).
    public func ddimStandardDeviation(_ t: Int, previous: Int, eta: Double) -> Double {
        eta * sqrt(posteriorVariance(t, previous: previous))
    }

    /// One DDIM step (eq. 12) from `sample` at `timestep` to `previous` (−1: the data, `ᾱ = 1`),
    /// with `noise` `z` (needed when `eta > 0`); `x̂_0` is clamped to `[−clip, clip]` when `clip`
    /// is given, and the direction term uses the network's `ε̂` as it is. Equals diffusers'
    /// `DDIMScheduler.step`.
    public func ddimStep(predictedNoise: Tensor, timestep t: Int, previous: Int, sample: Tensor, eta: Double,
                         noise: Tensor?, clip: Float? = 1) throws -> Tensor {
        try checkStep(predictedNoise: predictedNoise, timestep: t, previous: previous, sample: sample, noise: noise, op: "ddimStep")
        guard eta >= 0, eta.isFinite else { throw GenerativeError("ddimStep: eta must be non-negative and finite, got \(eta)") }
        let before = alphaBar(previous)
        let sigma = ddimStandardDeviation(t, previous: previous, eta: eta)
        let clean = predictedClean(sample: sample, predictedNoise: predictedNoise, timestep: t, clip: clip)
        let direction = predictedNoise * Float(sqrt(max(1 - before - sigma * sigma, 0)))
        let mean = clean * Float(sqrt(before)) + direction
        guard sigma > 0 else { return mean }
        guard let noise else { throw GenerativeError("ddimStep: eta = \(eta) > 0 draws noise, but none was given") }
        return mean + noise * Float(sigma)
    }
}

/// Spherical interpolation between two initial noises `[1, …]` (Song et al. 2021, §5.4; Shoemake
/// 1985): `sin((1 − α)θ)/sin θ · a + sin(αθ)/sin θ · b` with `θ` the angle between them (flattened),
/// so every point keeps about the norm a Gaussian sample has (a straight line would pass through
/// unlikely low-norm noise); `[steps, …]` for `steps` fractions `α` evenly from 0 to 1.
public func slerp(_ start: Tensor, _ end: Tensor, steps: Int) throws -> Tensor {
    guard start.shape == end.shape, start.rank >= 2, start.shape[0] == 1, start.count > 0 else {
        throw GenerativeError("slerp: expected two noises of one shape [1, …], got \(start.shape) and \(end.shape)")
    }
    guard steps >= 2 else { throw GenerativeError("slerp: steps must be at least 2, got \(steps)") }
    let (a, b) = (start.scalars.map(Double.init), end.scalars.map(Double.init))
    let dot = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
    let norms = sqrt(a.reduce(0) { $0 + $1 * $1 }) * sqrt(b.reduce(0) { $0 + $1 * $1 })
    guard norms > 0 else { throw GenerativeError("slerp: a noise of norm 0 has no direction") }
    let theta = acos(min(max(dot / norms, -1), 1))
    var rows: [Float] = []
    for step in 0..<steps {
        let fraction = Double(step) / Double(steps - 1)
        // Parallel noises (θ ≈ 0): the straight line is the limit.
        let (wa, wb) = theta < 1e-6 ? (1 - fraction, fraction) : (sin((1 - fraction) * theta) / sin(theta), sin(fraction * theta) / sin(theta))
        rows += zip(a, b).map { Float(wa * $0 + wb * $1) }
    }
    return Tensor(shape: [steps] + start.shape.dropFirst(), scalars: rows)
}

/// DDIM's probability-flow ODE (Song et al. 2021, eq. 14) in `σ = √(1 − ᾱ)/√ᾱ` and `x̄ = x/√ᾱ`:
/// `dx̄/dσ = ε_θ(x̄/√(σ² + 1), t(σ))`, with `t(σ)` the timestep whose `σ` it is, interpolated
/// linearly between the schedule's integer timesteps (the network takes fractional ones).
/// Integrated from `σ(T − 1)` down to 0 it maps `x_T` to a sample, as the η = 0 DDIM does; the
/// DDIM step is one Euler step of it (``eulerStep(sample:timestep:previous:labels:)``).
public struct ProbabilityFlow {
    public let model: DDPM
    public let labels: [Int]?
    /// `σ_t` for `t` in `0 ..< T`, increasing.
    public let sigmas: [Double]

    public init(model: DDPM, labels: [Int]? = nil) {
        self.model = model
        self.labels = labels
        sigmas = model.schedule.alphasCumulative.map { sqrt((1 - $0) / $0) }
    }

    /// `σ` at timestep `t` (−1: the data, σ = 0).
    public func sigma(_ t: Int) -> Double { t < 0 ? 0 : sigmas[t] }

    /// The fractional timestep of `sigma`: linear between neighbouring integer timesteps, 0 below `σ_0`.
    public func timestep(sigma: Double) -> Double {
        guard sigma > sigmas[0] else { return 0 }
        guard sigma < sigmas[sigmas.count - 1] else { return Double(sigmas.count - 1) }
        var (low, high) = (0, sigmas.count - 1)
        while high - low > 1 {
            let middle = (low + high) / 2
            if sigmas[middle] <= sigma { low = middle } else { high = middle }
        }
        return Double(low) + (sigma - sigmas[low]) / (sigmas[high] - sigmas[low])
    }

    /// `dx̄/dσ` at `sigma` for the scaled state `x̄` `[batch, …]`.
    public func derivative(sigma: Double, scaled: Tensor) throws -> Tensor {
        let sample = scaled * Float(1 / sqrt(sigma * sigma + 1))
        return try model.predictedNoise(sample, timesteps: Array(repeating: timestep(sigma: sigma), count: scaled.shape[0]), labels: labels)
    }

    /// One Euler step of the ODE from `sample` `x_t` at integer `timestep` to `previous`, mapped back to
    /// `x_previous = √ᾱ_previous · x̄_previous`: DDIM's η = 0 step without clipping.
    public func eulerStep(sample: Tensor, timestep t: Int, previous: Int, labels: [Int]? = nil) throws -> Tensor {
        let alphaBar = model.schedule.alphaBar(t)
        let scaled = sample * Float(1 / sqrt(alphaBar))
        let slope = try model.predictedNoise(sample, timesteps: Array(repeating: Double(t), count: sample.shape[0]), labels: labels ?? self.labels)
        let next = scaled + slope * Float(sigma(previous) - sigma(t))
        return next * Float(sqrt(model.schedule.alphaBar(previous)))
    }
}
