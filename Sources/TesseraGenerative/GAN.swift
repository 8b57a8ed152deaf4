import Foundation
import TesseraNN
import TesseraTensor

/// The generative adversarial network (Goodfellow et al., "Generative Adversarial Nets", NeurIPS
/// 2014): a generator `G(z)` maps noise `z ~ N(0, I)` to data, a discriminator `D(x)` gives the
/// probability that `x` is real, and the two play the minimax game (eq. 1)
///
///     min_G max_D V(D, G) = E_{x~p_data}[log D(x)] + E_{z~p_z}[log(1 − D(G(z)))].
///
/// The notes' formulation follows the paper: ``GAN/value(realLogits:generatedLogits:)`` is `V(D, G)`
/// itself, the discriminator minimises ``GAN/discriminatorLoss(realLogits:generatedLogits:)`` `= −V`
/// (binary cross-entropy with real = 1, generated = 0); for a fixed `G` the best discriminator is
/// `D*(x) = p_data(x) / (p_data(x) + p_g(x))` (Proposition 1), at which `V = −log 4 + 2·JSD(p_data ‖ p_g)`
/// (Theorem 1), so the global optimum `p_g = p_data` has `D* = ½` and `V = −log 4`. The generator
/// minimises either the minimax term `E log(1 − D(G(z)))` or, as the paper recommends in §3 and
/// Tessera defaults to, the non-saturating `−E log D(G(z))`: the same fixed point, but a gradient
/// that does not vanish when `D` rejects the samples early in training (see ``GANGeneratorLoss``).
/// ``GAN/trainingStep(realBatches:discriminatorOptimizer:generatorOptimizer:generator:)`` is
/// Algorithm 1: `k` discriminator steps, then one generator step. Both networks are `MLP`s of
/// TesseraNN; `D` outputs a logit, and every log-probability is taken from it stably
/// (`log D = −softplus(−l)`, `log(1 − D) = −softplus(l)`), never from a rounded sigmoid.
///
/// ```swift
/// var config = GANConfig(dataFeatures: 2, latentDimensions: 2)
/// config.discriminatorSteps = 1
/// let gan = try GAN(config: config, generator: &rng)
/// let dOptimizer = Adam(parameters: gan.discriminator.namedParameters(), learningRate: 1e-3, beta1: 0.5)
/// let gOptimizer = Adam(parameters: gan.generator.namedParameters(), learningRate: 1e-3, beta1: 0.5)
/// let ring = GaussianRing()
/// let losses = try gan.trainingStep(realBatches: [ring.sample(count: 256, generator: &rng)],
///                                   discriminatorOptimizer: dOptimizer, generatorOptimizer: gOptimizer, generator: &rng)
/// let quality = try ring.evaluate(gan.sample(count: 2500, generator: &rng))  // modes covered, high-quality share
/// ```
public struct GANConfig: Equatable, Sendable {
    /// Dimensions of a data point.
    public var dataFeatures: Int
    /// Dimensions of the noise `z`.
    public var latentDimensions: Int
    /// Hidden sizes of the generator MLP.
    public var generatorHiddenSizes: [Int] = [128, 128]
    /// Hidden sizes of the discriminator MLP.
    public var discriminatorHiddenSizes: [Int] = [128, 128]
    /// The hidden activation of both networks.
    public var activation: Activation = .relu
    /// The generator's objective.
    public var generatorLoss: GANGeneratorLoss = .nonSaturating
    /// `k` of Algorithm 1: discriminator updates per generator update.
    public var discriminatorSteps: Int = 1

    public init(dataFeatures: Int, latentDimensions: Int) {
        self.dataFeatures = dataFeatures
        self.latentDimensions = latentDimensions
    }
}

/// What a ``GAN``'s generator minimises, as a function of the discriminator's logit `l = logit D(G(z))`.
///
/// Both are decreasing in `D(G(z))`, so they share the game's fixed point (`p_g = p_data`, `D = ½`,
/// where their gradients are equal). They differ where `D` confidently rejects the samples
/// (`D(G(z)) → 0`): `∂/∂l log(1 − σ(l)) = −σ(l) → 0` (the minimax gradient vanishes) while
/// `∂/∂l (−log σ(l)) = −(1 − σ(l)) → −1`; per sample the non-saturating gradient is the minimax one
/// times `(1 − D)/D = e^{−l}`.
public enum GANGeneratorLoss: String, Codable, Sendable {
    /// `E log(1 − D(G(z)))`, the generator's side of eq. 1.
    case minimax
    /// `−E log D(G(z))`, "maximise log D(G(z))" (Goodfellow et al., §3).
    case nonSaturating
}

/// The losses of one ``GAN/trainingStep(realBatches:discriminatorOptimizer:generatorOptimizer:generator:)``.
public struct GANLosses: Equatable, Sendable {
    /// The discriminator's loss `−V(D, G)` at each of its `k` steps, before that step's update.
    public var discriminator: [Float]
    /// The generator's loss (of its ``GANGeneratorLoss``) before its update.
    public var generator: Float
}

public final class GAN: Module {
    public let config: GANConfig
    /// `z → x`, `[batch, latentDimensions] → [batch, dataFeatures]`.
    public let generator: MLP
    /// `x →` the logit of `D(x)`, `[batch, dataFeatures] → [batch, 1]`.
    public let discriminator: MLP

    public init(config: GANConfig, generator random: inout RandomGenerator) throws {
        guard config.dataFeatures > 0, config.latentDimensions > 0 else {
            throw GenerativeError("GAN: dataFeatures and latentDimensions must be positive, got \(config.dataFeatures) and \(config.latentDimensions)")
        }
        guard (config.generatorHiddenSizes + config.discriminatorHiddenSizes).allSatisfy({ $0 > 0 }) else {
            throw GenerativeError("GAN: hidden sizes must be positive, got generatorHiddenSizes \(config.generatorHiddenSizes) and discriminatorHiddenSizes \(config.discriminatorHiddenSizes)")
        }
        guard config.discriminatorSteps > 0 else {
            throw GenerativeError("GAN: discriminatorSteps (k) must be positive, got \(config.discriminatorSteps)")
        }
        self.config = config
        generator = MLP(sizes: [config.latentDimensions] + config.generatorHiddenSizes + [config.dataFeatures],
                        activation: config.activation, generator: &random)
        discriminator = MLP(sizes: [config.dataFeatures] + config.discriminatorHiddenSizes + [1],
                            activation: config.activation, generator: &random)
    }

    // MARK: - The networks

    /// `G(z)` for noise `[batch, latentDimensions]`.
    public func generate(_ z: Tensor) throws -> Tensor {
        guard z.rank == 2, z.shape[1] == config.latentDimensions, z.shape[0] > 0 else {
            throw GenerativeError("GAN.generate: expected noise [batch, \(config.latentDimensions)], got shape \(z.shape)")
        }
        return generator(z)
    }

    /// `count` samples `G(z)`, `z ~ N(0, I)`.
    public func sample(count: Int, generator random: inout RandomGenerator) throws -> Tensor {
        guard count > 0 else { throw GenerativeError("GAN.sample: count must be positive, got \(count)") }
        return try generate(Tensor.randomNormal([count, config.latentDimensions], generator: &random))
    }

    /// The logit of `D(x)` for every row, `[batch]`.
    public func discriminatorLogits(_ x: Tensor) throws -> Tensor {
        guard x.rank == 2, x.shape[1] == config.dataFeatures, x.shape[0] > 0 else {
            throw GenerativeError("GAN.discriminatorLogits: expected data [batch, \(config.dataFeatures)], got shape \(x.shape)")
        }
        return discriminator(x).reshape([x.shape[0]])
    }

    /// `D(x)`, the probability that each row is real, `[batch]`.
    public func discriminate(_ x: Tensor) throws -> Tensor {
        try discriminatorLogits(x).sigmoid()
    }

    // MARK: - The objective

    private static func checkLogits(_ logits: Tensor, _ name: String, op: String) throws {
        guard logits.rank == 1, logits.shape[0] > 0 else {
            throw GenerativeError("\(op): expected \(name) logits [batch], got shape \(logits.shape)")
        }
    }

    /// `V(D, G) = E log D(x) + E log(1 − D(G(z)))` (eq. 1), each expectation a batch mean, from the
    /// discriminator's logits on real and generated rows (the two batches may differ in size).
    public static func value(realLogits: Tensor, generatedLogits: Tensor) throws -> Tensor {
        try checkLogits(realLogits, "real", op: "GAN.value")
        try checkLogits(generatedLogits, "generated", op: "GAN.value")
        return -(-realLogits).softplus().mean() - generatedLogits.softplus().mean()
    }

    /// The discriminator's loss `−V(D, G)`: binary cross-entropy with real rows labelled 1 and
    /// generated rows 0, each half averaged over its own batch.
    public static func discriminatorLoss(realLogits: Tensor, generatedLogits: Tensor) throws -> Tensor {
        try checkLogits(realLogits, "real", op: "GAN.discriminatorLoss")
        try checkLogits(generatedLogits, "generated", op: "GAN.discriminatorLoss")
        return binaryCrossEntropyWithLogits(logits: realLogits, targets: Tensor.ones(realLogits.shape))
            + binaryCrossEntropyWithLogits(logits: generatedLogits, targets: Tensor.zeros(generatedLogits.shape))
    }

    /// The generator's loss from the discriminator's logits on generated rows: `E log(1 − D(G(z)))`
    /// (``GANGeneratorLoss/minimax``) or `−E log D(G(z))` (``GANGeneratorLoss/nonSaturating``).
    public static func generatorLoss(generatedLogits: Tensor, kind: GANGeneratorLoss) throws -> Tensor {
        try checkLogits(generatedLogits, "generated", op: "GAN.generatorLoss")
        switch kind {
        case .minimax: return -generatedLogits.softplus().mean()
        case .nonSaturating: return (-generatedLogits).softplus().mean()
        }
    }

    /// `−V(D, G)` on real rows and rows `x̃` already generated (or drawn from any fixed `p_g`).
    public func discriminatorLoss(real: Tensor, generated: Tensor) throws -> Tensor {
        try Self.discriminatorLoss(realLogits: discriminatorLogits(real), generatedLogits: discriminatorLogits(generated))
    }

    /// The generator's loss (of `config.generatorLoss`) at noise `z`; gradients reach both networks.
    public func generatorLoss(noise z: Tensor) throws -> Tensor {
        try Self.generatorLoss(generatedLogits: discriminatorLogits(generate(z)), kind: config.generatorLoss)
    }

    // MARK: - Training

    /// One iteration of Algorithm 1: for each of the `k = config.discriminatorSteps` real batches,
    /// draw as many `z`, and step the discriminator down `−V` (`G` held fixed: its samples carry no
    /// gradient); then draw a batch of `z` the size of the first real batch and step the generator
    /// down its loss (`D` held fixed: its gradients from this step are dropped).
    public func trainingStep(realBatches: [Tensor], discriminatorOptimizer: Optimizer, generatorOptimizer: Optimizer,
                             generator random: inout RandomGenerator) throws -> GANLosses {
        guard realBatches.count == config.discriminatorSteps else {
            throw GenerativeError("GAN.trainingStep: expected \(config.discriminatorSteps) real batches (one per discriminator step k), got \(realBatches.count)")
        }
        var discriminatorLosses: [Float] = []
        for real in realBatches {
            let generated = try withoutGradients { try sample(count: max(real.shape.first ?? 1, 1), generator: &random) }
            let loss = try discriminatorLoss(real: real, generated: generated)
            discriminatorOptimizer.zeroGradients()
            loss.backward()
            discriminatorOptimizer.step()
            discriminatorLosses.append(loss.item)
        }
        let noise = Tensor.randomNormal([realBatches[0].shape[0], config.latentDimensions], generator: &random)
        let loss = try generatorLoss(noise: noise)
        generatorOptimizer.zeroGradients()
        discriminatorOptimizer.zeroGradients()
        loss.backward()
        generatorOptimizer.step()
        discriminatorOptimizer.zeroGradients()
        return GANLosses(discriminator: discriminatorLosses, generator: loss.item)
    }
}

// MARK: - The ring of Gaussians

/// The mixture of Gaussians on a circle of the mode-collapse literature (Metz et al., "Unrolled
/// Generative Adversarial Networks", ICLR 2017; Srivastava et al., "VEEGAN", NeurIPS 2017): `modes`
/// equal-weight isotropic Gaussians with standard deviation σ centred at angles `2πk / modes` on a
/// circle of `radius` (8 modes, radius 2, σ = 0.02 by default). ``evaluate(_:minimumSamplesPerMode:)``
/// reports VEEGAN's two measures: a sample is high quality when it lies within 3σ of some mode, and a
/// mode is covered when at least `minimumSamplesPerMode` high-quality samples fall within its 3σ.
public struct GaussianRing: Equatable, Sendable {
    public var modes: Int
    public var radius: Float
    public var standardDeviation: Float

    public init(modes: Int = 8, radius: Float = 2, standardDeviation: Float = 0.02) {
        self.modes = modes
        self.radius = radius
        self.standardDeviation = standardDeviation
    }

    private func check(op: String) throws {
        guard modes > 0, radius > 0, standardDeviation > 0 else {
            throw GenerativeError("\(op): modes, radius and standardDeviation must be positive, got \(modes), \(radius) and \(standardDeviation)")
        }
    }

    /// The modes' centres, `[modes, 2]`.
    public var centers: Tensor {
        Tensor(shape: [modes, 2]) { index in
            let angle = 2 * Double.pi * Double(index / 2) / Double(modes)
            return radius * Float(index % 2 == 0 ? cos(angle) : sin(angle))
        }
    }

    /// `count` points `[count, 2]`, each from a uniformly drawn mode.
    public func sample(count: Int, generator: inout RandomGenerator) throws -> Tensor {
        try check(op: "GaussianRing.sample")
        guard count > 0 else { throw GenerativeError("GaussianRing.sample: count must be positive, got \(count)") }
        let centres = centers.scalars
        let chosen = (0..<count).map { _ in min(Int(generator.nextUniform() * Float(modes)), modes - 1) }
        var scalars = Tensor.randomNormal([count, 2], standardDeviation: standardDeviation, generator: &generator).scalars
        for (row, mode) in chosen.enumerated() {
            scalars[2 * row] += centres[2 * mode]
            scalars[2 * row + 1] += centres[2 * mode + 1]
        }
        return Tensor(shape: [count, 2], scalars: scalars)
    }

    /// The quality of `samples` `[count, 2]`.
    public func evaluate(_ samples: Tensor, minimumSamplesPerMode: Int = 20) throws -> GaussianRingQuality {
        try check(op: "GaussianRing.evaluate")
        guard samples.rank == 2, samples.shape[1] == 2, samples.shape[0] > 0 else {
            throw GenerativeError("GaussianRing.evaluate: expected samples [count, 2], got shape \(samples.shape)")
        }
        guard minimumSamplesPerMode > 0 else {
            throw GenerativeError("GaussianRing.evaluate: minimumSamplesPerMode must be positive, got \(minimumSamplesPerMode)")
        }
        let centres = centers.scalars, points = samples.scalars
        let limit = 3 * standardDeviation
        var perMode = [Int](repeating: 0, count: modes)
        for row in 0..<samples.shape[0] {
            let (x, y) = (points[2 * row], points[2 * row + 1])
            var nearest = 0, best = Float.infinity
            for mode in 0..<modes {
                let (dx, dy) = (x - centres[2 * mode], y - centres[2 * mode + 1])
                let distance = (dx * dx + dy * dy).squareRoot()
                if distance < best { (nearest, best) = (mode, distance) }
            }
            if best <= limit { perMode[nearest] += 1 }
        }
        let highQuality = perMode.reduce(0, +)
        return GaussianRingQuality(samplesPerMode: perMode,
                                   modesCovered: perMode.filter { $0 >= minimumSamplesPerMode }.count,
                                   highQualityShare: Double(highQuality) / Double(samples.shape[0]))
    }
}

/// How well samples cover a ``GaussianRing``.
public struct GaussianRingQuality: Equatable, Sendable {
    /// High-quality samples (within 3σ) of each mode.
    public var samplesPerMode: [Int]
    /// Modes with at least the minimum number of high-quality samples.
    public var modesCovered: Int
    /// The share of samples within 3σ of some mode.
    public var highQualityShare: Double
}
