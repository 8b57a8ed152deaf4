import Testing
@testable import TesseraTensor

/// Elementwise arithmetic, math, activations and comparisons against PyTorch (`elementwise.json`).
@Suite struct ElementwiseTests {
    static let cases: [TorchCase] = [
        TorchCase("add.same") { $0[0] + $0[1] },
        TorchCase("add.broadcast") { $0[0] + $0[1] },  // [2,3,4] + [3,1]
        TorchCase("add.scalarTensor") { $0[0] + $0[1] },  // [3,4] + []
        TorchCase("add.float") { $0[0] + 2.5 },
        TorchCase("sub.broadcast") { $0[0] - $0[1] },  // [3,1] - [2,3,4]
        TorchCase("sub.floatLeft") { 1.5 - $0[0] },
        TorchCase("mul.outer") { $0[0] * $0[1] },  // [4,1] * [1,5]
        TorchCase("mul.broadcast") { $0[0] * $0[1] },  // [2,3,4] * [4]
        TorchCase("mul.float") { $0[0] * -3 },
        TorchCase("div.broadcast") { $0[0] / $0[1] },
        TorchCase("div.floatLeft") { 2 / $0[0] },
        TorchCase("neg") { -$0[0] },
        TorchCase("pow.tensor") { $0[0].pow($0[1]) },
        TorchCase("pow.two") { $0[0].pow(2) },
        TorchCase("pow.three") { $0[0].pow(3) },
        TorchCase("pow.half") { $0[0].pow(0.5) },
        TorchCase("pow.negative") { $0[0].pow(-1.5) },
        TorchCase("exp") { $0[0].exp() },
        TorchCase("log") { $0[0].log() },
        TorchCase("log1p") { $0[0].log1p() },
        TorchCase("sqrt") { $0[0].sqrt() },
        TorchCase("rsqrt") { $0[0].rsqrt() },
        TorchCase("abs") { $0[0].abs() },
        TorchCase("sign") { $0[0].sign() },
        TorchCase("clamp") { $0[0].clamp(min: -0.5, max: 1) },
        TorchCase("clamp.lowerOnly") { $0[0].clamp(min: 0.25) },
        TorchCase("maximum.ties") { $0[0].maximum($0[1]) },
        TorchCase("minimum.ties") { $0[0].minimum($0[1]) },
        TorchCase("maximum.broadcast") { $0[0].maximum($0[1]) },
        TorchCase("minimum.scalar") { $0[0].minimum(0.3) },
        TorchCase("tanh") { $0[0].tanh() },
        TorchCase("sigmoid") { $0[0].sigmoid() },
        TorchCase("relu") { $0[0].relu() },
        TorchCase("leakyRelu") { $0[0].leakyRelu(slope: 0.2) },
        TorchCase("gelu.exact") { $0[0].gelu() },
        TorchCase("gelu.tanh") { $0[0].gelu(approximation: .tanh) },
        TorchCase("silu") { $0[0].silu() },
        TorchCase("softplus") { $0[0].softplus() },
        TorchCase("softplus.threshold") { $0[0].softplus(beta: 2, threshold: 10) },
        TorchCase("sin") { $0[0].sin() },
        TorchCase("cos") { $0[0].cos() },
        TorchCase("erf") { $0[0].erf() },
        TorchCase("greater") { $0[0].greater($0[1]) },
        TorchCase("greaterEqual") { $0[0].greaterEqual($0[1]) },
        TorchCase("less") { $0[0].less($0[1]) },
        TorchCase("lessEqual") { $0[0].lessEqual($0[1]) },
        TorchCase("equal") { $0[0].equal($0[1]) },
        TorchCase("notEqual") { $0[0].notEqual($0[1]) },
        TorchCase("where") { Tensor.where($0[0], $0[1], $0[2]) },  // condition [3,1], a [2,3,4], b [4]
        TorchCase("maskedFill") { $0[0].maskedFill($0[1], -7) },
        TorchCase("add.middleAxis") { $0[0] + $0[1] },  // [2,3,4] + [2,1,4]
        TorchCase("mul.bothExpand") { $0[0] * $0[1] },  // [5,1,3] * [1,4,1]
        TorchCase("sub.rankFour") { $0[0] - $0[1] },  // [2,1,3,1] - [4,1,2]
    ]

    @Test(arguments: cases)
    func valueAndGradientMatchPyTorch(_ golden: TorchCase) throws {
        try golden.check(Fixture("elementwise"))
    }

    @Test func comparisonsWithAFloatAgreeWithComparisonsWithATensor() {
        let x = Tensor([-1, 0, 0.5, 2, 2])
        let bound = Tensor(0.5)
        #expect(x.greater(0.5).scalars == x.greater(bound).scalars)
        #expect(x.greaterEqual(0.5).scalars == [0, 0, 1, 1, 1])
        #expect(x.less(0.5).scalars == [1, 1, 0, 0, 0])
        #expect(x.lessEqual(0.5).scalars == x.lessEqual(bound).scalars)
        #expect(x.equal(2).scalars == [0, 0, 0, 1, 1])
    }

    @Test func comparisonsAreNotRecorded() {
        let x = Tensor([1, 2, 3]).requiringGradient()
        #expect(!x.greater(2).requiresGrad)
        #expect(!x.sign().requiresGrad)
    }

    @Test func softplusIsLinearAboveThresholdWithoutOverflow() {
        let x = Tensor([100, 1000]).requiringGradient()
        let y = x.softplus()
        #expect(y.scalars == [100, 1000])
        y.sum().backward()
        #expect(x.grad!.scalars == [1, 1])
    }

    @Test func sigmoidSaturatesWithoutNaN() {
        let y = Tensor([-1000, 1000]).sigmoid()
        #expect(y.scalars == [0, 1])
    }

    @Test func broadcastAdditionGradientMatchesFiniteDifferences() {
        let bias = Tensor([0.3, -0.2, 0.7])
        let x = Tensor(shape: [2, 3], scalars: [0.5, -1, 2, 0.1, 0.4, -0.6])
        expectGradientMatchesFiniteDifferences(bias, "bias") { b in ((x + b) * (x - b)).sum() }
    }

    @Test func geluGradientMatchesFiniteDifferences() {
        let x = Tensor([-2, -0.7, 0.1, 0.9, 2.5])
        expectGradientMatchesFiniteDifferences(x, "exact") { ($0.gelu() * $0).sum() }
        expectGradientMatchesFiniteDifferences(x, "tanh") { ($0.gelu(approximation: .tanh) * $0).sum() }
    }

    @Test func quotientAndPowerGradientsMatchFiniteDifferences() {
        let x = Tensor([0.6, 1.3, 2.1, 0.9])
        expectGradientMatchesFiniteDifferences(x, "div") { (1 / ($0 * $0 + 1)).sum() }
        expectGradientMatchesFiniteDifferences(x, "pow") { $0.pow($0).sum() }
    }
}
