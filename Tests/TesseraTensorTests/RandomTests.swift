import Foundation
import Testing
@testable import TesseraTensor

/// Reproducibility and distribution checks of `RandomGenerator` and the random tensor factories.
/// Every test uses a fixed seed, so the statistical tolerances (≥ 5 standard errors) are
/// deterministic: a failure means the sampler changed, not bad luck.
@Suite struct RandomTests {
    @Test func philoxMatchesRandom123KnownAnswer() {
        // Random123's kat_vectors: philox4x32 10, counter 0, key 0.
        var rng = RandomGenerator(seed: 0)
        #expect((0..<4).map { _ in rng.next32() } == [0x6627_E8D5, 0xE169_C58D, 0xBC57_AC4C, 0x9B00_DBD8])
    }

    @Test func sameSeedGivesSameNumbers() {
        var first = RandomGenerator(seed: 42), second = RandomGenerator(seed: 42)
        #expect(Tensor.randomNormal([100], generator: &first).scalars == Tensor.randomNormal([100], generator: &second).scalars)
        #expect(first == second)
    }

    @Test func differentSeedsAndStreamsGiveDifferentNumbers() {
        var base = RandomGenerator(seed: 42)
        var otherSeed = RandomGenerator(seed: 43)
        var otherStream = RandomGenerator(seed: 42, stream: 1)
        let a = (0..<16).map { _ in base.next32() }
        #expect(a != (0..<16).map { _ in otherSeed.next32() })
        #expect(a != (0..<16).map { _ in otherStream.next32() })
    }

    @Test func derivedStreamsAreIndependentOfParentAndOfEachOther() {
        var parent = RandomGenerator(seed: 5)
        let before = parent.derived(stream: 3)
        _ = parent.next64()
        // A child depends on the parent's seed and stream, not on how far the parent has drawn.
        #expect(parent.derived(stream: 3) == before)
        #expect(parent.derived(stream: 3) != parent.derived(stream: 4))
        #expect(RandomGenerator(seed: 5, stream: 1).derived(stream: 3) != before)

        var left = parent.derived(stream: 0), right = parent.derived(stream: 1)
        let n = 20_000
        let x = (0..<n).map { _ in Double(left.nextUniform()) - 0.5 }
        let y = (0..<n).map { _ in Double(right.nextUniform()) - 0.5 }
        // Correlation of independent uniforms: standard error 1/√n = 0.007.
        let correlation = zip(x, y).reduce(0) { $0 + $1.0 * $1.1 } / Double(n) * 12
        #expect(Swift.abs(correlation) < 0.035)
    }

    @Test func restoredGeneratorContinuesTheExactSequence() throws {
        var rng = RandomGenerator(seed: 2024, stream: 9)
        _ = Tensor.randomUniform([7], generator: &rng)  // an odd count leaves a lane of a block unused
        let saved = try JSONEncoder().encode(rng)
        let expected = Tensor.randomNormal([33], generator: &rng).scalars
        var restored = try JSONDecoder().decode(RandomGenerator.self, from: saved)
        #expect(Tensor.randomNormal([33], generator: &restored).scalars == expected)
        #expect(restored == rng)
    }

    @Test func uniformHasMeanHalfAndVarianceOneTwelfth() {
        var rng = RandomGenerator(seed: 1)
        let x = Tensor.randomUniform([100_000], generator: &rng)
        #expect(x.min().item >= 0 && x.max().item < 1)
        // Standard errors: mean 0.0009, variance 0.00024.
        #expect(Swift.abs(x.mean().item - 0.5) < 0.005)
        #expect(Swift.abs(x.variance().item - 1.0 / 12) < 0.0015)
        let scaled = Tensor.randomUniform([1000], low: -3, high: -1, generator: &rng)
        #expect(scaled.min().item >= -3 && scaled.max().item < -1)
    }

    @Test func normalHasRequestedMeanAndStandardDeviation() {
        var rng = RandomGenerator(seed: 2)
        let x = Tensor.randomNormal([100_001], mean: 3, standardDeviation: 2, generator: &rng)
        // Standard errors: mean 2/√n = 0.0063, standard deviation 2/√(2n) = 0.0045.
        #expect(Swift.abs(x.mean().item - 3) < 0.032)
        #expect(Swift.abs(x.standardDeviation().item - 2) < 0.023)
        // Tails: P(|z| > 2) = 0.0455, standard error 0.00066.
        let outside = ((x - 3).abs() / 2).greater(2).mean().item
        #expect(Swift.abs(outside - 0.0455) < 0.0033)
    }

    @Test func bernoulliFrequencyMatchesProbability() {
        var rng = RandomGenerator(seed: 3)
        let x = Tensor.bernoulli([50_000], probability: 0.2, generator: &rng)
        #expect(Set(x.scalars) == [0, 1])
        #expect(Swift.abs(x.mean().item - 0.2) < 0.009)  // standard error 0.0018
    }

    @Test func categoricalFrequenciesMatchProbabilities() {
        var rng = RandomGenerator(seed: 4)
        let rows = 40_000
        let probabilities = Tensor([0.1, 0, 0.3, 0.6]).expand(to: [rows, 4])
        let samples = Tensor.categorical(probabilities: probabilities, generator: &rng)
        #expect(samples.shape == [rows])
        let frequencies = samples.oneHot(classes: 4).mean(alongAxis: 0).scalars
        #expect(frequencies[1] == 0)  // a zero-probability class is never drawn
        for (frequency, p) in zip(frequencies, [Float(0.1), 0, 0.3, 0.6]) {
            #expect(Swift.abs(frequency - p) < 0.0125)  // standard error ≤ 0.0025
        }
    }

    @Test func categoricalRenormalisesRows() {
        var rng = RandomGenerator(seed: 5)
        let weights = Tensor([[1, 3], [4, 0]]).repeated([10_000, 1])
        let samples = Tensor.categorical(probabilities: weights, generator: &rng).reshape([10_000, 2])
        let firstRowMean = samples.select(alongAxis: 1, index: 0).mean().item
        #expect(Swift.abs(firstRowMean - 0.75) < 0.022)  // standard error 0.0043
        #expect(samples.select(alongAxis: 1, index: 1).max().item == 0)
    }

    @Test func permutationsAreValidAndUniform() {
        var rng = RandomGenerator(seed: 6)
        let long = rng.permutation(1000)
        #expect(long.sorted() == Array(0..<1000))
        #expect(Tensor.randomPermutation(50, generator: &rng).scalars.sorted() == (0..<50).map(Float.init))
        #expect(rng.permutation(0).isEmpty && rng.permutation(1) == [0])

        // All 24 orders of 4 items, each expected 1000 times out of 24 000 (standard deviation 31).
        var counts: [[Int]: Int] = [:]
        for _ in 0..<24_000 { counts[rng.permutation(4), default: 0] += 1 }
        #expect(counts.count == 24)
        #expect(counts.values.allSatisfy { Swift.abs($0 - 1000) < 160 })
    }

    @Test func nextIntStaysBelowBoundWithoutBias() {
        var rng = RandomGenerator(seed: 8)
        var counts = [Int](repeating: 0, count: 3)
        for _ in 0..<30_000 { counts[rng.nextInt(below: 3)] += 1 }
        #expect(counts.allSatisfy { Swift.abs($0 - 10_000) < 410 })  // standard deviation 82
    }
}
