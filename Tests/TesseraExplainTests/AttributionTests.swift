import Testing
import TesseraExplain
import TesseraNN
import TesseraTensor

struct AttributionTests {
    func smoothModel() -> Sequential {
        var generator = RandomGenerator(seed: 21)
        return Sequential(Linear(5, 8, generator: &generator), Tanh(), Linear(8, 3, generator: &generator))
    }

    @Test func integratedGradientsAreComplete() throws {
        let model = smoothModel()
        let input = randomInput([3, 5], low: -2, high: 2)
        let baseline = Tensor.full([5], 0.5)
        let attributions = try Attribution.integratedGradients(of: model, at: input, target: .output(1), baseline: baseline, steps: 64)
        let difference = withoutGradients {
            (model(input) - model(Tensor.zeros([3, 5]) + baseline)).select(alongAxis: 1, index: 1).scalars
        }
        // Midpoint rule on a smooth path: error ~ |f''| / (24 · steps²), far below 1e-3 here.
        for (sum, expected) in zip(rowSums(attributions), difference) {
            #expect(Swift.abs(sum - expected) <= 1e-3, "\(sum) vs \(expected)")
        }
        // A single step is visibly off, so the test would notice a wrong weighting.
        let coarse = try Attribution.integratedGradients(of: model, at: input, target: .output(1), baseline: baseline, steps: 1)
        #expect(zip(rowSums(coarse), difference).contains { Swift.abs($0 - $1) > 1e-3 })
    }

    @Test func gradientOfALinearModelIsItsWeightRow() throws {
        var generator = RandomGenerator(seed: 1)
        let layer = Linear(4, 3, generator: &generator)
        let gradient = try Attribution.gradient(of: layer, at: randomInput([2, 4]), target: .output(2))
        let row = layer.weight.select(alongAxis: 0, index: 2).detached()
        expectClose(gradient, Tensor.stack([row, row]), absolute: 1e-6)
    }

    @Test func smoothGradWithoutNoiseIsTheGradientAndWithNoiseIsSeeded() throws {
        let model = smoothModel()
        let input = randomInput([2, 5])
        var generator = RandomGenerator(seed: 9)
        let noiseless = try Attribution.smoothGrad(of: model, at: input, target: .output(0), noise: 0, samples: 3, generator: &generator)
        expectClose(noiseless, try Attribution.gradient(of: model, at: input, target: .output(0)), absolute: 1e-6)
        var first = RandomGenerator(seed: 4), second = RandomGenerator(seed: 4)
        let a = try Attribution.smoothGrad(of: model, at: input, target: .output(0), noise: 0.5, samples: 8, generator: &first)
        let b = try Attribution.smoothGrad(of: model, at: input, target: .output(0), noise: 0.5, samples: 8, generator: &second)
        #expect(a.scalars == b.scalars)
        #expect(a.scalars != noiseless.scalars)
    }
}
