import Testing
@testable import TesseraTensor

/// Gradients of gradients against `torch.autograd.grad(create_graph=True)` (`higherOrder.json`).
///
/// Each case stores a scalar function's inputs `x<i>`, its first gradients `first<i>`, directions
/// `v<i>` and the Hessian-vector product `second<i>` = ∇(Σ first · v). First-order backward passes
/// use fused derivative kernels; these cases pin the composed rules that run under `createGraph`.
@Suite struct HigherOrderTests {
    /// A function of one `[3, 4]` input, summed against the stored `key.weight`.
    struct ElementwiseCase: Sendable, CustomTestStringConvertible {
        let key: String
        let function: @Sendable (Tensor) -> Tensor
        var testDescription: String { key }
        init(_ key: String, _ function: @escaping @Sendable (Tensor) -> Tensor) {
            self.key = key
            self.function = function
        }
    }

    static let elementwiseCases: [ElementwiseCase] = [
        ElementwiseCase("tanh") { $0.tanh() },
        ElementwiseCase("sigmoid") { $0.sigmoid() },
        ElementwiseCase("geluExact") { $0.gelu() },
        ElementwiseCase("geluTanh") { $0.gelu(approximation: .tanh) },
        ElementwiseCase("silu") { $0.silu() },
        ElementwiseCase("softplus") { $0.softplus() },
        ElementwiseCase("exp") { $0.exp() },
        ElementwiseCase("log") { $0.log() },
        ElementwiseCase("softmax") { $0.softmax() },
        ElementwiseCase("logSoftmax") { $0.logSoftmax() },
        ElementwiseCase("sin") { $0.sin() },
        ElementwiseCase("erf") { $0.erf() },
        ElementwiseCase("cos") { $0.cos() },
        ElementwiseCase("sqrt") { $0.sqrt() },
        ElementwiseCase("rsqrt") { $0.rsqrt() },
        ElementwiseCase("log1p") { $0.log1p() },
        ElementwiseCase("division") { 1 / $0 },
        ElementwiseCase("cube") { $0.pow(3) },
        ElementwiseCase("leakyRelu") { $0.leakyRelu(slope: 0.1).pow(2) },
        ElementwiseCase("logSumExp") { $0.logSumExp(alongAxes: [-1], keepDims: true) },
        ElementwiseCase("standardize") { x in
            (x - x.mean(alongAxes: [-1], keepDims: true)) / (x.variance(alongAxes: [-1], correction: 0, keepDims: true) + 1e-5).sqrt()
        },
    ]

    @Test(arguments: elementwiseCases)
    func secondDerivativeMatchesPyTorch(_ golden: ElementwiseCase) throws {
        let fixture = try Fixture("higherOrder")
        let weight = try fixture.tensor("\(golden.key).weight")
        try expectSecondOrderMatches(fixture, golden.key, parameters: 1) { (golden.function($0[0]) * weight).sum() }
    }

    @Test func twoLayerTanhNetworkHessianVectorProductMatchesPyTorch() throws {
        let fixture = try Fixture("higherOrder")
        let inputs = try fixture.tensor("mlp.inputs"), labels = try fixture.tensor("mlp.labels")
        try expectSecondOrderMatches(fixture, "mlp", parameters: 3) { p in
            let hidden = (inputs.matmul(p[0]) + p[1]).tanh()
            return (hidden.matmul(p[2]) - labels).pow(2).mean()
        }
    }

    @Test func gradientPenaltyDifferentiatesWithRespectToParameters() throws {
        let fixture = try Fixture("higherOrder")
        let x = try fixture.tensor("penalty.x").requiringGradient()
        let w1 = try fixture.tensor("penalty.w1").requiringGradient()
        let w2 = try fixture.tensor("penalty.w2").requiringGradient()
        let output = x.matmul(w1).softplus().matmul(w2).sum()
        let inputGradient = Tensor.gradients(of: output, withRespectTo: [x], createGraph: true)[0]
        let penalty = (inputGradient * inputGradient).sum()
        expectClose(penalty, try fixture.tensor("penalty.out"), "penalty")
        penalty.backward()
        expectClose(try #require(w1.grad), try fixture.tensor("penalty.grad.w1"), "d penalty / d w1")
        expectClose(try #require(w2.grad), try fixture.tensor("penalty.grad.w2"), "d penalty / d w2")
    }

    @Test func firstGradientWithoutCreateGraphIsNotDifferentiable() {
        let x = Tensor([0.5, -1]).requiringGradient()
        let first = Tensor.gradients(of: x.tanh().sum(), withRespectTo: [x])[0]
        #expect(!first.requiresGrad)
        let recorded = Tensor.gradients(of: x.tanh().sum(), withRespectTo: [x], createGraph: true)[0]
        #expect(recorded.requiresGrad)
        expectClose(first, recorded.detached(), "same values either way")
    }

    @Test func hessianVectorProductOfQuadraticIsMatrixTimesVector() {
        // f(x) = ½ xᵀ A x with symmetric A: the Hessian is A, so Hv = A v exactly.
        let a = Tensor([[2, 1, 0], [1, 3, -1], [0, -1, 4]])
        let x = Tensor([0.3, -0.7, 1.1]).requiringGradient()
        let v = Tensor([1, -2, 0.5])
        let value = (x.matmul(a).dot(x)) * 0.5
        let gradient = Tensor.gradients(of: value, withRespectTo: [x], createGraph: true)[0]
        let hessianTimesV = Tensor.gradients(of: gradient.dot(v), withRespectTo: [x])[0]
        expectClose(hessianTimesV, a.matmul(v), "Hv")
    }

    /// Compares `value`, its first gradients (`createGraph: true`) and the Hessian-vector product.
    private func expectSecondOrderMatches(_ fixture: Fixture, _ key: String, parameters count: Int,
                                          sourceLocation: SourceLocation = #_sourceLocation,
                                          _ function: ([Tensor]) -> Tensor) throws {
        let parameters = try (0..<count).map { try fixture.tensor("\(key).x\($0)").requiringGradient() }
        let value = function(parameters)
        expectClose(value, try fixture.tensor("\(key).out"), "\(key) value", sourceLocation: sourceLocation)
        let first = Tensor.gradients(of: value, withRespectTo: parameters, createGraph: true)
        var product = Tensor(0)
        for (index, gradient) in first.enumerated() {
            expectClose(gradient, try fixture.tensor("\(key).first\(index)"), absolute: 1e-5, relative: 2e-4,
                        "\(key) first gradient \(index)", sourceLocation: sourceLocation)
            product = product + (gradient * (try fixture.tensor("\(key).v\(index)"))).sum()
        }
        let second = Tensor.gradients(of: product, withRespectTo: parameters)
        for (index, gradient) in second.enumerated() {
            expectClose(gradient, try fixture.tensor("\(key).second\(index)"), absolute: 2e-5, relative: 5e-4,
                        "\(key) Hessian-vector product \(index)", sourceLocation: sourceLocation)
        }
    }
}
