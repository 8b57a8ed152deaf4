import Foundation
import Testing
import TesseraData
import TesseraNN
import TesseraTensor
@testable import TesseraGenerative

/// The VAE's bound: values against PyTorch with fixed weights and noise, the closed-form KL against
/// Monte Carlo, the IWAE ordering and its limit, gradients, generation, and errors.
@Suite struct VAETests {
    func smallVAE(decoder: VAEDecoder = .bernoulli, classes: Int = 0, latent: Int = 3, seed: UInt64 = 1) throws -> VAE {
        var config = VAEConfig(inputFeatures: 6, latentDimensions: latent)
        config.hiddenSizes = [5]
        config.decoder = decoder
        config.conditionClasses = classes
        var generator = RandomGenerator(seed: seed)
        return try VAE(config: config, generator: &generator)
    }

    @Test(arguments: [("vae_bernoulli", VAEDecoder.bernoulli, 0), ("vae_gaussian", .gaussian, 0), ("cvae", .bernoulli, 3)])
    func elboMatchesPyTorchWithFixedNoise(_ prefix: String, _ decoder: VAEDecoder, _ classes: Int) throws {
        let fixture = try Fixture("generative")
        let vae = try smallVAE(decoder: decoder, classes: classes)
        try vae.loadStateDictionary(fixture.dictionary(prefix: "\(prefix).model."))
        let input = try fixture.tensor("\(prefix).input"), noise = try fixture.tensor("\(prefix).noise")
        let labels = classes > 0 ? try fixture.tensor("\(prefix).labels").scalars.map { Int($0) } : nil
        let elbo = try withoutGradients { try vae.elbo(input, labels: labels, noise: noise) }
        expectClose(elbo, try fixture.tensor("\(prefix).elbo"), absolute: 1e-4, relative: 1e-5, "\(prefix) ELBO")
        let (mean, logVariance) = try vae.encode(input, labels: labels)
        expectClose(try VAE.klDivergence(mean: mean, logVariance: logVariance), try fixture.tensor("\(prefix).kl"),
                    absolute: 1e-5, relative: 1e-5, "\(prefix) KL")
    }

    @Test func closedFormKLMatchesMonteCarlo() throws {
        let mean = Tensor([[0.5, -1.2, 0.3]]), logVariance = Tensor([[-0.7, 0.4, 0.1]])
        let closed = try VAE.klDivergence(mean: mean, logVariance: logVariance).item
        var generator = RandomGenerator(seed: 2)
        let draws = 20000
        let noise = Tensor.randomNormal([draws, 3], generator: &generator)
        let z = try VAE.reparameterize(mean: mean.expand(to: [draws, 3]), logVariance: logVariance.expand(to: [draws, 3]), noise: noise)
        // log q(z) − log p(z) with z − μ = σ ε.
        let logQ = ((logVariance.expand(to: [draws, 3]) + noise * noise) * -0.5).sum(alongAxes: [1])
        let logP = (z * z * -0.5).sum(alongAxes: [1])
        let samples = logQ - logP
        let estimate = samples.mean().item, standardError = samples.standardDeviation().item / Float(draws).squareRoot()
        #expect(abs(estimate - closed) < 4 * standardError, "Monte Carlo \(estimate) ± \(standardError) vs closed form \(closed)")
        #expect(closed > 0.5, "the posterior is far enough from the prior for the check to mean something")
    }

    @Test func importanceWeightingWithOneSampleIsTheELBOInExpectation() throws {
        // IWAE₁ is log p(x, z) − log q(z|x) at one z ~ q: the ELBO with a sampled KL, whose mean is
        // the closed-form-KL ELBO's mean.
        let vae = try smallVAE(seed: 3)
        let repeats = 4000
        let rows = Tensor([[1, 0, 0, 1, 1, 0]]).expand(to: [repeats, 6]).copy()
        var generator = RandomGenerator(seed: 4)
        let bound = try withoutGradients { try vae.importanceWeightedBound(rows, samples: 1, generator: &generator) }
        let elbo = try withoutGradients { try vae.elbo(rows, generator: &generator) }
        let difference = bound.mean().item - elbo.mean().item
        let standardError = ((bound.variance().item + elbo.variance().item) / Float(repeats)).squareRoot()
        #expect(abs(difference) < 4 * standardError, "IWAE₁ − ELBO = \(difference) ± \(standardError)")
        #expect(bound.variance().item > elbo.variance().item, "the sampled KL adds variance")
    }

    @Test func boundsTightenWithMoreImportanceSamples() throws {
        let vae = try smallVAE(seed: 5)
        var generator = RandomGenerator(seed: 6)
        let input = Tensor.bernoulli([1, 6], probability: 0.5, generator: &generator)
        // Each bound averaged over repeated estimates, so the ordering holds in expectation, not by luck.
        func averaged(_ samples: Int, repeats: Int) throws -> (mean: Float, standardError: Float) {
            let rows = input.expand(to: [repeats, 6]).copy()
            let values = try withoutGradients { try vae.importanceWeightedBound(rows, samples: samples, generator: &generator) }
            return (values.mean().item, values.standardDeviation().item / Float(repeats).squareRoot())
        }
        let elbo = try averaged(1, repeats: 4000), five = try averaged(5, repeats: 1000), fifty = try averaged(50, repeats: 200)
        #expect(elbo.mean + 3 * elbo.standardError < five.mean, "ELBO \(elbo) vs IWAE_5 \(five)")
        #expect(five.mean + 3 * five.standardError < fifty.mean + 3 * fifty.standardError && five.mean < fifty.mean,
                "IWAE_5 \(five) vs IWAE_50 \(fifty)")
    }

    @Test func importanceWeightedBoundApproachesTheMarginalLikelihood() throws {
        // With one latent dimension, log p(x) = log ∫ p(x|z) N(z; 0, 1) dz by quadrature.
        let vae = try smallVAE(latent: 1, seed: 7)
        let input = Tensor([[1, 0, 1, 1, 0, 0]])
        let step: Float = 0.01
        let grid = Tensor.arange(-8, 8, step: step).reshape([-1, 1])
        let joint = try withoutGradients {
            try vae.decoderLogLikelihood(input.expand(to: [grid.shape[0], 6]).copy(), latents: grid) + standardNormalLogDensity(grid)
        }
        let marginal = (joint.logSumExp(alongAxes: [0]) + Float(log(Double(step)))).item
        var generator = RandomGenerator(seed: 8)
        let bound = try withoutGradients { try vae.importanceWeightedBound(input, samples: 5000, generator: &generator) }.item
        let elbo = try withoutGradients { try vae.importanceWeightedBound(input.expand(to: [2000, 6]).copy(), samples: 1, generator: &generator) }.mean().item
        #expect(abs(bound - marginal) < 0.01, "IWAE_5000 \(bound) vs quadrature \(marginal)")
        #expect(elbo < marginal - 0.01, "the ELBO \(elbo) is strictly below log p(x) \(marginal)")
    }

    @Test func elboGradientMatchesFiniteDifferences() throws {
        for decoder in [VAEDecoder.bernoulli, .gaussian] {
            let vae = try smallVAE(decoder: decoder, seed: 9)
            var generator = RandomGenerator(seed: 10)
            let input = Tensor.randomUniform([3, 6], generator: &generator)
            let noise = Tensor.randomNormal([3, 3], generator: &generator)
            let loss = { -(try vae.elbo(input, noise: noise)).mean() }
            try expectParameterGradientMatchesFiniteDifferences(vae.encoder.layers[1].bias!, step: 2e-3, "\(decoder) encoder output bias", loss: loss)
            try expectParameterGradientMatchesFiniteDifferences(vae.decoder.layers[1].bias!, step: 2e-3, "\(decoder) decoder output bias", loss: loss)
        }
    }

    @Test func generationDecodesPriorSamplesAndInterpolates() throws {
        let vae = try smallVAE()
        var generator = RandomGenerator(seed: 11)
        let samples = try vae.sample(count: 7, generator: &generator)
        #expect(samples.shape == [7, 6])
        #expect(samples.scalars.allSatisfy { $0 > 0 && $0 < 1 }, "Bernoulli means are probabilities")
        let start = Tensor([[1, 0, 1, 0, 1, 0]]), end = Tensor([[0, 1, 0, 1, 0, 1]])
        let path = try vae.interpolate(from: start, to: end, steps: 5)
        #expect(path.shape == [5, 6])
        expectClose(path.slice(alongAxis: 0, start: 0, end: 1), try vae.decode(vae.encode(start).mean), absolute: 1e-6, relative: 0, "start")
        expectClose(path.slice(alongAxis: 0, start: 4, end: 5), try vae.decode(vae.encode(end).mean), absolute: 1e-6, relative: 0, "end")
        #expect((path.slice(alongAxis: 0, start: 0, end: 1) - path.slice(alongAxis: 0, start: 4, end: 5)).abs().max().item > 1e-3)
    }

    @Test func conditionalVAEDecodesDifferentlyPerLabel() throws {
        let cvae = try smallVAE(classes: 3)
        let z = Tensor.zeros([3, 3])
        let decoded = try cvae.decode(z, labels: [0, 1, 2])
        #expect((decoded.select(alongAxis: 0, index: 0) - decoded.select(alongAxis: 0, index: 2)).abs().max().item > 1e-3,
                "the label changes the decoding of the same latent")
        var generator = RandomGenerator(seed: 12)
        #expect(try cvae.sample(count: 2, labels: [1, 1], generator: &generator).shape == [2, 6])
    }

    @Test func badInputThrowsNamingWhatWasExpected() throws {
        let vae = try smallVAE(), cvae = try smallVAE(classes: 3)
        var generator = RandomGenerator(seed: 13)
        let input = Tensor.zeros([2, 6])
        #expect(throws: GenerativeError("VAE.importanceWeightedBound: samples K must be positive, got 0")) {
            try vae.importanceWeightedBound(input, samples: 0, generator: &generator)
        }
        #expect(throws: GenerativeError("VAE.encode: expected input [batch, 6], got shape [2, 5]")) {
            try vae.elbo(Tensor.zeros([2, 5]), noise: Tensor.zeros([2, 3]))
        }
        #expect(throws: GenerativeError("VAE.reparameterize: mean, logVariance and noise must share one shape, got [2, 3], [2, 3], [2, 4]")) {
            try vae.elbo(input, noise: Tensor.zeros([2, 4]))
        }
        #expect(throws: GenerativeError("VAE.encode: a conditional VAE needs labels (one per row), got none")) {
            try cvae.elbo(input, generator: &generator)
        }
        #expect(throws: GenerativeError("VAE.encode: label 3 is out of range 0..<3")) {
            try cvae.elbo(input, labels: [0, 3], generator: &generator)
        }
        #expect(throws: GenerativeError("VAE.encode: labels were given to a VAE without conditionClasses")) {
            try vae.elbo(input, labels: [0, 1], generator: &generator)
        }
        #expect(throws: GenerativeError("VAE.interpolate: steps must be at least 2, got 1")) {
            try vae.interpolate(from: Tensor.zeros([1, 6]), to: Tensor.zeros([1, 6]), steps: 1)
        }
    }

    @Test func trainingOnDigitsRaisesTheELBO() throws {
        var config = VAEConfig(inputFeatures: 64, latentDimensions: 4)
        config.hiddenSizes = [64]
        var generator = RandomGenerator(seed: 14)
        let vae = try VAE(config: config, generator: &generator)
        let digits = try Digits.load(layout: .flat).inputs.slice(alongAxis: 0, start: 0, end: 256).copy()
        let optimizer = Adam(parameters: vae.namedParameters(), learningRate: 1e-2)
        func elbo() throws -> Float {
            var fixedNoise = RandomGenerator(seed: 15)
            return try withoutGradients { try vae.elbo(digits, generator: &fixedNoise).mean().item }
        }
        let before = try elbo()
        for _ in 0..<30 {
            optimizer.zeroGradients()
            try (-(vae.elbo(digits, generator: &generator)).mean()).backward()
            optimizer.step()
        }
        let after = try elbo()
        #expect(after > before + 5, "ELBO \(before) → \(after) nats")
    }
}
