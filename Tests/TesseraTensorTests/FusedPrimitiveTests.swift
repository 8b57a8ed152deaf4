import Testing
@testable import TesseraTensor

/// The fused primitives (`linear`, `softmaxCrossEntropy`, `softmax`, `logSoftmax`, `layerNormalized`) against the composed ops they replace,
/// whose rules are pinned to PyTorch elsewhere: same values, same first-order gradients from the
/// fused backward kernels, and same second-order gradients through `createGraph`.
@Suite struct FusedPrimitiveTests {
    /// Value, gradient (fused first-order path and recorded path) and the gradient of the squared
    /// gradient norm, for `fused` and `composed` applied to the same `inputs`.
    private func expectSameToSecondOrder(_ inputs: [Tensor], fused: ([Tensor]) -> Tensor, composed: ([Tensor]) -> Tensor,
                                         sourceLocation: SourceLocation = #_sourceLocation) {
        let (value, reference) = (fused(inputs), composed(inputs))
        expectClose(value, reference, "value", sourceLocation: sourceLocation)
        let firstOrder = Tensor.gradients(of: value, withRespectTo: inputs)
        let recorded = Tensor.gradients(of: value, withRespectTo: inputs, createGraph: true)
        let expected = Tensor.gradients(of: reference, withRespectTo: inputs, createGraph: true)
        for (index, (fusedGradient, composedGradient)) in zip(firstOrder, expected).enumerated() {
            expectClose(fusedGradient, composedGradient.detached(), "first-order gradient \(index)", sourceLocation: sourceLocation)
            expectClose(recorded[index].detached(), composedGradient.detached(), "recorded gradient \(index)",
                        sourceLocation: sourceLocation)
        }
        let penalty = recorded.map { ($0 * $0).sum() }.reduce(Tensor(0), +)
        let expectedPenalty = expected.map { ($0 * $0).sum() }.reduce(Tensor(0), +)
        let second = Tensor.gradients(of: penalty, withRespectTo: inputs)
        let expectedSecond = Tensor.gradients(of: expectedPenalty, withRespectTo: inputs)
        for (index, (a, b)) in zip(second, expectedSecond).enumerated() {
            expectClose(a, b, absolute: 1e-4, "second-order gradient \(index)", sourceLocation: sourceLocation)
        }
    }

    @Test func softmaxCrossEntropyMatchesLogSoftmaxAndGatherToSecondOrder() {
        var generator = RandomGenerator(seed: 11)
        let logits = (Tensor.randomNormal([5, 11], generator: &generator) * 3).requiringGradient()
        let labels = Tensor([0, 10, 3, 3, 7])
        // Different weights per sample, so a gradient routed to the wrong row would show.
        let weights = Tensor([0.5, -1, 2, 1.5, 0.25])
        expectSameToSecondOrder([logits], fused: { ($0[0].softmaxCrossEntropy(labels: labels) * weights).sum() }, composed: {
            let picked = $0[0].logSoftmax(alongAxis: -1).gather(alongAxis: 1, indices: labels.reshape([5, 1]))
            return (-picked.reshape([5]) * weights).sum()
        })
    }

    @Test func softmaxCrossEntropyIsNaNForNaNLogitsAndShiftInvariant() {
        let logits = Tensor([[1, 2, 3], [1000, 1001, 1002], [.nan, 0, 0]])
        let losses = logits.softmaxCrossEntropy(labels: Tensor([2, 2, 1])).scalars
        #expect(Swift.abs(losses[0] - losses[1]) < 1e-5)
        #expect(losses[2].isNaN)
    }

    @Test func linearMatchesMatmulPlusBiasToSecondOrder() {
        var generator = RandomGenerator(seed: 12)
        let input = Tensor.randomNormal([2, 3, 4], generator: &generator).requiringGradient()
        let weight = Tensor.randomNormal([5, 4], generator: &generator).requiringGradient()
        let bias = Tensor.randomNormal([5], generator: &generator).requiringGradient()
        let probe = Tensor.randomNormal([2, 3, 5], generator: &generator)
        // A cube so that the second-order gradients do not vanish.
        func loss(_ output: Tensor) -> Tensor { (output * output * output * probe).sum() }
        expectSameToSecondOrder([input, weight, bias], fused: { loss($0[0].linear(weight: $0[1], bias: $0[2])) },
                                composed: { loss($0[0].matmul(transposed: $0[1]) + $0[2]) })
        expectSameToSecondOrder([input, weight], fused: { loss($0[0].linear(weight: $0[1], bias: nil)) },
                                composed: { loss($0[0].matmul(transposed: $0[1])) })
        let vector = Tensor([1, -2, 0.5, 3])
        expectClose(vector.linear(weight: weight, bias: bias), vector.matmul(weight.transposed()) + bias)
    }

    @Test func softmaxMatchesComposedOpsToSecondOrder() {
        var generator = RandomGenerator(seed: 13)
        // Rows of 11 (a vector loop plus a tail), one with a blocked attention score.
        let logits = (Tensor.randomNormal([2, 3, 11], generator: &generator) * 3)
        logits.storage.pointer[5] = -1e9
        let input = logits.requiringGradient()
        let probe = Tensor.randomNormal([2, 3, 11], generator: &generator)
        func loss(_ output: Tensor) -> Tensor { (output * output * probe).sum() }
        expectSameToSecondOrder([input], fused: { loss($0[0].softmax(alongAxis: -1)) },
                                composed: { loss($0[0].composedSoftmax(alongAxis: 2)) })
        #expect(input.softmax().scalars[5] == 0)
    }

    @Test func logSoftmaxMatchesComposedOpsToSecondOrder() {
        var generator = RandomGenerator(seed: 15)
        let input = (Tensor.randomNormal([2, 3, 11], generator: &generator) * 3).requiringGradient()
        let probe = Tensor.randomNormal([2, 3, 11], generator: &generator)
        func loss(_ output: Tensor) -> Tensor { (output * output * probe).sum() }
        expectSameToSecondOrder([input], fused: { loss($0[0].logSoftmax(alongAxis: -1)) },
                                composed: { loss($0[0].composedLogSoftmax(alongAxis: 2)) })
        let shifted = Tensor([[1000, 1001, 1002], [1, .nan, 3]]).logSoftmax()
        expectClose(shifted.slice(alongAxis: 0, start: 0, end: 1), Tensor([[1, 2, 3]]).logSoftmax())
        #expect(shifted.scalars[3..<6].allSatisfy { $0.isNaN })
    }

    @Test func softmaxRowWithNaNIsNaNAndOtherRowsAreUntouched() {
        let output = Tensor([[1, .nan, 3], [1000, 1001, 1002]]).softmax()
        #expect(output.scalars[0..<3].allSatisfy { $0.isNaN })
        expectClose(output.slice(alongAxis: 0, start: 1, end: 2), Tensor([[1, 2, 3]]).softmax())
    }

    @Test func layerNormalizedMatchesComposedOpsToSecondOrder() {
        var generator = RandomGenerator(seed: 14)
        // 12 features (a vector loop plus a tail) given as a [3, 4] normalized shape.
        let input = (Tensor.randomNormal([2, 3, 4], generator: &generator) * 2 + 1).requiringGradient()
        let weight = Tensor.randomNormal([3, 4], generator: &generator).requiringGradient()
        let bias = Tensor.randomNormal([3, 4], generator: &generator).requiringGradient()
        let probe = Tensor.randomNormal([2, 3, 4], generator: &generator)
        func loss(_ output: Tensor) -> Tensor { (output * output * output * probe).sum() }
        func composed(_ x: Tensor) -> Tensor {
            let centered = x - x.mean(alongAxes: [1, 2], keepDims: true)
            return centered * ((centered * centered).mean(alongAxes: [1, 2], keepDims: true) + 1e-5).rsqrt()
        }
        expectSameToSecondOrder([input, weight, bias],
                                fused: { loss($0[0].layerNormalized(featureCount: 12, weight: $0[1], bias: $0[2], epsilon: 1e-5)) },
                                composed: { loss(composed($0[0]) * $0[1] + $0[2]) })
        expectSameToSecondOrder([input], fused: { loss($0[0].layerNormalized(featureCount: 4, weight: nil, bias: nil, epsilon: 1e-5)) },
                                composed: {
            let centered = $0[0] - $0[0].mean(alongAxes: [2], keepDims: true)
            return loss(centered * ((centered * centered).mean(alongAxes: [2], keepDims: true) + 1e-5).rsqrt())
        })
    }
}
