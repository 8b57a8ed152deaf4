import Foundation

/// The shared memory through which the `LocalCommunicator`s of one group talk: a table of
/// collectives in progress and one mailbox per rank, guarded by one lock and condition variable.
///
/// A collective is a rendezvous keyed by its sequence number (the n-th collective each rank
/// starts): every rank deposits a copy of its contribution; the last to arrive computes every
/// rank's result once, so all ranks receive the same bits; each rank then takes its result.
/// Because the hub knows who has deposited, a timeout names the missing ranks exactly.
final class LocalHub: @unchecked Sendable {
    let size: Int
    private let condition = NSCondition()
    private var collectives: [Int: Collective] = [:]
    /// Messages waiting for their receiver, per destination rank, in arrival order.
    private var mailboxes: [[ReceivedMessage]]
    /// Set when a rank gave up (``abandon(because:)``): every wait then throws it.
    private var abandonment: CommunicatorError?

    /// Turns the contributions (indexed by rank) into the results (indexed by rank).
    typealias Combine = ([Any]) throws -> [Any]

    private final class Collective {
        let operation: String
        var contributions: [Any?]
        var results: [Any]?
        var failure: CommunicatorError?
        var taken = 0

        init(operation: String, size: Int) {
            self.operation = operation
            contributions = Array(repeating: nil, count: size)
        }
    }

    init(size: Int) {
        self.size = size
        mailboxes = Array(repeating: [], count: size)
    }

    /// Wakes every waiting rank with `.abandoned(reason)`, now and in every later wait: a rank that
    /// stops with an error must not leave the others waiting for it until their timeout.
    func abandon(because reason: String) {
        condition.lock()
        abandonment = abandonment ?? .abandoned(reason)
        condition.broadcast()
        condition.unlock()
    }

    // MARK: Collectives

    /// Deposits `rank`'s contribution to collective `sequence`; the last rank to arrive runs
    /// `combine`. A rank naming a different operation than the first arrival fails the collective
    /// for everyone with `.mismatch`.
    func join(sequence: Int, rank: Int, operation: String, contribution: Any, combine: Combine) throws {
        condition.lock()
        defer { condition.unlock() }
        let collective = collectives[sequence] ?? Collective(operation: operation, size: size)
        collectives[sequence] = collective
        if collective.operation != operation {
            let failure = CommunicatorError.mismatch(
                "collective #\(sequence): rank \(rank) called \(operation) but another rank called \(collective.operation)")
            collective.failure = collective.failure ?? failure
            condition.broadcast()
            throw failure
        }
        collective.contributions[rank] = contribution
        guard collective.contributions.allSatisfy({ $0 != nil }) else { return }
        do {
            collective.results = try combine(collective.contributions.map { $0! })
        } catch let error as CommunicatorError {
            collective.failure = error
        }
        collective.contributions = []  // the copies are no longer needed
        condition.broadcast()
    }

    /// `rank`'s result of collective `sequence`: waits up to `waitSeconds` (`nil`: returns `nil`
    /// at once if it is not ready).
    func result(sequence: Int, rank: Int, waitSeconds: Double?, operation: String) throws -> Any? {
        let start = monotonicSeconds()
        let deadline = Date(timeIntervalSinceNow: waitSeconds ?? 0)
        condition.lock()
        defer { condition.unlock() }
        while true {
            guard let collective = collectives[sequence] else {
                throw CommunicatorError.invalidArgument("\(operation): collective #\(sequence) was already completed")
            }
            if let failure = collective.failure { throw failure }
            if let abandonment, collective.results == nil { throw abandonment }
            if let results = collective.results {
                collective.taken += 1
                if collective.taken == size { collectives[sequence] = nil }
                return results[rank]
            }
            guard let waitSeconds else { return nil }
            if Date() >= deadline {
                let missing = collective.contributions.indices.filter { collective.contributions[$0] == nil }
                throw CommunicatorError.timeout(operation: operation, waitedSeconds: max(waitSeconds, monotonicSeconds() - start),
                                                missingRanks: missing)
            }
            _ = condition.wait(until: deadline)
        }
    }

    // MARK: Point to point

    /// Puts a message into `destination`'s mailbox (sends are eager: they never wait for the receiver).
    func post(_ message: ReceivedMessage, to destination: Int) {
        condition.lock()
        mailboxes[destination].append(message)
        condition.broadcast()
        condition.unlock()
    }

    /// Removes and returns the oldest message for `rank` matching `source` and `tag` (wildcards
    /// allowed), waiting up to `waitSeconds` (`nil`: do not wait).
    func takeMessage(for rank: Int, source: Int, tag: Int, waitSeconds: Double?, operation: String) throws -> ReceivedMessage? {
        let start = monotonicSeconds()
        let deadline = Date(timeIntervalSinceNow: waitSeconds ?? 0)
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let index = mailboxes[rank].firstIndex(where: {
                (source == MessageMatching.anySource || $0.source == source) && (tag == MessageMatching.anyTag || $0.tag == tag)
            }) {
                return mailboxes[rank].remove(at: index)
            }
            if let abandonment { throw abandonment }
            guard let waitSeconds else { return nil }
            if Date() >= deadline {
                throw CommunicatorError.timeout(operation: operation, waitedSeconds: max(waitSeconds, monotonicSeconds() - start),
                                                missingRanks: source == MessageMatching.anySource ? nil : [source])
            }
            _ = condition.wait(until: deadline)
        }
    }
}
