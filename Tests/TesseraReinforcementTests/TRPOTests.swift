import Testing
import TesseraTensor
@testable import TesseraReinforcement

/// TRPO's natural-gradient machinery (Fisher–vector products by double backward, conjugate
/// gradient) and a tiny-budget end-to-end run.
@Suite struct TRPOTests {
    /// A small CartPole learner whose policy head is scaled up so its Fisher matrix is far from
    /// the damping term alone, and a batch of observations from a short rollout.
    func smallPolicy() -> (TRPO, Tensor) {
        var config = TRPOConfig()
        config.environmentCount = 2
        config.rolloutSteps = 32
        config.minibatches = 1
        config.hiddenSizes = [8]
        // Less damping than TRPO's 0.1, so the Fisher term dominates the product.
        config.damping = 0.01
        let learner = TRPO(config: config) { Environments.make("CartPole-v1")! }
        var generator = RandomGenerator(seed: 7)
        let head = learner.network.actor.layers.last!.weight
        head.assign(Tensor.randomNormal(head.shape, generator: &generator))
        let rollout = collectRollout(learner.environments, network: learner.network, steps: 32, discount: 0.99,
                                     generator: &learner.generator)
        return (learner, rollout.observations)
    }

    @Test func conjugateGradientSolvesTheDampedFisherSystem() {
        let (learner, observations) = smallPolicy()
        let fisher = learner.fisherVectorProduct(observations: observations)
        let count = learner.policyParameters.reduce(0) { $0 + $1.count }
        var generator = RandomGenerator(seed: 3)
        let gradient = Tensor.randomNormal([count], generator: &generator).scalars
        let solution = learner.conjugateGradientSolution(fisher, gradient)
        let residual = zip(fisher(solution), gradient).map { $0 - $1 }
        let relative = dot(residual, residual).squareRoot() / dot(gradient, gradient).squareRoot()
        #expect(relative < 1e-2, "‖Fx − g‖/‖g‖ = \(relative)")
        // Without the double-backward Fisher term x would be exactly g / damping. A random g lies
        // mostly in the null space of this low-rank Fisher (64 samples, 58 parameters), so the
        // deviation is a fraction of ‖x‖ (about a quarter here), not most of it.
        let dampingOnly = zip(solution, gradient).map { $0 - $1 / learner.config.damping }
        #expect(dot(dampingOnly, dampingOnly).squareRoot() > 0.1 * dot(solution, solution).squareRoot(),
                "x is nearly g / damping: the Fisher term is missing")
    }

    @Test func fisherVectorProductIsSymmetricAndPositive() {
        let (learner, observations) = smallPolicy()
        let fisher = learner.fisherVectorProduct(observations: observations)
        let count = learner.policyParameters.reduce(0) { $0 + $1.count }
        var generator = RandomGenerator(seed: 5)
        let u = Tensor.randomNormal([count], generator: &generator).scalars
        let v = Tensor.randomNormal([count], generator: &generator).scalars
        let uFv = dot(u, fisher(v)), vFu = dot(v, fisher(u))
        #expect(Swift.abs(uFv - vFu) < 1e-3 * max(Swift.abs(uFv), 1), "uᵀFv = \(uFv), vᵀFu = \(vFu)")
        #expect(dot(u, fisher(u)) > learner.config.damping * dot(u, u))
    }

    @Test func trpoImprovesCartPoleReturnWithinASmallBudget() {
        var config = TRPOConfig()
        config.totalSteps = 8 * 1024
        let learner = TRPO(config: config) { Environments.make("CartPole-v1")! }
        let before = mean(evaluate({ Environments.make("CartPole-v1")! }, episodes: 10, act: learner.act))
        var kls: [Double] = []
        for _ in 0..<learner.totalIterations { kls.append(learner.iterate()["kl"] ?? 0) }
        let after = mean(evaluate({ Environments.make("CartPole-v1")! }, episodes: 10, act: learner.act))
        #expect(after > before + 50 && after > 100, "greedy return \(before) → \(after)")
        #expect(kls.allSatisfy { $0 <= Double(config.maximumKL) }, "a step left the trust region: \(kls)")
        #expect(kls.contains { $0 > 0 }, "no step was accepted")
    }
}

extension TRPO {
    /// The solver with the learner's iteration count.
    func conjugateGradientSolution(_ product: ([Float]) -> [Float], _ b: [Float]) -> [Float] {
        conjugateGradient(product, b, iterations: config.conjugateGradientIterations)
    }
}
