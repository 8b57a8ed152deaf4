import Foundation
import TesseraDistributed

/// Runs `body(rank)` for every rank on its own thread (as ranks are) and returns the results by
/// rank, rethrowing the first rank's error.
func onThreads<Value>(_ count: Int, _ body: @escaping (Int) throws -> Value) throws -> [Value] {
    try RankThreads.run(count, body).map { try $0.get() }
}
