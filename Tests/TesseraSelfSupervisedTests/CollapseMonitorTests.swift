import Foundation
import Testing
import TesseraSelfSupervised
import TesseraTensor

/// The collapse monitors against numpy's SVD and on representations whose collapse is known.
struct CollapseMonitorTests {
    @Test func effectiveRankAndDeviationsMatchPyTorch() throws {
        let fixture = try Fixture("selfsupervised")
        let embeddings = try fixture.tensor("rank.embeddings")
        let rank = CollapseMonitor.effectiveRank(of: embeddings)
        #expect(abs(rank - Double(try fixture.tensor("rank.effective_rank").scalars[0])) < 1e-3 * rank)
        expectClose(Tensor(CollapseMonitor.standardDeviations(of: embeddings)), try fixture.tensor("rank.std"), "std")
    }

    @Test func collapsedRepresentationsShowIt() {
        var generator = RandomGenerator(seed: 3)
        let healthy = Tensor.randomNormal([200, 16], generator: &generator)
        let constant = withoutGradients { Tensor.zeros([200, 16]) + Tensor.randomNormal([1, 16], generator: &generator) }
        let line = withoutGradients { Tensor.randomNormal([200, 1], generator: &generator) * Tensor.randomNormal([1, 16], generator: &generator) }
        #expect(CollapseMonitor.effectiveRank(of: healthy) > 14)
        #expect(CollapseMonitor.effectiveRank(of: line) < 1.01)
        #expect(CollapseMonitor.standardDeviations(of: constant).allSatisfy { $0 < 1e-5 })
        #expect(CollapseMonitor.standardDeviations(of: healthy).allSatisfy { $0 > 0.1 })
        let uniform = Tensor.zeros([4, 8]) + 0.125, oneHot = Tensor([0, 1, 0, 0]).reshape([1, 4])
        #expect(abs(CollapseMonitor.entropy(ofProbabilities: uniform) - log(8)) < 1e-5)
        #expect(abs(CollapseMonitor.entropy(ofProbabilities: oneHot)) < 1e-5)
        #expect(abs(CollapseMonitor.klDivergence(uniform, uniform)) < 1e-6)
        #expect(CollapseMonitor.klDivergence(oneHot, Tensor.zeros([1, 4]) + 0.25) > 1.38)
    }
}
