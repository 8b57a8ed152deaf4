import Testing
@testable import TesseraTensor

/// Segment reductions against PyTorch (`scatter.json`, written by `Tests/Fixtures/fixtures_scatter.py`):
/// `index_add_` and `scatter_reduce(…, include_self=False)` into zeros. Every case repeats indices and
/// leaves a segment empty; the `max.ties` cases share the gradient among rows tied for a maximum.
/// Input 2 of every case is the segment count.
@Suite struct ScatterTests {
    static let cases: [TorchCase] = ["rank1", "rank2", "rank3", "singleRows"].flatMap { shape in
        [
            TorchCase("sum.\(shape)") { $0[0].scatterSum(indices: $0[1], count: Int($0[2].item)) },
            TorchCase("mean.\(shape)") { $0[0].scatterMean(indices: $0[1], count: Int($0[2].item)) },
            TorchCase("max.\(shape)") { $0[0].scatterMax(indices: $0[1], count: Int($0[2].item)) },
        ]
    } + ["max.ties.rank1", "max.ties.rank2", "max.ties.rank3"].map { key in
        TorchCase(key) { $0[0].scatterMax(indices: $0[1], count: Int($0[2].item)) }
    }

    @Test(arguments: cases)
    func valueAndGradientMatchPyTorch(_ golden: TorchCase) throws {
        try golden.check(Fixture("scatter"))
    }

    // Finite differences through a square, so each row's gradient depends on its segment's value.

    static var rows: Tensor { Tensor(shape: [5, 3]) { Float($0) * 0.3 - 2 } }
    static var segments: Tensor { Tensor([0, 2, 0, 2, 2]) }
    static var weight: Tensor { Tensor(shape: [4, 3]) { Float($0 % 5) - 1.5 } }

    @Test func scatterSumGradientMatchesFiniteDifferences() {
        expectGradientMatchesFiniteDifferences(Self.rows) { x in
            let sums = x.scatterSum(indices: Self.segments, count: 4)
            return (sums * sums * Self.weight).sum()
        }
    }

    @Test func scatterMeanGradientMatchesFiniteDifferences() {
        expectGradientMatchesFiniteDifferences(Self.rows) { x in
            let means = x.scatterMean(indices: Self.segments, count: 4)
            return (means * means * Self.weight).sum()
        }
    }

    @Test func scatterMaxGradientMatchesFiniteDifferencesAwayFromTies() {
        // 15 distinct values 0.25 apart (7 is prime to 15), far wider than the step of 0.01, so no
        // perturbation changes which row attains a maximum.
        let distinct = Tensor(shape: [5, 3]) { Float(($0 * 7) % 15) * 0.25 - 1.5 }
        expectGradientMatchesFiniteDifferences(distinct) { x in
            let maxima = x.scatterMax(indices: Self.segments, count: 4)
            return (maxima * maxima * Self.weight).sum()
        }
    }

    @Test func scatterMaxOfRowsThatAreAllMinusInfinityIsMinusInfinityNotZero() {
        // PyTorch 2.13: zeros(3).scatter_reduce(0, [1, 1, 2], [-inf, -inf, 1], "amax",
        // include_self=False) is [0, -inf, 1]; only the segment no row reaches stays 0.
        let source = Tensor([-Float.infinity, -Float.infinity, 1])
        let maxima = source.scatterMax(indices: Tensor([1, 1, 2]), count: 3)
        #expect(maxima.scalars == [0, -Float.infinity, 1])
    }
}
