import Foundation
import TesseraNN
import TesseraTensor

/// The variational autoencoder (Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014):
/// a Gaussian encoder `q(z|x) = N(μ(x), diag σ²(x))`, a standard Gaussian prior `p(z)`, and a
/// Bernoulli or Gaussian decoder `p(x|z)`. Training maximises the evidence lower bound
///
///     ELBO(x) = E_q[log p(x|z)] − KL(q(z|x) ‖ p(z)) ≤ log p(x),
///
/// with the expectation estimated by one reparameterised sample `z = μ + σ ⊙ ε`, `ε ~ N(0, I)`
/// (§2.4) and the KL in closed form (Appendix B). ``VAE/importanceWeightedBound(_:labels:samples:generator:)``
/// is the tighter IWAE bound (Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders",
/// ICLR 2016), the usual estimate of `log p(x)`. With `conditionClasses > 0` it is a conditional VAE
/// (Sohn, Lee & Yan, "Learning Structured Output Representation using Deep Conditional Generative
/// Models", NeurIPS 2015): encoder and decoder also see the one-hot label.
///
/// ```swift
/// let vae = try VAE(config: VAEConfig(inputFeatures: 64, latentDimensions: 8), generator: &rng)
/// let loss = -(try vae.elbo(pixels, generator: &rng)).mean()
/// let logLikelihood = try vae.importanceWeightedBound(pixels, samples: 500, generator: &rng)
/// ```
public struct VAEConfig: Equatable, Sendable {
    /// Dimensions of a data point (pixels in `[0, 1]` for the Bernoulli decoder).
    public var inputFeatures: Int
    /// Dimensions of `z`.
    public var latentDimensions: Int
    /// Hidden sizes of the encoder; the decoder uses them reversed.
    public var hiddenSizes: [Int] = [256]
    /// The decoder's likelihood.
    public var decoder: VAEDecoder = .bernoulli
    /// Classes of the label a conditional VAE sees; 0 for a plain VAE.
    public var conditionClasses: Int = 0

    public init(inputFeatures: Int, latentDimensions: Int) {
        self.inputFeatures = inputFeatures
        self.latentDimensions = latentDimensions
    }
}

/// The likelihood `p(x|z)` of a ``VAE``'s decoder (Kingma & Welling, Appendix C).
public enum VAEDecoder: String, Codable, Sendable {
    /// Independent Bernoulli pixels with the decoder's logits (for data in `[0, 1]`).
    case bernoulli
    /// A diagonal Gaussian whose mean and log-variance both come from the decoder.
    case gaussian
}

public final class VAE: Module {
    public let config: VAEConfig
    /// `[x, onehot(y)] → [μ, log σ²]`.
    public let encoder: MLP
    /// `[z, onehot(y)] →` logits (Bernoulli) or `[mean, log-variance]` (Gaussian).
    public let decoder: MLP

    public init(config: VAEConfig, generator: inout RandomGenerator) throws {
        guard config.inputFeatures > 0, config.latentDimensions > 0 else {
            throw GenerativeError("VAE: inputFeatures and latentDimensions must be positive, got \(config.inputFeatures) and \(config.latentDimensions)")
        }
        guard config.hiddenSizes.allSatisfy({ $0 > 0 }) else { throw GenerativeError("VAE: hiddenSizes must be positive, got \(config.hiddenSizes)") }
        guard config.conditionClasses >= 0 else { throw GenerativeError("VAE: conditionClasses must be non-negative, got \(config.conditionClasses)") }
        self.config = config
        let c = config.conditionClasses
        encoder = MLP(sizes: [config.inputFeatures + c] + config.hiddenSizes + [2 * config.latentDimensions],
                      activation: .relu, generator: &generator)
        let outputs = config.decoder == .bernoulli ? config.inputFeatures : 2 * config.inputFeatures
        decoder = MLP(sizes: [config.latentDimensions + c] + config.hiddenSizes.reversed() + [outputs],
                      activation: .relu, generator: &generator)
    }

    // MARK: - Encoder and decoder

    /// The one-hot labels to append, `nil` for a plain VAE; checks that labels come exactly when needed.
    private func condition(_ labels: [Int]?, count: Int, op: String) throws -> Tensor? {
        let classes = config.conditionClasses
        guard classes > 0 else {
            if labels != nil { throw GenerativeError("\(op): labels were given to a VAE without conditionClasses") }
            return nil
        }
        guard let labels else { throw GenerativeError("\(op): a conditional VAE needs labels (one per row), got none") }
        guard labels.count == count else { throw GenerativeError("\(op): expected \(count) labels (one per row), got \(labels.count)") }
        if let bad = labels.first(where: { $0 < 0 || $0 >= classes }) {
            throw GenerativeError("\(op): label \(bad) is out of range 0..<\(classes)")
        }
        return Tensor(labels.map(Float.init)).oneHot(classes: classes)
    }

    private func checkInput(_ input: Tensor, op: String) throws {
        guard input.rank == 2, input.shape[1] == config.inputFeatures, input.shape[0] > 0 else {
            throw GenerativeError("\(op): expected input [batch, \(config.inputFeatures)], got shape \(input.shape)")
        }
    }

    private func checkLatent(_ z: Tensor, op: String) throws {
        guard z.rank == 2, z.shape[1] == config.latentDimensions, z.shape[0] > 0 else {
            throw GenerativeError("\(op): expected latents [batch, \(config.latentDimensions)], got shape \(z.shape)")
        }
    }

    /// `μ` and `log σ²` of `q(z|x)`, each `[batch, latentDimensions]`.
    public func encode(_ input: Tensor, labels: [Int]? = nil) throws -> (mean: Tensor, logVariance: Tensor) {
        try checkInput(input, op: "VAE.encode")
        let extra = try condition(labels, count: input.shape[0], op: "VAE.encode")
        let output = encoder(extra.map { Tensor.concatenate([input, $0], alongAxis: 1) } ?? input)
        let parts = output.chunked(2, alongAxis: 1)
        return (parts[0], parts[1])
    }

    /// The decoder's raw output for latents `[batch, latentDimensions]`.
    private func decoderOutput(_ z: Tensor, labels: [Int]?) throws -> Tensor {
        try checkLatent(z, op: "VAE.decode")
        let extra = try condition(labels, count: z.shape[0], op: "VAE.decode")
        return decoder(extra.map { Tensor.concatenate([z, $0], alongAxis: 1) } ?? z)
    }

    /// The mean of `p(x|z)`: pixel probabilities (Bernoulli) or the Gaussian's mean, `[batch, inputFeatures]`.
    public func decode(_ z: Tensor, labels: [Int]? = nil) throws -> Tensor {
        let output = try decoderOutput(z, labels: labels)
        return config.decoder == .bernoulli ? output.sigmoid() : output.chunked(2, alongAxis: 1)[0]
    }

    /// `log p(x|z)`, `[batch]`.
    public func decoderLogLikelihood(_ input: Tensor, latents z: Tensor, labels: [Int]? = nil) throws -> Tensor {
        try checkInput(input, op: "VAE.decoderLogLikelihood")
        let output = try decoderOutput(z, labels: labels)
        guard z.shape[0] == input.shape[0] else {
            throw GenerativeError("VAE.decoderLogLikelihood: expected \(input.shape[0]) latents (one per row), got \(z.shape[0])")
        }
        switch config.decoder {
        case .bernoulli:
            // x log σ(l) + (1 − x) log(1 − σ(l)) = x l − softplus(l), stable for any logit.
            return (input * output - output.softplus()).sum(alongAxes: [1])
        case .gaussian:
            let parts = output.chunked(2, alongAxis: 1)
            let (mean, logVariance) = (parts[0], parts[1])
            let squared = (input - mean) * (input - mean) * (-logVariance).exp()
            return ((logVariance + squared) * -0.5 - 0.5 * Float(log(2 * Double.pi))).sum(alongAxes: [1])
        }
    }

    // MARK: - The bound

    /// `z = μ + σ ⊙ ε` (the reparameterisation trick, §2.4): gradients reach `μ` and `log σ²`.
    public static func reparameterize(mean: Tensor, logVariance: Tensor, noise: Tensor) throws -> Tensor {
        guard mean.shape == logVariance.shape, noise.shape == mean.shape else {
            throw GenerativeError("VAE.reparameterize: mean, logVariance and noise must share one shape, got \(mean.shape), \(logVariance.shape), \(noise.shape)")
        }
        return mean + (logVariance * 0.5).exp() * noise
    }

    /// `KL(N(μ, diag σ²) ‖ N(0, I)) = −½ Σ (1 + log σ² − μ² − σ²)` (Appendix B), `[batch]`.
    public static func klDivergence(mean: Tensor, logVariance: Tensor) throws -> Tensor {
        guard mean.shape == logVariance.shape, mean.rank == 2 else {
            throw GenerativeError("VAE.klDivergence: expected mean and logVariance of one shape [batch, latent], got \(mean.shape) and \(logVariance.shape)")
        }
        return (1 + logVariance - mean * mean - logVariance.exp()).sum(alongAxes: [1]) * -0.5
    }

    /// The ELBO of every row, `[batch]`, with the given noise `ε` `[batch, latentDimensions]`.
    public func elbo(_ input: Tensor, labels: [Int]? = nil, noise: Tensor) throws -> Tensor {
        let (mean, logVariance) = try encode(input, labels: labels)
        let z = try Self.reparameterize(mean: mean, logVariance: logVariance, noise: noise)
        return try decoderLogLikelihood(input, latents: z, labels: labels) - Self.klDivergence(mean: mean, logVariance: logVariance)
    }

    /// The ELBO of every row, `[batch]`, with one fresh `ε` per row.
    public func elbo(_ input: Tensor, labels: [Int]? = nil, generator: inout RandomGenerator) throws -> Tensor {
        try checkInput(input, op: "VAE.elbo")
        return try elbo(input, labels: labels, noise: Tensor.randomNormal([input.shape[0], config.latentDimensions], generator: &generator))
    }

    /// The importance-weighted bound (Burda et al. 2016, eq. 8) of every row, `[batch]`:
    /// `log (1/K) Σₖ p(x, zₖ) / q(zₖ|x)` with `zₖ ~ q(z|x)`, by a log-sum-exp. For `K = 1` it is the
    /// ELBO with a sampled KL (same expectation as ``elbo(_:labels:noise:)``); it grows with `K` in
    /// expectation and tends to `log p(x)` (Burda et al., Theorem 1).
    public func importanceWeightedBound(_ input: Tensor, labels: [Int]? = nil, samples: Int,
                                        generator: inout RandomGenerator) throws -> Tensor {
        guard samples > 0 else { throw GenerativeError("VAE.importanceWeightedBound: samples K must be positive, got \(samples)") }
        let (mean, logVariance) = try encode(input, labels: labels)
        let (batch, latent) = (input.shape[0], config.latentDimensions)
        // Every row repeated K times, sample-major: row k·batch + i is sample k of row i.
        let noise = Tensor.randomNormal([samples * batch, latent], generator: &generator)
        let tile = { (t: Tensor) in t.unsqueezed(axis: 0).expand(to: [samples] + t.shape).reshape([samples * t.shape[0]] + Array(t.shape.dropFirst())) }
        let (means, logVariances) = (tile(mean), tile(logVariance))
        let z = try Self.reparameterize(mean: means, logVariance: logVariances, noise: noise)
        let tiledLabels = labels.map { Array(repeating: $0, count: samples).flatMap { $0 } }
        let logLikelihood = try decoderLogLikelihood(tile(input), latents: z, labels: tiledLabels)
        let logPrior = standardNormalLogDensity(z)
        // log q(z|x) with z − μ = σ ε: −½ Σ (log 2π + log σ² + ε²).
        let logPosterior = ((logVariances + noise * noise) * -0.5 - 0.5 * Float(log(2 * Double.pi))).sum(alongAxes: [1])
        let logWeights = (logLikelihood + logPrior - logPosterior).reshape([samples, batch])
        return logWeights.logSumExp(alongAxes: [0]) - Float(log(Double(samples)))
    }

    // MARK: - Generating

    /// Decoded means of `count` latents from the prior; a conditional VAE takes one label per sample.
    public func sample(count: Int, labels: [Int]? = nil, generator: inout RandomGenerator) throws -> Tensor {
        guard count > 0 else { throw GenerativeError("VAE.sample: count must be positive, got \(count)") }
        return try decode(Tensor.randomNormal([count, config.latentDimensions], generator: &generator), labels: labels)
    }

    /// Decoded means along the straight line between the posterior means of `start` and `end`
    /// (`[1, inputFeatures]` each): `steps` images, the first and last at the two endpoints' latents.
    public func interpolate(from start: Tensor, to end: Tensor, steps: Int, labels: [Int]? = nil) throws -> Tensor {
        guard steps >= 2 else { throw GenerativeError("VAE.interpolate: steps must be at least 2, got \(steps)") }
        guard start.shape == [1, config.inputFeatures], end.shape == [1, config.inputFeatures] else {
            throw GenerativeError("VAE.interpolate: expected two inputs [1, \(config.inputFeatures)], got \(start.shape) and \(end.shape)")
        }
        let first = try encode(start, labels: labels).mean, last = try encode(end, labels: labels).mean
        let weights = Tensor.linspace(0, 1, count: steps).reshape([steps, 1])
        let path = first * (1 - weights) + last * weights
        return try decode(path, labels: labels.map { Array(repeating: $0[0], count: steps) })
    }
}
