import Foundation
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

    @Test func secondBackwardAccumulatesIntoGrad() {
        let x = Tensor([1, -2]).requiringGradient()
        (x * x).sum().backward()
        (x * 3).sum().backward()
        #expect(x.grad!.scalars == [2 + 3, -4 + 3])
    }

    @Test func gradAfterBackwardOwnsItsStorage() {
        // Optimizers update `.grad` in place, so it must not alias a tensor of the graph.
        let x = Tensor([1, 2]).requiringGradient()
        let seed = Tensor([5, 6])
        (x * 1).backward(seed: seed)
        x.grad!.storage.pointer[0] = 0
        #expect(seed.scalars == [5, 6])
    }

    @Test func withoutGradientsRecordsNothing() {
        let x = Tensor([1, 2]).requiringGradient()
        let y = withoutGradients { (x * x).exp().sum() }
        #expect(!y.requiresGrad)
        #expect(y.operationName == nil)
        #expect(GradientMode.isEnabled)
    }

    @Test func detachedStopsGradientButSharesValues() {
        let x = Tensor([1, 2]).requiringGradient()
        let constant = x.detached()
        #expect(constant.storage === x.storage && !constant.requiresGrad)
        (x * constant).sum().backward()
        // d/dx (x · c) with c held constant is c, not 2x + ... through c.
        #expect(x.grad!.scalars == [1, 2])
    }

    @Test func tensorUsedTwiceReceivesBothContributions() {
        let x = Tensor([3]).requiringGradient()
        let y = x.exp()
        (y * y + y).sum().backward()
        // d/dx (e^{2x} + e^x) = 2e^{2x} + e^x.
        let expected = 2 * Foundation.exp(Float(6)) + Foundation.exp(Float(3))
        #expect(Swift.abs(x.grad!.item - expected) <= 1e-5 * expected)
    }

    @Test func functionalGradientsLeaveGradUntouchedAndGiveZerosForUnusedInputs() {
        let x = Tensor([1, 2]).requiringGradient()
        let unused = Tensor([7, 8, 9]).requiringGradient()
        let hidden = x * 2
        let gradients = Tensor.gradients(of: (hidden * hidden).sum(), withRespectTo: [x, unused, hidden])
        #expect(gradients[0].scalars == [8, 16])
        #expect(gradients[1].scalars == [0, 0, 0])
        #expect(gradients[2].scalars == [4, 8])  // gradients of an inner tensor are available too
        #expect(x.grad == nil && unused.grad == nil)
    }

    @Test func hookFiresOncePerLeafAfterItsGradientIsComplete() {
        let a = Tensor([1, 2]).requiringGradient()
        let b = Tensor([3]).requiringGradient()
        var calls: [String: [[Float]]] = [:]
        a.gradientReadyHook = { calls["a", default: []].append($0.grad!.scalars) }
        b.gradientReadyHook = { calls["b", default: []].append($0.grad!.scalars) }
        // `a` reaches the loss along three paths of different depths.
        let loss = ((a * b).exp().sum() + (a * a).sum() + a.sum()) * 0.5
        loss.backward()
        #expect(calls["a"]?.count == 1 && calls["b"]?.count == 1)
        #expect(calls["a"]?.first == a.grad!.scalars)
        #expect(calls["b"]?.first == b.grad!.scalars)

        loss.backward()
        #expect(calls["a"]?.count == 2 && calls["b"]?.count == 2)
        #expect(calls["a"]?.last == a.grad!.scalars)  // the accumulated value
    }

    @Test func hookDoesNotFireForFunctionalGradients() {
        let w = Tensor([1]).requiringGradient()
        var fired = 0
        w.gradientReadyHook = { _ in fired += 1 }
        _ = Tensor.gradients(of: (w * w).sum(), withRespectTo: [w])
        #expect(fired == 0)
    }

    @Test func createGraphBackwardMakesDifferentiableGrad() {
        let x = Tensor([0.5]).requiringGradient()
        x.sin().sum().backward(createGraph: true)
        let grad = x.grad!
        #expect(grad.requiresGrad)
        let second = Tensor.gradients(of: grad.sum(), withRespectTo: [x])[0]
        #expect(Swift.abs(second.item + Foundation.sin(Float(0.5))) < 1e-6)
    }
}
