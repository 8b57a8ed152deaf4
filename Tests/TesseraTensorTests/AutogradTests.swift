import Testing
@testable import TesseraTensor

@Suite struct AutogradTests {
    @Test func productRuleAccumulatesIntoLeaves() {
        let x = Tensor([1, 2, 3]).requiringGradient()
        let y = Tensor([4, 5, 6]).requiringGradient()
        (x * y + x).sum().backward()
        #expect(x.grad!.scalars == [5, 6, 7])
        #expect(y.grad!.scalars == [1, 2, 3])
    }

    @Test func secondDerivativeOfCubeIsSixX() {
        let x = Tensor([2, -1]).requiringGradient()
        let y = (x * x * x).sum()
        let first = Tensor.gradients(of: y, withRespectTo: [x], createGraph: true)[0]
        #expect(first.scalars == [12, 3])
        let second = Tensor.gradients(of: first.sum(), withRespectTo: [x])[0]
        #expect(second.scalars == [12, -6])
    }

    @Test func broadcastGradientsSumBackToOperandShape() {
        let a = Tensor.ones([2, 3]).requiringGradient()
        let b = Tensor([1, 2, 3]).requiringGradient()
        (a * b).sum().backward()
        #expect(b.grad!.shape == [3])
        #expect(b.grad!.scalars == [2, 2, 2])
        #expect(a.grad!.scalars == [1, 2, 3, 1, 2, 3])
    }

    @Test func matmulGradientsMatchHandComputation() {
        let a = Tensor([[1, 2], [3, 4]]).requiringGradient()
        let b = Tensor([[5, 6], [7, 8]]).requiringGradient()
        a.matmul(b).sum().backward()
        // d/dA sum(AB) = 1 Bᵀ: each row holds the row sums of B.
        #expect(a.grad!.scalars == [11, 15, 11, 15])
        #expect(b.grad!.scalars == [4, 4, 6, 6])
    }

    @Test func hookFiresOnceWhenLeafGradientIsFinal() {
        let w = Tensor([1, 2]).requiringGradient()
        var seen: [[Float]] = []
        w.gradientReadyHook = { seen.append($0.grad!.scalars) }
        let y = (w * 3).sum() + (w * w).sum()
        y.backward()
        #expect(seen == [[5, 7]])
    }
}
