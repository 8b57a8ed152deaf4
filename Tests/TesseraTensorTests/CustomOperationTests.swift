import Testing
import TesseraTensor

/// `Tensor.customOperation`: a hand-written gradient rule outside the tensor core.
@Suite struct CustomOperationTests {
    /// y = x³ with its rule written by hand, used inside a larger expression.
    func cube(_ x: Tensor) -> Tensor {
        Tensor.customOperation("cube", output: withoutGradients { x * x * x }, inputs: [x]) { gradient in
            [gradient * 3 * x * x]
        }
    }

    @Test func handWrittenRuleMatchesFiniteDifferences() {
        expectGradientMatchesFiniteDifferences(Tensor([0.5, -1.2, 2]), step: 1e-2, tolerance: 2e-3, "cube") { x in
            (cube(x) * Tensor([1, 2, 3])).sum() * 0.1
        }
    }

    @Test func outputSharesStorageAndIsRecordedOnlyWhenNeeded() {
        let values = Tensor([1, 2])
        let x = Tensor([3, 4]).requiringGradient()
        let recorded = Tensor.customOperation("identity", output: values, inputs: [x]) { [$0] }
        #expect(recorded !== values)
        #expect(recorded.storage === values.storage)
        #expect(recorded.operationName == "identity")
        #expect(recorded.recordedGraphSize.operations == 1 && recorded.recordedGraphSize.retainedElements == 2)
        let constant = Tensor.customOperation("identity", output: values, inputs: [Tensor([3, 4])]) { [$0] }
        #expect(!constant.requiresGrad)
        let unrecorded = withoutGradients { Tensor.customOperation("identity", output: values, inputs: [x]) { [$0] } }
        #expect(!unrecorded.requiresGrad)
    }

    @Test func ruleBuiltFromTensorOpsIsDifferentiableAgain() {
        let x = Tensor([1.5]).requiringGradient()
        let first = Tensor.gradients(of: cube(x).sum(), withRespectTo: [x], createGraph: true)[0]
        let second = Tensor.gradients(of: first.sum(), withRespectTo: [x])[0]
        #expect(abs(first.item - 3 * 1.5 * 1.5) < 1e-5)
        #expect(abs(second.item - 6 * 1.5) < 1e-4)
    }
}
