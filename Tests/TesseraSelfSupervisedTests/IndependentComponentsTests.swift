import Foundation
import Testing
import TesseraSelfSupervised
import TesseraTensor

/// FastICA unmixes a known mixture and agrees with scikit-learn's up to order and sign.
struct IndependentComponentsTests {
    /// |Pearson correlation| of column `i` of `a` and column `j` of `b` (both `[N, k]`).
    static func absoluteCorrelation(_ a: Tensor, _ i: Int, _ b: Tensor, _ j: Int) -> Double {
        let n = a.shape[0], x = a.scalars, y = b.scalars, ka = a.shape[1], kb = b.shape[1]
        let u = (0..<n).map { Double(x[$0 * ka + i]) }, v = (0..<n).map { Double(y[$0 * kb + j]) }
        let mu = u.reduce(0, +) / Double(n), mv = v.reduce(0, +) / Double(n)
        let cov = zip(u, v).reduce(0) { $0 + ($1.0 - mu) * ($1.1 - mv) }
        let su = u.reduce(0) { $0 + ($1 - mu) * ($1 - mu) }, sv = v.reduce(0) { $0 + ($1 - mv) * ($1 - mv) }
        return abs(cov / (su * sv).squareRoot())
    }

    /// For each true column, the best |correlation| with any recovered column, and that the best
    /// matches form a permutation.
    static func matched(_ recovered: Tensor, _ truth: Tensor) -> (worst: Double, isPermutation: Bool) {
        let k = truth.shape[1]
        var worst = 1.0, used = Set<Int>()
        for j in 0..<k {
            let scores = (0..<k).map { absoluteCorrelation(recovered, $0, truth, j) }
            let best = scores.indices.max { scores[$0] < scores[$1] }!
            worst = min(worst, scores[best])
            used.insert(best)
        }
        return (worst, used.count == k)
    }

    @Test func unmixesSineSquareAndSawtooth() throws {
        let fixture = try downstreamFixture()
        let mixed = try fixture.tensor("ica.x")
        let ica = try IndependentComponents.fit(mixed, componentCount: 3, seed: 0)
        let sources = try ica.sources(mixed)
        let truth = Self.matched(sources, try fixture.tensor("ica.sources"))
        #expect(truth.isPermutation && truth.worst >= 0.99, "worst |correlation| with the true sources \(truth.worst)")
        let reference = Self.matched(sources, try fixture.tensor("ica.sklearn_sources"))
        #expect(reference.isPermutation && reference.worst >= 0.999, "worst |correlation| with scikit-learn's \(reference.worst)")
    }

    @Test func nonConvergenceAndBadInputThrow() throws {
        let mixed = try downstreamFixture().tensor("ica.x")
        #expect(throws: SelfSupervisedError("ICA did not converge in maximumIterations = 1 (tolerance 1e-12); raise either")) {
            try IndependentComponents.fit(mixed, componentCount: 3, tolerance: 1e-12, maximumIterations: 1)
        }
        #expect(throws: SelfSupervisedError("ICA componentCount must be in 1...3 (the feature count), got 4")) {
            try IndependentComponents.fit(mixed, componentCount: 4)
        }
        let rankOne = Tensor(shape: [50, 2]) { Float($0 / 2) }
        #expect(throws: SelfSupervisedError.self) { try IndependentComponents.fit(rankOne, componentCount: 2) }
    }
}
