import Foundation
import Testing
import TesseraDistributed
import TesseraTensor

/// Every collective of `LocalCommunicator` against a serial computation, for 1, 2 and 3 ranks.
@Suite struct LocalCollectiveTests {
    @Test(arguments: [1, 2, 3])
    func allreduceEqualsRankOrderedFoldOnEveryRank(size: Int) throws {
        for operation in ReductionOperation.allCases {
            let results = try runRanks(size) { communicator in
                var values = inputs(of: communicator.rank, count: 1000)
                try communicator.allreduce(&values, operation: operation)
                return values
            }
            let expected = serialReduction(operation, size: size, count: 1000)
            for (rank, values) in results.enumerated() {
                #expect(bits(values) == bits(expected), "\(operation) on rank \(rank) of \(size)")
            }
        }
    }

    @Test(arguments: [1, 2, 3])
    func broadcastCopiesRootValues(size: Int) throws {
        let results = try runRanks(size) { communicator in
            var values = inputs(of: communicator.rank, count: 7)
            try communicator.broadcast(&values, root: size - 1)
            let text = try communicator.broadcast(string: communicator.rank == 0 ? "model: mlp\nwidth: 64" : "", root: 0)
            return (values, text)
        }
        for (values, text) in results {
            #expect(values == inputs(of: size - 1, count: 7))
            #expect(text == "model: mlp\nwidth: 64")
        }
    }

    @Test(arguments: [1, 2, 3])
    func allgatherConcatenatesInRankOrder(size: Int) throws {
        let results = try runRanks(size) { communicator in
            try communicator.allgather(Tensor(shape: [2, 2], scalars: inputs(of: communicator.rank, count: 4))).scalars
        }
        let expected = (0..<size).flatMap { inputs(of: $0, count: 4) }
        for values in results { #expect(values == expected) }
    }

    @Test(arguments: [1, 2, 3])
    func allgatherVariableKeepsEachRanksCount(size: Int) throws {
        // Rank r contributes r rows, so rank 0 sends nothing.
        let results = try runRanks(size) { communicator in
            let rank = communicator.rank
            let values = inputs(of: rank, count: 3 * rank)
            let pieces = try values.withUnsafeBufferPointer { try communicator.allgatherVariable($0) }
            let rows = try communicator.allgatherVariable(Tensor(shape: [rank, 3], scalars: inputs(of: rank, count: 3 * rank)))
            return (pieces, rows)
        }
        let expectedPieces = (0..<size).map { inputs(of: $0, count: 3 * $0) }
        for (pieces, rows) in results {
            #expect(pieces == expectedPieces)
            #expect(rows.shape == [size * (size - 1) / 2, 3])
            #expect(rows.scalars == Array(expectedPieces.joined()))
        }
    }

    @Test(arguments: [1, 2, 3])
    func reduceScatterGivesEachRankItsBlockOfTheSum(size: Int) throws {
        let results = try runRanks(size) { communicator in
            let input = inputs(of: communicator.rank, count: 4 * size)
            var block = [Float](repeating: 0, count: 4)
            try input.withUnsafeBufferPointer { input in
                try block.withUnsafeMutableBufferPointer { try communicator.reduceScatter(input, into: $0, operation: .sum) }
            }
            return block
        }
        let sum = serialReduction(.sum, size: size, count: 4 * size)
        for (rank, block) in results.enumerated() {
            #expect(bits(block) == bits(Array(sum[4 * rank..<4 * rank + 4])))
        }
    }

    @Test(arguments: [1, 2, 3])
    func nonBlockingAllreduceCompletesThroughTest(size: Int) throws {
        let results = try runRanks(size) { communicator -> (Bool, [Float]) in
            let tensor = Tensor(inputs(of: communicator.rank, count: 10))
            try communicator.barrier()
            let request = try communicator.iallreduce(tensor, operation: .mean)
            var polls = 0
            while try !request.test() { polls += 1; usleep(100) }
            return (try request.test(), tensor.scalars)
        }
        for (stillComplete, values) in results {
            #expect(stillComplete)
            #expect(bits(values) == bits(serialReduction(.mean, size: size, count: 10)))
        }
    }

    @Test func differentCollectivesAtTheSameStepAreAMismatch() {
        let outcomes = outcomesOfRanks(2, defaultTimeout: 2) { communicator in
            var values: [Float] = [1, 2]
            if communicator.rank == 0 {
                try communicator.allreduce(&values)
            } else {
                try communicator.broadcast(&values, root: 0)
            }
        }
        for outcome in outcomes {
            #expect(throws: CommunicatorError.self) { try outcome.get() }
            if case .failure(let error as CommunicatorError) = outcome, case .mismatch(let message) = error {
                #expect(message.contains("allreduce") && message.contains("broadcast"))
            } else {
                Issue.record("expected a mismatch, got \(outcome)")
            }
        }
    }

    @Test func differentSizesInAnAllreduceAreAMismatchOnEveryRank() {
        let outcomes = outcomesOfRanks(3, defaultTimeout: 2) { communicator in
            var values = [Float](repeating: 1, count: communicator.rank == 1 ? 3 : 2)
            try communicator.allreduce(&values)
        }
        for outcome in outcomes {
            guard case .failure(CommunicatorError.mismatch(let message)) = outcome else {
                Issue.record("expected a mismatch, got \(outcome)")
                continue
            }
            #expect(message.contains("[2, 3, 2]"))
        }
    }

    @Test func missingRankInACollectiveTimesOutNamingIt() {
        let deadline = 0.3
        let outcomes = outcomesOfRanks(3) { communicator -> Double in
            let start = Date()
            if communicator.rank == 2 { return 0 }  // never joins
            var values: [Float] = [1]
            do {
                try communicator.allreduce(&values, timeout: deadline)
            } catch CommunicatorError.timeout(let operation, let waited, let missing) {
                #expect(missing == [2], "\(operation)")
                #expect(operation.contains("allreduce"))
                #expect(waited >= deadline)
                return Date().timeIntervalSince(start)
            }
            Issue.record("rank \(communicator.rank): allreduce completed without rank 2")
            return 0
        }
        for rank in 0..<2 {
            let elapsed = (try? outcomes[rank].get()) ?? .infinity
            #expect(elapsed >= deadline && elapsed < deadline + 0.5, "rank \(rank) gave up after \(elapsed) s")
        }
    }

    /// A rank that gives up abandons the group: the ranks waiting in a collective or for a
    /// message throw `.abandoned` with its reason long before their 10 s timeout, and so does a
    /// collective started afterwards.
    @Test func anAbandonedGroupReleasesEveryWaitingRank() {
        let outcomes = outcomesOfRanks(3) { communicator -> String in
            switch communicator.rank {
            case 0:
                Thread.sleep(forTimeInterval: 0.2)
                communicator.abandonGroup(because: "rank 0 could not read its checkpoint")
                return "abandoned"
            case 1:
                var values: [Float] = [1]
                do { try communicator.allreduce(&values) } catch CommunicatorError.abandoned(let reason) { return reason }
                return "allreduce completed"
            default:
                do { _ = try communicator.receive(from: 0, tag: 7) } catch CommunicatorError.abandoned(let reason) {
                    var values: [Float] = [1]
                    do { try communicator.allreduce(&values) } catch CommunicatorError.abandoned { return reason }
                    return "a later allreduce completed"
                }
                return "receive completed"
            }
        }
        for rank in 1..<3 {
            #expect((try? outcomes[rank].get()) == "rank 0 could not read its checkpoint", "rank \(rank): \(outcomes[rank])")
        }
    }
}
