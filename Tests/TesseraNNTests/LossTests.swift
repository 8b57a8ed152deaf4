import Testing
import TesseraTensor
@testable import TesseraNN

/// Each loss's value and input gradients against PyTorch.
@Suite struct LossTests {
    let fixture: Fixture

    init() throws {
        fixture = try Fixture("losses")
    }

    /// Computes `loss` from the named fixture inputs (those listed in `differentiable` require
    /// gradients) and compares the value and the gradients.
    func check(_ name: String, inputs: [String], differentiable: Set<String>, tolerance: Float = 1e-5,
               _ loss: ([Tensor]) -> Tensor) throws {
        let tensors = try inputs.map { key in
            let tensor = try fixture.tensor("\(name).\(key)")
            return differentiable.contains(key) ? tensor.requiringGradient() : tensor
        }
        let value = loss(tensors)
        expectClose(value, try fixture.tensor("\(name).loss"), absolute: tolerance, "\(name) value")
        let upstream = value.rank == 0 ? Tensor(1) : try fixture.tensor("\(name).upstream")
        (value * upstream).sum().backward()
        for (key, tensor) in zip(inputs, tensors) where differentiable.contains(key) {
            expectClose(try #require(tensor.grad), try fixture.tensor("\(name).grad.\(key)"), absolute: tolerance,
                        "\(name) gradient of \(key)")
        }
    }

    @Test func regressionLossesMatchTorch() throws {
        try check("mse", inputs: ["p", "y"], differentiable: ["p"]) { meanSquaredError($0[0], $0[1]) }
        try check("mseSum", inputs: ["p", "y"], differentiable: ["p"]) { meanSquaredError($0[0], $0[1], reduction: .sum) }
        try check("mseNone", inputs: ["p", "y"], differentiable: ["p"]) { meanSquaredError($0[0], $0[1], reduction: .none) }
        try check("l1", inputs: ["p", "y"], differentiable: ["p"]) { l1Loss($0[0], $0[1]) }
        try check("huber", inputs: ["p", "y"], differentiable: ["p"]) { huberLoss($0[0], $0[1], delta: 0.5) }
    }

    @Test func crossEntropyWithClassIndicesMatchesTorch() throws {
        try check("crossEntropy", inputs: ["x", "y"], differentiable: ["x"]) { crossEntropy(logits: $0[0], targets: $0[1]) }
        try check("crossEntropyNone", inputs: ["x", "y"], differentiable: ["x"]) {
            crossEntropy(logits: $0[0], targets: $0[1], reduction: .none)
        }
    }

    @Test func labelSmoothingMatchesTorch() throws {
        try check("crossEntropySmoothing", inputs: ["x", "y"], differentiable: ["x"]) {
            crossEntropy(logits: $0[0], targets: $0[1], labelSmoothing: 0.1)
        }
    }

    @Test func ignoredTargetsAreExcludedFromTheMean() throws {
        try check("crossEntropyIgnore", inputs: ["x", "y"], differentiable: ["x"]) {
            crossEntropy(logits: $0[0], targets: $0[1], labelSmoothing: 0.2, ignoreIndex: -100)
        }
        try check("nll", inputs: ["x", "y"], differentiable: ["x"]) {
            negativeLogLikelihood(logProbabilities: $0[0], targets: $0[1], ignoreIndex: -100)
        }
    }

    @Test func crossEntropyWithProbabilityTargetsMatchesTorch() throws {
        try check("crossEntropyProbabilities", inputs: ["x", "y"], differentiable: ["x"]) {
            crossEntropy(logits: $0[0], probabilities: $0[1], labelSmoothing: 0.1)
        }
    }

    @Test func binaryCrossEntropyIsStableForLargeLogitsAndWeighsPositives() throws {
        try check("bce", inputs: ["x", "y"], differentiable: ["x"]) { binaryCrossEntropyWithLogits(logits: $0[0], targets: $0[1]) }
        try check("bcePositiveWeight", inputs: ["x", "y", "wp"], differentiable: ["x"]) {
            binaryCrossEntropyWithLogits(logits: $0[0], targets: $0[1], positiveWeight: $0[2])
        }
    }

    @Test func divergencesMatchTorch() throws {
        try check("klCategorical", inputs: ["p", "q"], differentiable: ["p", "q"]) { klDivergence(logitsP: $0[0], logitsQ: $0[1]) }
        try check("klGaussian", inputs: ["m1", "v1", "m2", "v2"], differentiable: ["m1", "v1", "m2", "v2"], tolerance: 2e-5) {
            gaussianKLDivergence(mean: $0[0], logVariance: $0[1], otherMean: $0[2], otherLogVariance: $0[3])
        }
    }

    @Test func cosineSimilarityMatchesTorch() throws {
        try check("cosine", inputs: ["a", "b"], differentiable: ["a", "b"]) { cosineSimilarity($0[0], $0[1]) }
    }

    @Test func klDivergenceOfADistributionWithItselfIsZero() {
        let logits = Tensor([[1, 2, 3], [0, -5, 2]])
        #expect(Swift.abs(klDivergence(logitsP: logits, logitsQ: logits + 4).item) < 1e-6, "logits shifted per row describe the same distribution")
        #expect(gaussianKLDivergence(mean: Tensor([[0.5]]), logVariance: Tensor([[0.2]]),
                                     otherMean: Tensor([[0.5]]), otherLogVariance: Tensor([[0.2]])).item == 0)
    }
}
