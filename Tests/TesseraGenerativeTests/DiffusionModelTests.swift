import Foundation
import Testing
import TesseraNN
import TesseraODE
import TesseraTensor
@testable import TesseraGenerative

/// The U-Net's shapes and gradients (finite differences through the time embedding), the loss,
/// class conditioning, DDIM's determinism, the ODE view (DDIM is an Euler step; RK4 on the same
/// grid is closer to the fine-grid solution), and classifier guidance.
@Suite struct DiffusionModelTests {
    func smallDDPM(classes: Int = 0, timesteps: Int = 100, betaEnd: Double = 0.2, seed: UInt64 = 1) throws -> DDPM {
        var network = DiffusionUNetConfig()
        network.baseChannels = 8
        network.groups = 4
        network.classes = classes
        var config = DDPMConfig()
        config.timesteps = timesteps
        config.betaEnd = betaEnd
        var generator = RandomGenerator(seed: seed)
        return try DDPM(config: config, network: try DiffusionUNet(config: network, generator: &generator))
    }

    @Test func sinusoidalEmbeddingHasItsClosedForm() throws {
        let embedding = try sinusoidalTimeEmbedding(Tensor([0, 3]), dimensions: 8)
        #expect(embedding.shape == [2, 8])
        let row = Array(embedding.scalars[8..<16])
        // Frequencies 10000^(−i/3): 1, 10000^(−1/3), 10000^(−2/3), 10⁻⁴.
        let expected = (0..<4).map { Float(sin(3 * pow(10_000, -Double($0) / 3))) } + (0..<4).map { Float(cos(3 * pow(10_000, -Double($0) / 3))) }
        expectClose(Tensor(row), Tensor(expected), absolute: 1e-6, relative: 1e-5)
        #expect(Array(embedding.scalars[0..<8]) == [0, 0, 0, 0, 1, 1, 1, 1])
    }

    @Test func unetKeepsTheImageShapeAtEveryDepth() throws {
        for multipliers in [[1], [1, 2], [1, 2, 2]] {
            var config = DiffusionUNetConfig()
            config.baseChannels = 8
            config.groups = 4
            config.channelMultipliers = multipliers
            var generator = RandomGenerator(seed: 2)
            let unet = try DiffusionUNet(config: config, generator: &generator)
            let output = try unet(Tensor.randomNormal([3, 1, 8, 8], generator: &generator), timesteps: Tensor([0, 5, 99]))
            #expect(output.shape == [3, 1, 8, 8], "\(multipliers)")
        }
        var generator = RandomGenerator(seed: 2)
        var config = DiffusionUNetConfig()
        config.channelMultipliers = [1, 2, 2, 2]
        let deep = try DiffusionUNet(config: config, generator: &generator)
        let error = #expect(throws: GenerativeError.self) { try deep(Tensor.zeros([1, 1, 6, 6]), timesteps: Tensor([1])) }
        #expect(error?.description.contains("divisible by 8") == true)
        config.groups = 5
        #expect(throws: GenerativeError.self) { try DiffusionUNet(config: config, generator: &generator) }
    }

    /// The gradient with respect to the (fractional) timestep runs through the sinusoid, the time
    /// MLP and every block's projection: checked against central differences.
    @Test func timeEmbeddingGradientMatchesFiniteDifferences() throws {
        let ddpm = try smallDDPM()
        var generator = RandomGenerator(seed: 4)
        let images = Tensor.randomNormal([2, 1, 8, 8], generator: &generator)
        let weights = Tensor.randomNormal([2, 1, 8, 8], generator: &generator)
        expectGradientMatchesFiniteDifferences(Tensor([3.3, 41.7]), step: 1e-2, tolerance: 2e-2, "timesteps") { t in
            (try! ddpm.network(images, timesteps: t) * weights).sum()
        }
        // And the loss's gradient with respect to the clean images (through x_t = √ᾱ x_0 + …).
        let noise = Tensor.randomNormal([2, 1, 8, 8], generator: &generator)
        expectGradientMatchesFiniteDifferences(images.slice(alongAxis: 0, start: 0, end: 1).reshape([1, 1, 8, 8]), step: 1e-2, tolerance: 3e-2, "loss") { x in
            try! ddpm.loss(x, timesteps: [30], noise: noise.slice(alongAxis: 0, start: 0, end: 1)).sum()
        }
    }

    @Test func lossIsTheMeanSquaredNoiseError() throws {
        let ddpm = try smallDDPM()
        var generator = RandomGenerator(seed: 6)
        let clean = Tensor.randomUniform([3, 1, 8, 8], low: -1, high: 1, generator: &generator)
        let noise = Tensor.randomNormal([3, 1, 8, 8], generator: &generator)
        let timesteps = [0, 50, 99]
        let loss = try ddpm.loss(clean, timesteps: timesteps, noise: noise)
        let predicted = try ddpm.network(try ddpm.schedule.noised(clean, timesteps: timesteps, noise: noise), timesteps: Tensor([0, 50, 99]))
        let expected = ((predicted - noise) * (predicted - noise)).mean(alongAxes: [1, 2, 3])
        expectClose(loss, expected, absolute: 1e-6, relative: 1e-6)
    }

    @Test func labelsConditionTheNetwork() throws {
        let ddpm = try smallDDPM(classes: 3)
        var generator = RandomGenerator(seed: 7)
        let noisy = Tensor.randomNormal([1, 1, 8, 8], generator: &generator)
        let zero = try ddpm.predictedNoise(noisy, timesteps: [20], labels: [0])
        let two = try ddpm.predictedNoise(noisy, timesteps: [20], labels: [2])
        #expect((zero - two).abs().sum().item > 1e-3)
        #expect(throws: GenerativeError.self) { try ddpm.predictedNoise(noisy, timesteps: [20]) }
        #expect(throws: GenerativeError.self) { try ddpm.predictedNoise(noisy, timesteps: [20], labels: [3]) }
        #expect(throws: GenerativeError.self) { try smallDDPM().predictedNoise(noisy, timesteps: [20], labels: [0]) }
    }

    @Test func deterministicDDIMDependsOnlyOnTheInitialNoise() throws {
        let ddpm = try smallDDPM()
        var generator = RandomGenerator(seed: 8)
        let initial = Tensor.randomNormal([2, 1, 8, 8], generator: &generator)
        var sampler = DDIM()
        sampler.steps = 5
        var first = RandomGenerator(seed: 1), second = RandomGenerator(seed: 2)
        let a = try sampler.sample(ddpm, from: initial, generator: &first), b = try sampler.sample(ddpm, from: initial, generator: &second)
        #expect(a.scalars == b.scalars)
        sampler.eta = 1
        let c = try sampler.sample(ddpm, from: initial, generator: &first), d = try sampler.sample(ddpm, from: initial, generator: &second)
        #expect(c.scalars != d.scalars)
        sampler.eta = -1
        #expect(throws: GenerativeError.self) { try sampler.sample(ddpm, from: initial, generator: &first) }
        sampler.eta = 0
        sampler.steps = 101
        #expect(throws: GenerativeError.self) { try sampler.sample(ddpm, from: initial, generator: &first) }
    }

    /// Song et al. §4.3: in σ = √(1 − ᾱ)/√ᾱ and x̄ = x/√ᾱ, the η = 0 step is an Euler step of the ODE.
    @Test func ddimStepIsAnEulerStepOfTheProbabilityFlow() throws {
        let ddpm = try smallDDPM()
        let flow = ProbabilityFlow(model: ddpm)
        var generator = RandomGenerator(seed: 10)
        let sample = Tensor.randomNormal([2, 1, 8, 8], generator: &generator)
        for (t, previous) in [(99, 79), (40, 39), (5, -1)] {
            let predicted = try ddpm.predictedNoise(sample, timesteps: [Double(t), Double(t)])
            let ddim = try ddpm.schedule.ddimStep(predictedNoise: predicted, timestep: t, previous: previous, sample: sample, eta: 0, noise: nil, clip: nil)
            expectClose(try flow.eulerStep(sample: sample, timestep: t, previous: previous), ddim, absolute: 1e-5, relative: 1e-5, "\(t) → \(previous)")
        }
        // The ODE's fractional time lands on the integer timesteps at their σ.
        #expect(abs(flow.timestep(sigma: flow.sigma(37)) - 37) < 1e-9)
        #expect(abs(flow.timestep(sigma: (flow.sigma(37) + flow.sigma(38)) / 2) - 37.5) < 1e-9)
    }

    /// On the same coarse grid of σ, RK4 (TesseraODE) lands nearer the ODE's solution (RK4 with
    /// steps of 0.05 in σ) than DDIM's own Euler steps do: the ODE view buys accuracy per step.
    @Test func rungeKuttaOnTheProbabilityFlowBeatsEulerOnTheSameGrid() throws {
        // β up to 0.05 keeps σ below 4, so a fine fixed grid in σ is cheap.
        let ddpm = try smallDDPM(betaEnd: 0.05)
        let flow = ProbabilityFlow(model: ddpm)
        var generator = RandomGenerator(seed: 11)
        let initial = Tensor.randomNormal([2, 1, 8, 8], generator: &generator)
        var sampler = DDIM()
        sampler.clipDenoised = false
        sampler.steps = 10
        let euler = try sampler.sample(ddpm, from: initial, generator: &generator)
        let path = try ddpm.schedule.samplingTimesteps(count: 10)
        let sigmas = path.map { Float(flow.sigma($0)) } + [0]
        let start = initial * Float(1 / sqrt(ddpm.schedule.alphaBar(path[0])))
        let function: ODEFunction = { sigma, state in try! flow.derivative(sigma: Double(sigma), scaled: state) }
        let (coarse, fine) = try withoutGradients {
            (try odeint(function, initial: start, times: sigmas, options: .fixedStep(.rk4)),
             try odeint(function, initial: start, times: [sigmas[0], 0], options: .fixedStep(.rk4, stepSize: 0.05)))
        }
        let distance = { (a: Tensor, b: Tensor) in Double(((a - b) * (a - b)).mean().item).squareRoot() }
        let eulerError = distance(euler, fine.final), rungeKuttaError = distance(coarse.final, fine.final)
        #expect(rungeKuttaError < 0.3 * eulerError, "RK4 \(rungeKuttaError) vs Euler \(eulerError) from the fine solution")
    }

    /// The guided noise moves by exactly −√(1 − ᾱ_t) s ∇ log p(y | x_t), and that gradient is the
    /// classifier's (finite differences); a fitting-but-wrong classifier is refused.
    @Test func classifierGuidanceShiftsTheNoiseByTheScaledScore() throws {
        let ddpm = try smallDDPM()
        var generator = RandomGenerator(seed: 12)
        var config = NoisyClassifierConfig(classes: 3)
        config.baseChannels = 8
        config.groups = 4
        let classifier = try NoisyClassifier(config: config, generator: &generator)
        let guidance = try ClassifierGuidance(classifier: classifier, scale: 2)
        let sample = Tensor.randomNormal([2, 1, 8, 8], generator: &generator), predicted = Tensor.randomNormal([2, 1, 8, 8], generator: &generator)
        let gradient = try guidance.logProbabilityGradient(sample, timestep: 30, labels: [1, 2])
        let guided = try guidance.guidedNoise(predicted, sample: sample, timestep: 30, labels: [1, 2], schedule: ddpm.schedule)
        expectClose(guided, predicted - gradient * Float(2 * sqrt(1 - ddpm.schedule.alphaBar(30))), absolute: 1e-6, relative: 1e-5)
        let first = sample.slice(alongAxis: 0, start: 0, end: 1)
        expectGradientMatchesFiniteDifferences(first, step: 1e-2, tolerance: 3e-2, "log p(y|x_t)") { x in
            -(try! classifier.logits(x, timesteps: Tensor([30]))).softmaxCrossEntropy(labels: Tensor([1])).sum()
        }
        expectClose(try guidance.logProbabilityGradient(first, timestep: 30, labels: [1]), gradient.slice(alongAxis: 0, start: 0, end: 1),
                    absolute: 1e-6, relative: 1e-4, "rows are independent")
        var sampler = DDIM()
        sampler.steps = 3
        let error = #expect(throws: GenerativeError.self) { try sampler.sample(ddpm, from: sample, labels: [1, 5], guidance: guidance, generator: &generator) }
        #expect(error?.description.contains("0..<3") == true)
        #expect(throws: GenerativeError.self) { try ClassifierGuidance(classifier: classifier, scale: -1) }
    }

    /// A few hundred Adam steps on one batch bring the simple loss well below its starting value
    /// (≈ 1, the variance of ε): the network learns the noise it can.
    @Test func trainingReducesTheSimpleLoss() throws {
        let ddpm = try smallDDPM()
        var generator = RandomGenerator(seed: 13)
        let clean = (Tensor.randomUniform([8, 1, 8, 8], generator: &generator) * 0).reshape([8, 1, 8, 8]) - 0.5
        let optimizer = Adam(parameters: ddpm.namedParameters(), learningRate: 3e-3)
        var losses: [Float] = []
        for _ in 0..<60 {
            optimizer.zeroGradients()
            let loss = try ddpm.loss(clean, generator: &generator).mean()
            loss.backward()
            optimizer.step()
            losses.append(loss.item)
        }
        let early = losses.prefix(5).reduce(0, +) / 5, late = losses.suffix(10).reduce(0, +) / 10
        #expect(late < 0.5 * early, "loss \(early) → \(late)")
    }
}
