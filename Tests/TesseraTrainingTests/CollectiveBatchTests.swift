import Testing
import TesseraDistributed
import TesseraTensor
@testable import TesseraTraining

/// The global-batch collectives: rows gathered from every rank with their gradient sent back to
/// the owner, as SimCLR's global negatives need.
@Suite struct CollectiveBatchTests {
    /// Rank r's loss compares its own rows (queries) with every rank's rows (keys):
    /// `L_r = Σ (q_r kᵀ)² / 10`. Summed over ranks it is one process's loss over the whole batch.
    static func loss(queries: Tensor, keys: Tensor) -> Tensor {
        let scores = queries.matmul(transposed: keys)
        return (scores * scores).sum() / 10
    }

    @Test func gatheredRowsStackInRankOrderAndSendEachRankItsRowsGradient() throws {
        var generator = RandomGenerator(seed: 9)
        let all = Tensor.randomNormal([7, 3], generator: &generator)
        // Three ranks with unequal shares: rows 0..<2, 2..<5, 5..<7.
        let shares = [0..<2, 2..<5, 5..<7]
        let wholeLeaf = all.copy().requiringGradient()
        var total: Tensor?
        for share in shares {
            let part = Self.loss(queries: wholeLeaf.indexSelect(alongAxis: 0, indices: Tensor(share.map(Float.init))), keys: wholeLeaf)
            total = total.map { $0 + part } ?? part
        }
        total!.backward()
        let expected = wholeLeaf.grad!.scalars

        let group = LocalCommunicator.group(size: 3)
        let results = try onThreads(3) { rank -> ([Float], [Float]) in
            let collective = CommunicatorCollective(communicator: group[rank], settings: DistributedSection())
            let failure = CollectiveFailure()
            let mine = Tensor(shape: [shares[rank].count, 3], scalars: Array(all.scalars[(shares[rank].lowerBound * 3)..<(shares[rank].upperBound * 3)]))
                .requiringGradient()
            let keys = try collective.gatheredRows(mine, failure: failure)
            Self.loss(queries: mine, keys: keys).backward()
            try failure.check()
            return (keys.scalars, mine.grad!.scalars)
        }
        for (rank, (keys, gradient)) in results.enumerated() {
            #expect(keys == all.scalars, "rank \(rank) gathered the rows in rank order")
            let want = Array(expected[(shares[rank].lowerBound * 3)..<(shares[rank].upperBound * 3)])
            for (a, b) in zip(gradient, want) { #expect(abs(a - b) <= 1e-5 * max(1, abs(b)), "rank \(rank): \(a) vs \(b)") }
        }
    }
}
