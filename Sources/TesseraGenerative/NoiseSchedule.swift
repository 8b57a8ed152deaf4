import Foundation
import TesseraTensor

/// The forward (noising) process of a diffusion model (Ho, Jain & Abbeel, "Denoising Diffusion
/// Probabilistic Models", NeurIPS 2020, §2): `q(x_t | x_{t−1}) = N(√(1 − β_t) x_{t−1}, β_t I)`, whose
/// marginal has the closed form
///
///     q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I),   ᾱ_t = Π_{s ≤ t} (1 − β_s),
///
/// so a noisy `x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε` is drawn in one step (``noised(_:timesteps:noise:)``).
///
/// Two β schedules: ``linear(timesteps:betaStart:betaEnd:)`` (Ho et al.: 10⁻⁴ to 0.02 over
/// T = 1000) and ``cosine(timesteps:offset:maximumBeta:)`` (Nichol & Dhariwal, "Improved Denoising
/// Diffusion Probabilistic Models", ICML 2021, eq. 17: `ᾱ_t = f(t)/f(0)`,
/// `f(t) = cos²((t/T + s)/(1 + s) · π/2)`, each β clipped at 0.999).
///
/// Timesteps are indexed `0 ..< T`, as in diffusers: index `t` is the paper's step `t + 1`, so
/// `betas[0]` is the paper's `β_1` and `x_0` (the data) has no index of its own.
///
/// ```swift
/// let schedule = try NoiseSchedule.cosine(timesteps: 1000)
/// let noisy = try schedule.noised(images, timesteps: [999, 10], noise: epsilon)
/// ```
public struct NoiseSchedule: Equatable, Sendable {
    /// `β_t`, each in (0, 1), for `t` in `0 ..< T`.
    public let betas: [Double]
    /// `ᾱ_t = Π_{s ≤ t} (1 − β_s)`.
    public let alphasCumulative: [Double]

    /// `T`, the number of noising steps.
    public var timesteps: Int { betas.count }

    /// A schedule with the given `β`s, each strictly between 0 and 1.
    public init(betas: [Double]) throws {
        guard !betas.isEmpty else { throw GenerativeError("NoiseSchedule: needs at least one β, got none") }
        if let index = betas.firstIndex(where: { !($0 > 0 && $0 < 1) }) {
            throw GenerativeError("NoiseSchedule: every β must lie in (0, 1), found β[\(index)] = \(betas[index])")
        }
        self.betas = betas
        var product = 1.0
        alphasCumulative = betas.map { beta in
            product *= 1 - beta
            return product
        }
    }

    /// `β` evenly spaced from `betaStart` to `betaEnd` (Ho et al. 2020, §4: 10⁻⁴ to 0.02 for T = 1000).
    public static func linear(timesteps: Int, betaStart: Double = 1e-4, betaEnd: Double = 0.02) throws -> NoiseSchedule {
        guard timesteps >= 1 else { throw GenerativeError("NoiseSchedule.linear: timesteps must be at least 1, got \(timesteps)") }
        guard timesteps > 1 else { return try NoiseSchedule(betas: [betaStart]) }
        let step = (betaEnd - betaStart) / Double(timesteps - 1)
        return try NoiseSchedule(betas: (0..<timesteps).map { betaStart + Double($0) * step })
    }

    /// Nichol & Dhariwal's cosine schedule (eq. 17): `β_t = min(1 − ᾱ(t+1)/ᾱ(t), maximumBeta)` with
    /// `ᾱ(t) = cos²((t/T + offset)/(1 + offset) · π/2)`; the small offset keeps `β` near `t = 0`
    /// from being too small to predict, the cap keeps the last steps from being singular.
    public static func cosine(timesteps: Int, offset: Double = 0.008, maximumBeta: Double = 0.999) throws -> NoiseSchedule {
        guard timesteps >= 1 else { throw GenerativeError("NoiseSchedule.cosine: timesteps must be at least 1, got \(timesteps)") }
        guard offset >= 0, maximumBeta > 0, maximumBeta < 1 else {
            throw GenerativeError("NoiseSchedule.cosine: offset must be non-negative and maximumBeta in (0, 1), got \(offset) and \(maximumBeta)")
        }
        let alphaBar = { (t: Double) -> Double in
            let angle = (t / Double(timesteps) + offset) / (1 + offset) * Double.pi / 2
            return cos(angle) * cos(angle)
        }
        return try NoiseSchedule(betas: (0..<timesteps).map { min(1 - alphaBar(Double($0 + 1)) / alphaBar(Double($0)), maximumBeta) })
    }

    /// `ᾱ` at `t`, with `ᾱ_{−1} = 1` (the clean data: the last sampling step lands there).
    public func alphaBar(_ t: Int) -> Double { t < 0 ? 1 : alphasCumulative[t] }

    /// The posterior variance `β̃_t = (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · β_t` of `q(x_{t−1} | x_t, x_0)`
    /// (Ho et al., eq. 7); with a previous timestep other than `t − 1` (a respaced chain) `β_t` is
    /// the chain's own `1 − ᾱ_t / ᾱ_previous`.
    public func posteriorVariance(_ t: Int, previous: Int? = nil) -> Double {
        let previous = previous ?? t - 1
        let (current, before) = (alphaBar(t), alphaBar(previous))
        return (1 - before) / (1 - current) * (1 - current / before)
    }

    /// Checks that every timestep lies in `0 ..< T`; `op` names the caller in the error.
    func checkTimesteps(_ timesteps: [Int], op: String) throws {
        if let bad = timesteps.first(where: { $0 < 0 || $0 >= self.timesteps }) {
            throw GenerativeError("\(op): timestep \(bad) is out of range 0..<\(self.timesteps)")
        }
    }

    /// A per-row scalar `[batch, 1, …]` of `values` for broadcasting against `[batch, …]`.
    static func rowScalars(_ values: [Double], like tensor: Tensor) -> Tensor {
        Tensor(shape: [values.count] + [Int](repeating: 1, count: tensor.rank - 1), scalars: values.map(Float.init))
    }

    /// `x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε` for row `i` at `timesteps[i]` (the closed form of `q(x_t | x_0)`).
    public func noised(_ clean: Tensor, timesteps: [Int], noise: Tensor) throws -> Tensor {
        guard noise.shape == clean.shape, clean.rank >= 1, clean.shape[0] == timesteps.count else {
            throw GenerativeError("NoiseSchedule.noised: expected clean data and noise of one shape [batch, …] and one timestep per row, got \(clean.shape), \(noise.shape) and \(timesteps.count) timesteps")
        }
        try checkTimesteps(timesteps, op: "NoiseSchedule.noised")
        let signal = Self.rowScalars(timesteps.map { sqrt(alphaBar($0)) }, like: clean)
        let spread = Self.rowScalars(timesteps.map { sqrt(1 - alphaBar($0)) }, like: clean)
        return clean * signal + noise * spread
    }

    /// `count` timesteps for a sampler that skips steps, descending from near `T − 1` to 0:
    /// `k · ⌊T / count⌋` for `k = count − 1 … 0` (diffusers' "leading" spacing; DDIM's linear
    /// sub-sequence, Song et al. 2021, Appendix D.2). `count == T` is the full chain.
    public func samplingTimesteps(count: Int) throws -> [Int] {
        guard count >= 1, count <= timesteps else {
            throw GenerativeError("NoiseSchedule.samplingTimesteps: the number of sampling steps must be in 1...\(timesteps) (the schedule's T), got \(count)")
        }
        let stride = timesteps / count
        return (0..<count).reversed().map { $0 * stride }
    }

    /// `x̂_0 = (x_t − √(1 − ᾱ_t) ε̂) / √ᾱ_t`, the clean image the predicted noise implies (Ho et al.,
    /// eq. 15), clamped to `[−clip, clip]` when `clip` is given (the data range).
    func predictedClean(sample: Tensor, predictedNoise: Tensor, timestep t: Int, clip: Float?) -> Tensor {
        let alphaBar = alphaBar(t)
        let clean = (sample - predictedNoise * Float(sqrt(1 - alphaBar))) * Float(1 / sqrt(alphaBar))
        return clip.map { clean.clamp(min: -$0, max: $0) } ?? clean
    }
}
