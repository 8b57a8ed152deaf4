import Foundation

/// Runs `body(rank)` for every rank on its own thread (as ranks are) and returns the results by
/// rank, rethrowing the first rank's error.
func onThreads<Value>(_ count: Int, _ body: @escaping (Int) throws -> Value) throws -> [Value] {
    let outcomes = ThreadOutcomes<Value>(count: count)
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
    return try outcomes.all.map { try $0.get() }
}

final class ThreadOutcomes<Value>: @unchecked Sendable {
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
