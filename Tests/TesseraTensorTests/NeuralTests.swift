import Testing
@testable import TesseraTensor

/// Softmax, log-softmax, embeddings (against PyTorch, `neural.json`) and dropout statistics.
@Suite struct NeuralTests {
    static let cases: [TorchCase] = [
        TorchCase("softmax.last") { $0[0].softmax() },
        TorchCase("softmax.axis0") { $0[0].softmax(alongAxis: 0) },
        TorchCase("softmax.large") { $0[0].softmax(alongAxis: -1) },  // logits of ±1000
        TorchCase("logSoftmax.last") { $0[0].logSoftmax() },
        TorchCase("logSoftmax.axis1") { $0[0].logSoftmax(alongAxis: 1) },
        TorchCase("logSoftmax.large") { $0[0].logSoftmax(alongAxis: -1) },
        TorchCase("embeddingLookup") { $0[0].embeddingLookup($0[1]) },  // [2,4] indices with repeats
        TorchCase("embeddingLookup.vector") { $0[0].embeddingLookup($0[1]) },
    ]

    @Test(arguments: cases)
    func valueAndGradientMatchPyTorch(_ golden: TorchCase) throws {
        try golden.check(Fixture("neural"))
    }

    @Test func logSoftmaxOfHugeLogitsStaysFinite() {
        let x = Tensor([[1000, 0, -1000], [3e4, 3e4, 3e4]]).requiringGradient()
        let y = x.logSoftmax()
        #expect(y.scalars.allSatisfy { $0.isFinite })
        expectClose(y, Tensor([[0, -1000, -2000], [-1.0986123, -1.0986123, -1.0986123]]), "values")
        y.sum().backward()
        #expect(x.grad!.scalars.allSatisfy { $0.isFinite })
    }

    @Test func softmaxGradientMatchesFiniteDifferences() {
        let x = Tensor(shape: [2, 3], scalars: [0.2, -1, 1.5, 3, 3, -2])
        let weights = Tensor(shape: [2, 3], scalars: [1, -2, 0.5, 0.3, 2, -1])
        expectGradientMatchesFiniteDifferences(x) { ($0.softmax() * weights).sum() }
    }

    @Test func dropoutKeepsAboutOneMinusPAndRescales() {
        var rng = RandomGenerator(seed: 7)
        let p: Float = 0.3
        let n = 20_000
        let y = Tensor.ones([n]).dropout(probability: p, generator: &rng)
        let kept = y.scalars.filter { $0 != 0 }
        // Every survivor is scaled by 1 / (1 - p), so the expectation is unchanged.
        #expect(kept.allSatisfy { Swift.abs($0 - 1 / (1 - p)) < 1e-6 })
        // Kept fraction ~ Binomial(n, 0.7) / n: standard deviation 0.0032; allow 5 of them.
        let keptFraction = Float(kept.count) / Float(n)
        #expect(Swift.abs(keptFraction - (1 - p)) < 0.016)
        #expect(Swift.abs(y.mean().item - 1) < 0.023)
    }

    @Test func dropoutGradientUsesTheSameMask() {
        var rng = RandomGenerator(seed: 3)
        let x = Tensor.ones([1000]).requiringGradient()
        let y = x.dropout(probability: 0.5, generator: &rng)
        y.sum().backward()
        #expect(x.grad!.scalars == y.scalars)
    }

    @Test func dropoutIsIdentityInEvaluation() {
        var rng = RandomGenerator(seed: 1)
        let x = Tensor([1, 2, 3])
        #expect(x.dropout(probability: 0.9, training: false, generator: &rng) === x)
        #expect(rng.offset == 0)
    }

    @Test func dropoutWithSameSeedDropsSameElements() {
        var first = RandomGenerator(seed: 11), second = RandomGenerator(seed: 11)
        let x = Tensor.ones([64])
        #expect(x.dropout(probability: 0.5, generator: &first).scalars == x.dropout(probability: 0.5, generator: &second).scalars)
    }
}
