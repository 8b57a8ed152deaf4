import Foundation
import Testing
import TesseraNN
import TesseraTensor
@testable import TesseraODE

/// The neural-ODE layer and the augmented NODE (Dupont et al. 2019).
@Suite struct ODEBlockTests {
    func smallBlock(features: Int = 2, augmented: Int = 0, adjoint: Bool = false) -> ODEBlock {
        var config = ODEBlockConfig(features: features)
        config.augmentedDimensions = augmented
        config.hiddenSizes = [16]
        config.adjoint = adjoint
        config.solver = .dopri5(relativeTolerance: 1e-5, absoluteTolerance: 1e-7)
        var generator = RandomGenerator(seed: 3)
        return ODEBlock(config: config, generator: &generator)
    }

    @Test func blockIsALayerWithNamedParametersAndReportsItsCost() {
        let block = smallBlock(augmented: 3)
        #expect(block.namedParameters().map(\.name) == ["function.network.layers.0.weight", "function.network.layers.0.bias",
                                                       "function.network.layers.1.weight", "function.network.layers.1.bias"])
        #expect((block.function as? ODEFunctionNetwork)?.network.layers[0].inputSize == 2 + 3 + 1)
        let output = block(Tensor([[1, 2], [3, 4]]))
        #expect(output.shape == [2, 5])
        #expect(block.lastError == nil)
        #expect(block.lastFunctionEvaluations >= 8 && (block.lastFunctionEvaluations - 2) % 6 == 0)
        // The padding starts at zero and moves: the extra dimensions carry information.
        #expect(output.slice(alongAxis: 1, start: 2).abs().sum().item > 0)
    }

    @Test func adjointAndDirectBlocksGiveTheSameGradients() {
        var gradients: [[Float]] = []
        for adjoint in [false, true] {
            let block = smallBlock(augmented: 1, adjoint: adjoint)
            let input = Tensor([[0.5, -1], [2, 0.25]]).requiringGradient()
            let output = block(input)
            (output * output).sum().backward()
            gradients.append(input.grad!.scalars + block.parameters().flatMap { $0.grad!.scalars })
        }
        expectClose(Tensor(gradients[1]), Tensor(gradients[0]), absolute: 1e-4, relative: 2e-3, "adjoint vs direct")
    }

    /// A field of one's own: u' = θ ⊙ u on a rank-3 state, so u(1) = exp(θ) u(0).
    final class Scaling: ODEVectorField {
        let rate = Tensor([0.5, -1]).requiringGradient()
        func callAsFunction(_ time: Float, _ state: Tensor) -> Tensor { state * rate }
    }

    @Test func blockAcceptsAVectorFieldOfItsOwn() {
        var config = ODEBlockConfig(features: 2)
        config.solver = .dopri5(relativeTolerance: 1e-6, absoluteTolerance: 1e-8)
        let field = Scaling()
        let block = ODEBlock(config: config, function: field)
        #expect(block.namedParameters().map(\.name) == ["function.rate"])
        let input = Tensor(shape: [2, 3, 2]) { Float($0 + 1) }
        let output = block(input)
        expectClose(output, input * Tensor([Foundation.exp(0.5), Foundation.exp(-1)]), absolute: 1e-4, relative: 1e-4, "exp(θ) u")
        output.sum().backward()
        // d/dθ Σ exp(θ) u = exp(θ) Σ u per component.
        let sums = input.sum(alongAxes: [0, 1]).scalars
        expectClose(field.rate.grad!, Tensor([Foundation.exp(0.5) * sums[0], Foundation.exp(-1) * sums[1]]),
                    absolute: 1e-3, relative: 1e-4, "∂/∂θ")
    }

    @Test func failedSolveGivesNaNAndKeepsTheError() {
        var config = ODEBlockConfig(features: 1)
        config.solver.maximumSteps = 1
        var generator = RandomGenerator(seed: 0)
        let block = ODEBlock(config: config, generator: &generator)
        let output = block(Tensor([[1]]))
        #expect(output.item.isNaN)
        #expect(block.lastError?.reason == .tooManySteps(limit: 1))
    }

    /// Dupont et al.'s g₁(x) = −x on x = ±1 (their §4.1): the flow of a 1-D NODE is monotone, so it
    /// cannot swap the two points (its best loss is 1, mapping both to 0); one extra dimension lets
    /// the trajectories go around each other.
    @Test func augmentationLetsTheFlowMapXToMinusX() {
        func trainedLoss(augmented: Int) -> Float {
            var config = ODEBlockConfig(features: 1)
            config.augmentedDimensions = augmented
            config.hiddenSizes = [16]
            config.solver = .fixedStep(.rk4, stepSize: 0.1)
            var generator = RandomGenerator(seed: 1)
            let block = ODEBlock(config: config, generator: &generator)
            let optimizer = Adam(parameters: block.namedParameters(), learningRate: 0.02)
            let inputs = Tensor([[1], [-1]]), targets = Tensor([[-1], [1]])
            var loss: Float = .infinity
            for _ in 0..<150 {
                optimizer.zeroGradients()
                let prediction = block(inputs).slice(alongAxis: 1, start: 0, end: 1)
                let value = meanSquaredError(prediction, targets)
                value.backward()
                optimizer.step()
                loss = value.item
            }
            return loss
        }
        let plain = trainedLoss(augmented: 0), augmented = trainedLoss(augmented: 1)
        #expect(plain > 0.9, "a 1-D NODE cannot swap ±1, loss \(plain)")
        #expect(augmented < 0.05, "ANODE loss \(augmented)")
    }

    @Test func augmentedClassifierLearnsTwoClasses() {
        var config = AugmentedNODEConfig(inputFeatures: 2, outputs: 2, augmentedDimensions: 2)
        config.block.hiddenSizes = [16]
        config.block.solver = .fixedStep(.rk4, stepSize: 0.25)
        var generator = RandomGenerator(seed: 2)
        let model = AugmentedNODE(config: config, generator: &generator)
        // Inner disk vs outer ring, a task a plain NODE finds hard (Dupont et al. §5).
        var points: [[Float]] = [], labels: [Float] = []
        for index in 0..<32 {
            let angle = Float(index) * 0.7, radius: Float = index % 2 == 0 ? 0.4 : 1.6
            points.append([radius * Foundation.cos(angle), radius * Foundation.sin(angle)])
            labels.append(Float(index % 2))
        }
        let x = Tensor(points), y = Tensor(labels)
        let optimizer = Adam(parameters: model.namedParameters(), learningRate: 0.02)
        var first: Float = 0, last: Float = 0
        for step in 0..<60 {
            optimizer.zeroGradients()
            let loss = crossEntropy(logits: model(x), targets: y)
            loss.backward()
            optimizer.step()
            if step == 0 { first = loss.item }
            last = loss.item
        }
        #expect(model(x).shape == [32, 2])
        #expect(model.lastFunctionEvaluations == 16)
        #expect(last < first / 3, "loss \(first) → \(last)")
    }
}
