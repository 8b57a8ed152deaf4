import Foundation

/// Ranks of one process, each on a thread of its own, as ranks of an in-memory group
/// (`LocalCommunicator.group(size:)`) need: a rank blocked in a collective must not hold up the
/// others. Used by the trainer to run `training.batchShards` ranks in one process, and by tests.
public enum RankThreads {
    /// Runs `body(rank)` for every rank in `0..<count` on its own thread (8 MiB of stack, as a deep
    /// backward pass needs) and returns each rank's outcome, indexed by rank, once all have ended.
    public static func run<Value>(_ count: Int, _ body: @escaping (Int) throws -> Value) -> [Result<Value, Error>] {
        let outcomes = Outcomes<Value>(count: count)
        let finished = DispatchSemaphore(value: 0)
        for rank in 0..<count {
            let thread = Thread {
                outcomes.set(rank, Result { try body(rank) })
                finished.signal()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        for _ in 0..<count { finished.wait() }
        return outcomes.all
    }
}

/// Each rank's outcome, written from its own thread.
private final class Outcomes<Value>: @unchecked Sendable {
    private var values: [Result<Value, Error>?]
    private let lock = NSLock()

    init(count: Int) { values = Array(repeating: nil, count: count) }

    func set(_ rank: Int, _ outcome: Result<Value, Error>) {
        lock.lock()
        values[rank] = outcome
        lock.unlock()
    }

    var all: [Result<Value, Error>] {
        lock.lock()
        defer { lock.unlock() }
        return values.map { $0! }
    }
}
