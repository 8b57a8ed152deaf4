import Foundation
import Testing
import TesseraTensor
@testable import TesseraGenerative

/// The noise schedules and the DDPM and DDIM steps against diffusers' `DDPMScheduler` and
/// `DDIMScheduler` (Tests/Fixtures/fixtures_diffusion.py), the closed form of `q(x_t | x_0)`
/// against the chained forward process, and the relations between the two samplers.
@Suite struct DiffusionSchedulerTests {
    func fixture() throws -> Fixture {
        try Fixture("diffusion", bundle: .module, generator: "Tests/Fixtures/generate.py fixtures_diffusion")
    }

    func schedule(_ kind: NoiseScheduleKind, _ timesteps: Int) throws -> NoiseSchedule {
        var config = DDPMConfig()
        config.schedule = kind
        config.timesteps = timesteps
        return try config.makeSchedule()
    }

    @Test(arguments: [(NoiseScheduleKind.linear, 1000), (.cosine, 1000), (.linear, 50), (.cosine, 50)])
    func schedulesMatchDiffusers(_ kind: NoiseScheduleKind, _ timesteps: Int) throws {
        let fixture = try fixture(), schedule = try schedule(kind, timesteps)
        let key = "schedule.\(kind.rawValue)_\(timesteps)"
        expectClose(Tensor(schedule.betas.map(Float.init)), try fixture.tensor("\(key).betas"), absolute: 1e-7, relative: 1e-5, "\(key) β")
        expectClose(Tensor(schedule.alphasCumulative.map(Float.init)), try fixture.tensor("\(key).alphas_cumprod"),
                    absolute: 1e-7, relative: 1e-4, "\(key) ᾱ")
    }

    @Test(arguments: [(1000, 1000), (1000, 50), (1000, 10), (1000, 7), (50, 50), (50, 20), (1000, 3)])
    func samplingTimestepsMatchDiffusers(_ timesteps: Int, _ count: Int) throws {
        let path = try schedule(.linear, timesteps).samplingTimesteps(count: count)
        #expect(path.map(Float.init) == (try fixture().tensor("timesteps.\(timesteps)_\(count)")).scalars)
    }

    @Test(arguments: [("linear_small_full_mid", NoiseScheduleKind.linear, DDPMVariance.posterior, true),
                      ("linear_large_full_mid", .linear, .beta, true), ("linear_small_full_last", .linear, .posterior, true),
                      ("cosine_small_full_first", .cosine, .posterior, false), ("cosine_large_noclip_mid", .cosine, .beta, false),
                      ("linear_small_respaced", .linear, .posterior, true), ("cosine_large_respaced", .cosine, .beta, false)])
    func ddpmStepMatchesDiffusers(_ name: String, _ kind: NoiseScheduleKind, _ variance: DDPMVariance, _ clip: Bool) throws {
        let fixture = try fixture(), key = "ddpm.\(name)"
        let step = try schedule(kind, 1000).ddpmStep(
            predictedNoise: try fixture.tensor("\(key).model_output"), timestep: Int(try fixture.tensor("\(key).timestep").item),
            previous: Int(try fixture.tensor("\(key).previous").item), sample: try fixture.tensor("\(key).sample"),
            noise: try fixture.tensor("\(key).noise"), variance: variance, clip: clip ? 1 : nil)
        expectClose(step, try fixture.tensor("\(key).prev_sample"), absolute: 2e-5, relative: 1e-4, key)
    }

    @Test(arguments: [("linear_eta0_50", NoiseScheduleKind.linear, true), ("linear_eta1_50", .linear, true),
                      ("cosine_eta05_10", .cosine, false), ("linear_eta0_last", .linear, false),
                      ("cosine_eta1_full", .cosine, false), ("linear_eta0_first", .linear, true)])
    func ddimStepMatchesDiffusers(_ name: String, _ kind: NoiseScheduleKind, _ clip: Bool) throws {
        let fixture = try fixture(), key = "ddim.\(name)"
        let step = try schedule(kind, 1000).ddimStep(
            predictedNoise: try fixture.tensor("\(key).model_output"), timestep: Int(try fixture.tensor("\(key).timestep").item),
            previous: Int(try fixture.tensor("\(key).previous").item), sample: try fixture.tensor("\(key).sample"),
            eta: Double(try fixture.tensor("\(key).eta").item), noise: try fixture.tensor("\(key).noise"), clip: clip ? 1 : nil)
        expectClose(step, try fixture.tensor("\(key).prev_sample"), absolute: 2e-5, relative: 1e-4, key)
    }

    /// Chaining `q(x_t | x_{t−1})` ten times gives the closed form's mean `√ᾱ x_0` and variance `1 − ᾱ`.
    @Test func closedFormMatchesTheChainedForwardProcess() throws {
        let schedule = try NoiseSchedule.linear(timesteps: 10, betaStart: 0.02, betaEnd: 0.2)
        var generator = RandomGenerator(seed: 3)
        let count = 40_000
        var chained = Tensor.full([count, 1], 0.8)
        for beta in schedule.betas {
            chained = chained * Float(sqrt(1 - beta)) + Tensor.randomNormal([count, 1], generator: &generator) * Float(sqrt(beta))
        }
        let closed = try schedule.noised(Tensor.full([count, 1], 0.8), timesteps: Array(repeating: 9, count: count),
                                         noise: Tensor.randomNormal([count, 1], generator: &generator))
        let alphaBar = schedule.alphaBar(9)
        for (name, samples) in [("chained", chained), ("closed form", closed)] {
            let mean = Double(samples.mean().item), variance = Double(((samples - Float(mean)) * (samples - Float(mean))).mean().item)
            #expect(abs(mean - 0.8 * sqrt(alphaBar)) < 0.012, "\(name) mean \(mean) vs \(0.8 * sqrt(alphaBar))")
            #expect(abs(variance - (1 - alphaBar)) < 0.02, "\(name) variance \(variance) vs \(1 - alphaBar)")
        }
    }

    /// η = 1 gives DDPM's posterior variance β̃ and (unclipped) DDPM's step exactly.
    @Test func ddimWithEtaOneIsTheDDPMPosteriorStep() throws {
        let schedule = try schedule(.cosine, 100)
        var generator = RandomGenerator(seed: 5)
        let sample = Tensor.randomNormal([3, 1, 4, 4], generator: &generator), predicted = Tensor.randomNormal([3, 1, 4, 4], generator: &generator)
        let noise = Tensor.randomNormal([3, 1, 4, 4], generator: &generator)
        for (t, previous) in [(60, 59), (60, 40), (1, 0)] {
            #expect(abs(pow(schedule.ddimStandardDeviation(t, previous: previous, eta: 1), 2) - schedule.posteriorVariance(t, previous: previous)) < 1e-12)
            let ddim = try schedule.ddimStep(predictedNoise: predicted, timestep: t, previous: previous, sample: sample, eta: 1, noise: noise, clip: nil)
            let ddpm = try schedule.ddpmStep(predictedNoise: predicted, timestep: t, previous: previous, sample: sample, noise: noise,
                                             variance: .posterior, clip: nil)
            expectClose(ddim, ddpm, absolute: 1e-5, relative: 1e-5, "t \(t) → \(previous)")
        }
        // η = 0 adds nothing of the noise.
        let deterministic = try schedule.ddimStep(predictedNoise: predicted, timestep: 60, previous: 40, sample: sample, eta: 0, noise: nil, clip: nil)
        let otherNoise = try schedule.ddimStep(predictedNoise: predicted, timestep: 60, previous: 40, sample: sample, eta: 0, noise: noise * 3, clip: nil)
        #expect(deterministic.scalars == otherNoise.scalars)
    }

    /// The two DDPM variances bracket each other: β̃_t ≤ β_t, equal at t = 0's neighbour only in the limit.
    @Test func posteriorVarianceIsBelowBeta() throws {
        let schedule = try schedule(.linear, 1000)
        for t in [1, 10, 500, 999] {
            let posterior = schedule.posteriorVariance(t)
            #expect(posterior < schedule.betas[t] && posterior > 0, "t \(t): β̃ \(posterior) vs β \(schedule.betas[t])")
        }
        #expect(schedule.posteriorVariance(0) == 0)
    }

    @Test func badSettingsAreRejectedWithTheirValue() throws {
        #expect(throws: GenerativeError.self) { try NoiseSchedule(betas: [0.1, 1.0]) }
        #expect(throws: GenerativeError.self) { try NoiseSchedule(betas: [0, 0.1]) }
        #expect(throws: GenerativeError.self) { try NoiseSchedule.linear(timesteps: 10, betaStart: 0.5, betaEnd: 1.5) }
        let schedule = try schedule(.linear, 50)
        for count in [0, 51] {
            let error = #expect(throws: GenerativeError.self) { try schedule.samplingTimesteps(count: count) }
            #expect(error?.description.contains("1...50") == true, "\(error?.description ?? "")")
        }
        let x = Tensor.zeros([1, 1, 2, 2])
        let error = #expect(throws: GenerativeError.self) {
            try schedule.ddimStep(predictedNoise: x, timestep: 10, previous: 5, sample: x, eta: -0.5, noise: x)
        }
        #expect(error?.description.contains("eta") == true)
        #expect(throws: GenerativeError.self) { try schedule.ddimStep(predictedNoise: x, timestep: 10, previous: 5, sample: x, eta: 0.5, noise: nil) }
        #expect(throws: GenerativeError.self) { try schedule.ddimStep(predictedNoise: x, timestep: 50, previous: 5, sample: x, eta: 0, noise: nil) }
        #expect(throws: GenerativeError.self) { try schedule.ddpmStep(predictedNoise: x, timestep: 10, previous: 10, sample: x, noise: x, variance: .beta) }
        #expect(throws: GenerativeError.self) { try schedule.noised(x, timesteps: [50], noise: x) }
    }

    @Test func slerpKeepsTheEndpointsAndTheNorm() throws {
        var generator = RandomGenerator(seed: 9)
        let a = Tensor.randomNormal([1, 1, 8, 8], generator: &generator), b = Tensor.randomNormal([1, 1, 8, 8], generator: &generator)
        let b2 = b * Float(sqrt(Double((a * a).sum().item) / Double((b * b).sum().item)))   // same norm as a
        let path = try slerp(a, b2, steps: 5)
        #expect(path.shape == [5, 1, 8, 8])
        expectClose(path.slice(alongAxis: 0, start: 0, end: 1), a, absolute: 1e-5, relative: 1e-5)
        expectClose(path.slice(alongAxis: 0, start: 4, end: 5), b2, absolute: 1e-5, relative: 1e-5)
        let norm = sqrt(Double((a * a).sum().item))
        for row in 0..<5 {
            let point = path.slice(alongAxis: 0, start: row, end: row + 1)
            #expect(abs(sqrt(Double((point * point).sum().item)) - norm) < 1e-3 * norm, "row \(row) leaves the sphere")
        }
        // A straight line's midpoint is shorter: what slerp avoids.
        let middle = (a + b2) * 0.5
        #expect(sqrt(Double((middle * middle).sum().item)) < 0.9 * norm)
        #expect(throws: GenerativeError.self) { try slerp(a, Tensor.zeros([1, 64]), steps: 3) }
    }
}
