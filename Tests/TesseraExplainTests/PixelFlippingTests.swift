import Testing
@testable import TesseraExplain
import TesseraNN
import TesseraTensor

struct PixelFlippingTests {
    /// `f(x) = 0.5 x₀ − x₁ + 2 x₂ + 0.25 x₃`, one output, no bias.
    let linear = Linear(weight: Tensor(shape: [1, 4], scalars: [0.5, -1, 2, 0.25]), bias: nil)

    @Test func aLinearModelsCurveFollowsItsContributionsRemovedLargestFirst() throws {
        let x = Tensor(shape: [1, 4], scalars: [1, 2, 3, 4])
        let contributions = x * linear.weight                    // [0.5, −2, 6, 1]: removed as 2, 3, 0, 1
        let curve = try PixelFlipping(steps: 4).curve(of: linear, inputs: x, relevance: contributions, target: .output(0))
        #expect(curve.fractionsRemoved == [0, 0.25, 0.5, 0.75, 1])
        #expect(zip(curve.meanOutputs, [5.5, -0.5, -1.5, -2, 0]).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(abs(curve.areaOverThePerturbationCurve - 26.0 / 5) < 1e-6)   // (0 + 6 + 7 + 7.5 + 5.5) / 5
        #expect(abs(curve.areaUnderTheCurve - -0.3125) < 1e-6)             // 0.25 · (2.5 − 1 − 1.75 − 1)
    }

    @Test func exactContributionsBeatEveryRandomOrderingOnALinearModel() throws {
        var generator = RandomGenerator(seed: 5)
        let model = Linear(32, 1, generator: &generator)
        let inputs = Tensor.randomNormal([8, 32], generator: &generator)
        let exact = inputs * model.weight                            // each feature's share of the output
        let flipping = PixelFlipping(steps: 8)
        let best = try flipping.curve(of: model, inputs: inputs, relevance: exact, target: .output(0))
        var randomAOPC: [Double] = []
        for _ in 0..<20 {
            let random = PixelFlipping.randomOrdering(like: inputs, generator: &generator)
            randomAOPC.append(try flipping.curve(of: model, inputs: inputs, relevance: random, target: .output(0)).areaOverThePerturbationCurve)
        }
        // Removing the largest shares first maximises every prefix's drop, so no ordering does better.
        #expect(randomAOPC.allSatisfy { $0 <= best.areaOverThePerturbationCurve + 1e-5 })
        #expect(best.areaOverThePerturbationCurve > randomAOPC.reduce(0, +) / 20 + 0.5)
        let reversed = try flipping.curve(of: model, inputs: inputs, relevance: -exact, target: .output(0))
        #expect(reversed.areaOverThePerturbationCurve < 0, "least relevant first raises the output")
    }

    @Test func stepsThatDoNotDivideTheFeaturesRemoveTheCeilingAndEndWithEverything() throws {
        let model = Linear(weight: Tensor(shape: [1, 10]) { _ in 1 }, bias: nil)
        let x = Tensor(shape: [1, 10]) { Float($0 + 1) }
        let curve = try PixelFlipping(steps: 4).curve(of: model, inputs: x, relevance: x, target: .output(0))
        #expect(curve.fractionsRemoved == [0, 0.3, 0.5, 0.8, 1])                     // ⌈k·10/4⌉ = 0, 3, 5, 8, 10
        #expect(curve.meanOutputs == [55, 28, 15, 3, 0])                            // − (10+9+8), (7+6), (5+4+3), (2+1)
    }

    @Test func aOneRowBaselineReplacesEveryRowsFeatures() throws {
        let x = Tensor(shape: [2, 4], scalars: [1, 2, 3, 4, -1, 0, 1, 2])
        let curve = try PixelFlipping(steps: 1, baseline: Tensor([3, 3, 3, 3]))
            .curve(of: linear, inputs: x, relevance: x, target: .output(0))
        #expect(abs(curve.meanOutputs[1] - 3 * 1.75) < 1e-6, "everything removed: f(baseline) = 3 · Σw")
    }

    @Test func theModelRunsInEvaluationModeAndGetsItsModeBack() throws {
        var generator = RandomGenerator(seed: 1)
        let dropout = Dropout(probability: 0.5, generator: RandomGenerator(seed: 2))
        let model = Sequential(Linear(6, 6, generator: &generator), dropout, Linear(6, 2, generator: &generator))
        let x = Tensor.randomNormal([3, 6], generator: &generator)
        let relevance = Tensor.randomNormal([3, 6], generator: &generator)
        let first = try PixelFlipping(steps: 3).curve(of: model, inputs: x, relevance: relevance, target: .outputs([0, 1, 0]))
        let second = try PixelFlipping(steps: 3).curve(of: model, inputs: x, relevance: relevance, target: .outputs([0, 1, 0]))
        #expect(first == second, "no dropout noise in the curve")
        #expect(dropout.mode == .training)
    }

    @Test func tiesKeepIndexOrderAndNaNRelevancesGoLast() {
        #expect(PixelFlipping.mostRelevantFirst([1, .nan, 3, 1, -2]) == [2, 0, 3, 4, 1])
    }

    @Test func badArgumentsNameWhatWasExpected() {
        let x = Tensor(shape: [1, 4], scalars: [1, 2, 3, 4])
        #expect(throws: ExplainError.relevanceShape(expected: [1, 4], got: [4])) {
            try PixelFlipping().curve(of: linear, inputs: x, relevance: Tensor([1, 2, 3, 4]), target: .output(0))
        }
        #expect(throws: ExplainError.targetOutOfRange(index: 3, outputCount: 1)) {
            try PixelFlipping().curve(of: linear, inputs: x, relevance: x, target: .output(3))
        }
        #expect(throws: ExplainError.self) { try PixelFlipping(steps: 0).curve(of: linear, inputs: x, relevance: x, target: .output(0)) }
        do {
            _ = try PixelFlipping(baseline: Tensor([1, 2])).curve(of: linear, inputs: x, relevance: x, target: .output(0))
            Issue.record("a baseline of the wrong shape was accepted")
        } catch {
            #expect("\(error)".contains("[2]") && "\(error)".contains("[1, 4]"))
        }
    }
}
