import Foundation
import Testing
import TesseraDistributed

/// Tagged messages between `LocalCommunicator` ranks: matching by source and tag, wildcards,
/// unknown sizes, timeouts.
@Suite struct PointToPointTests {
    @Test func receiveMatchesByTagNotArrivalOrder() throws {
        let results = try runRanks(2) { communicator -> [ReceivedMessage] in
            if communicator.rank == 0 {
                try communicator.send("first", to: 1, tag: 1)
                try communicator.send([1.5, -2], to: 1, tag: 2)
                return []
            }
            let floats = try communicator.receive(from: 0, tag: 2)
            let text = try communicator.receive(from: 0, tag: 1)
            return [floats, text]
        }
        #expect(results[1][0] == ReceivedMessage(source: 0, tag: 2, bytes: ([1.5, -2] as [Float]).withUnsafeBytes { Array($0) }))
        #expect(results[1][0].floats == [1.5, -2])
        #expect(results[1][1].string == "first")
    }

    @Test func messagesWithTheSameSourceAndTagArriveInOrderSent() throws {
        let results = try runRanks(2) { communicator -> [String] in
            if communicator.rank == 0 {
                for index in 0..<5 { try communicator.send("message \(index)", to: 1, tag: 3) }
                return []
            }
            return try (0..<5).map { _ in try communicator.receive(from: 0, tag: 3).string }
        }
        #expect(results[1] == (0..<5).map { "message \($0)" })
    }

    @Test func anySourceReportsWhoSentAndWithWhichTag() throws {
        let results = try runRanks(3) { communicator -> [ReceivedMessage] in
            if communicator.rank != 0 {
                // Payloads of different, unannounced sizes.
                try communicator.send([UInt8](repeating: UInt8(communicator.rank), count: 10 * communicator.rank),
                                      to: 0, tag: 20 + communicator.rank)
                return []
            }
            return try (0..<2).map { _ in try communicator.receive(from: MessageMatching.anySource, tag: MessageMatching.anyTag) }
        }
        let received = results[0].sorted { $0.source < $1.source }
        #expect(received.map(\.source) == [1, 2])
        #expect(received.map(\.tag) == [21, 22])
        #expect(received.map(\.bytes) == [[UInt8](repeating: 1, count: 10), [UInt8](repeating: 2, count: 20)])
    }

    @Test func receiveFromSilentRankTimesOutNamingIt() {
        let outcomes = outcomesOfRanks(2) { communicator in
            if communicator.rank == 1 { _ = try communicator.receive(from: 0, tag: 5, timeout: 0.2) }
        }
        guard case .failure(CommunicatorError.timeout(_, let waited, let missing)) = outcomes[1] else {
            Issue.record("expected a timeout, got \(outcomes[1])")
            return
        }
        #expect(missing == [0])
        #expect(waited >= 0.2 && waited < 1)
    }

    @Test func tagsOutsideMPIsGuaranteedRangeAreRejected() {
        let outcomes = outcomesOfRanks(1) { communicator in
            try communicator.send("x", to: 0, tag: MessageMatching.maximumTag + 1)
        }
        #expect(throws: CommunicatorError.self) { try outcomes[0].get() }
    }

    @Test func nonBlockingReceiveCompletesOnceTheMessageArrives() throws {
        let results = try runRanks(2) { communicator -> (Bool, Bool, String?) in
            if communicator.rank == 0 {
                try communicator.barrier()  // rank 1 has tested once before this send
                try communicator.send("late", to: 1, tag: 4)
                return (false, false, nil)
            }
            let request = try communicator.irecv(from: 0, tag: 4)
            let before = try request.test()
            try communicator.barrier()
            try request.wait(timeout: 5)
            return (before, try request.test(), request.message?.string)
        }
        #expect(results[1].0 == false)
        #expect(results[1].1 == true)
        #expect(results[1].2 == "late")
    }
}
