import Testing
@testable import TesseraTensor

/// Reductions against PyTorch (`reduction.json`): single, multiple non-adjacent and negative axes,
/// with and without kept axes. The extrema inputs are small whole numbers so ties occur.
@Suite struct ReductionTests {
    static let cases: [TorchCase] = [
        TorchCase("sum.all") { $0[0].sum() },
        TorchCase("sum.axis") { $0[0].sum(alongAxis: 1) },
        TorchCase("sum.negativeAxisKeep") { $0[0].sum(alongAxis: -1, keepDims: true) },
        TorchCase("sum.nonAdjacent") { $0[0].sum(alongAxes: [0, 2]) },
        TorchCase("sum.nonAdjacentKeep") { $0[0].sum(alongAxes: [1, 3], keepDims: true) },
        TorchCase("sum.longRows") { $0[0].sum(alongAxis: -1) },  // vector accumulators plus a remainder
        TorchCase("mean.longColumns") { $0[0].mean(alongAxis: 0) },
        TorchCase("sum.toShape") { $0[0].sum(toShape: [3, 1]) },
        TorchCase("sum.toShapeLeading") { $0[0].sum(toShape: [1, 4]) },
        TorchCase("mean.all") { $0[0].mean() },
        TorchCase("mean.nonAdjacentKeep") { $0[0].mean(alongAxes: [0, 2], keepDims: true) },
        // Ties share the gradient equally, like torch.amax / torch.amin.
        TorchCase("max.all") { $0[0].max() },
        TorchCase("max.axis") { $0[0].max(alongAxes: [1]) },
        TorchCase("max.nonAdjacent") { $0[0].max(alongAxes: [0, 2]) },
        TorchCase("min.nonAdjacentKeep") { $0[0].min(alongAxes: [0, -1], keepDims: true) },
        TorchCase("min.negativeAxis") { $0[0].min(alongAxes: [-1]) },
        // Along one axis with indices, the gradient goes to the first maximum only, like torch.max(dim).
        TorchCase("maxAlongAxis.values") { $0[0].max(alongAxis: 1).values },
        TorchCase("maxAlongAxis.indices") { $0[0].max(alongAxis: 1).indices },
        TorchCase("minAlongAxis.valuesKeep") { $0[0].min(alongAxis: -1, keepDims: true).values },
        TorchCase("minAlongAxis.indicesKeep") { $0[0].min(alongAxis: -1, keepDims: true).indices },
        TorchCase("argmax.flat") { $0[0].argmax() },
        TorchCase("argmax.axis") { $0[0].argmax(alongAxis: 0) },
        TorchCase("argmin.axisKeep") { $0[0].argmin(alongAxis: -1, keepDims: true) },
        TorchCase("argmin.flat") { $0[0].argmin() },
        TorchCase("variance.unbiased") { $0[0].variance(alongAxes: [1]) },
        TorchCase("variance.biasedNonAdjacent") { $0[0].variance(alongAxes: [0, 2], correction: 0) },
        TorchCase("variance.all") { $0[0].variance() },
        TorchCase("standardDeviation.unbiasedKeep") { $0[0].standardDeviation(alongAxes: [-1], keepDims: true) },
        TorchCase("standardDeviation.biased") { $0[0].standardDeviation(alongAxes: [0], correction: 0) },
        TorchCase("logSumExp.axis") { $0[0].logSumExp(alongAxes: [-1]) },
        TorchCase("logSumExp.nonAdjacentKeep") { $0[0].logSumExp(alongAxes: [0, 2], keepDims: true) },
        TorchCase("logSumExp.large") { $0[0].logSumExp(alongAxes: [1]) },  // logits near 1000
        TorchCase("norm.p1") { $0[0].norm(1, alongAxes: [-1]) },
        TorchCase("norm.p2") { $0[0].norm(2, alongAxes: [-1]) },
        TorchCase("norm.p3") { $0[0].norm(3, alongAxes: [-1]) },
        TorchCase("norm.p2all") { $0[0].norm() },
        TorchCase("norm.p3nonAdjacentKeep") { $0[0].norm(3, alongAxes: [0, 2], keepDims: true) },
    ]

    @Test(arguments: cases)
    func valueAndGradientMatchPyTorch(_ golden: TorchCase) throws {
        try golden.check(Fixture("reduction"))
    }

    @Test func maxAcrossTiesSplitsGradientEvenly() {
        let x = Tensor([[2, 5, 5], [5, 1, 0]]).requiringGradient()
        x.max().backward()
        let third: Float = 1.0 / 3
        #expect(x.grad!.scalars == [0, third, third, third, 0, 0])
    }

    @Test func maxAlongAxisPicksFirstOfTiedElements() {
        let x = Tensor([[2, 5, 5], [7, 1, 7]]).requiringGradient()
        let (values, indices) = x.max(alongAxis: -1)
        #expect(values.scalars == [5, 7])
        #expect(indices.scalars == [1, 0])
        values.sum().backward()
        #expect(x.grad!.scalars == [0, 1, 0, 1, 0, 0])
    }

    @Test func maxPropagatesNaNLikePyTorch() {
        let x = Tensor([1, .nan, 3])
        #expect(x.max().item.isNaN)
        #expect(x.argmax().item == 1)
    }

    @Test func argmaxIsNotRecorded() {
        let x = Tensor([1, 3, 2]).requiringGradient()
        #expect(!x.argmax().requiresGrad)
    }

    @Test func sumToShapeLeavesMatchingShapeUntouched() {
        let x = Tensor([[1, 2], [3, 4]])
        #expect(x.sum(toShape: [2, 2]) === x)
        #expect(x.sum(toShape: []).scalars == [10])
    }

    @Test func sumOfEmptyAxisIsZero() {
        #expect(Tensor.zeros([2, 0, 3]).sum(alongAxis: 1).scalars == [0, 0, 0, 0, 0, 0])
    }

    @Test func varianceAndLogSumExpGradientsMatchFiniteDifferences() {
        let x = Tensor(shape: [2, 3], scalars: [0.4, -1.2, 0.9, 2.0, 0.3, -0.5])
        let weights = Tensor([0.7, -1.1])
        expectGradientMatchesFiniteDifferences(x, "variance") { ($0.variance(alongAxes: [1]) * weights).sum() }
        expectGradientMatchesFiniteDifferences(x, "logSumExp") { ($0.logSumExp(alongAxes: [1]) * weights).sum() }
        expectGradientMatchesFiniteDifferences(x, "norm3") { $0.norm(3) }
    }
}

@Suite struct NormAtZeroTests {
    @Test func normOfZeroVectorHasZeroGradientNotNaN() {
        for p: Float in [2, 3] {
            let x = Tensor.zeros([4]).requiringGradient()
            let n = x.norm(p)
            #expect(n.item == 0)
            n.backward()
            #expect(x.grad!.scalars == [0, 0, 0, 0], "p = \(p)")
        }
    }

    @Test func allFiniteIsFalseForAnyNaNOrInfinity() {
        #expect(Tensor([1, -2, 3e38]).allFinite)
        #expect(Tensor.zeros([0]).allFinite, "an empty tensor has no bad element")
        #expect(!Tensor([1, .nan, 3]).allFinite)
        #expect(!Tensor(shape: [2, 2], scalars: [0, 0, 0, -.infinity]).allFinite)
    }
}
