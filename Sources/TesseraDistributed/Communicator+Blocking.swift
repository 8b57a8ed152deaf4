import Foundation

/// Blocking calls: each starts the non-blocking primitive and waits for it with a deadline
/// (`timeout` seconds; `nil` means `defaultTimeout`).
extension Communicator {
    /// Returns once every rank has called `barrier`.
    public func barrier(timeout: Double? = nil) throws {
        try ibarrier().wait(timeout: timeout)
    }

    // MARK: Broadcast

    /// Copies `root`'s floats into `buffer` on every rank (equal counts everywhere).
    public func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int, timeout: Double? = nil) throws {
        try ibroadcast(UnsafeMutableRawBufferPointer(buffer), root: root).wait(timeout: timeout)
    }

    /// Copies `root`'s floats into `values` on every rank (equal counts everywhere).
    public func broadcast(_ values: inout [Float], root: Int, timeout: Double? = nil) throws {
        try values.withUnsafeMutableBufferPointer { try broadcast($0, root: root, timeout: timeout) }
    }

    /// Copies `root`'s bytes into `buffer` on every rank (equal counts everywhere).
    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int, timeout: Double? = nil) throws {
        try ibroadcast(buffer, root: root).wait(timeout: timeout)
    }

    /// Returns `root`'s `bytes` on every rank; other ranks' arguments are ignored, so they need
    /// not know the size (a recipe, a checkpoint blob). Sends the byte count first, then the bytes.
    public func broadcast(bytes: [UInt8], root: Int, timeout: Double? = nil) throws -> [UInt8] {
        var count = Int64(rank == root ? bytes.count : 0)
        try withUnsafeMutableBytes(of: &count) { try broadcast($0, root: root, timeout: timeout) }
        var result = rank == root ? bytes : [UInt8](repeating: 0, count: Int(count))
        try result.withUnsafeMutableBytes { try broadcast($0, root: root, timeout: timeout) }
        return result
    }

    /// Returns `root`'s `string` on every rank.
    public func broadcast(string: String, root: Int, timeout: Double? = nil) throws -> String {
        String(decoding: try broadcast(bytes: Array(string.utf8), root: root, timeout: timeout), as: UTF8.self)
    }

    // MARK: Reductions

    /// Reduces `buffer` across ranks in place; every rank receives the same bits.
    public func allreduce(_ buffer: UnsafeMutableBufferPointer<Float>, operation: ReductionOperation = .sum,
                          timeout: Double? = nil) throws {
        try iallreduce(buffer, operation: operation).wait(timeout: timeout)
    }

    /// The non-blocking path; `MPICommunicator` overrides it (see there).
    public func allreduceLarge(_ buffer: UnsafeMutableBufferPointer<Float>, operation: ReductionOperation,
                               timeout: Double?) throws {
        try allreduce(buffer, operation: operation, timeout: timeout)
    }

    /// Reduces an array across ranks in place.
    public func allreduce(_ values: inout [Float], operation: ReductionOperation = .sum, timeout: Double? = nil) throws {
        try values.withUnsafeMutableBufferPointer { try allreduce($0, operation: operation, timeout: timeout) }
    }

    /// Reduces `input` (`size × output.count` floats) across ranks; rank `r` receives block `r`.
    public func reduceScatter(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>,
                              operation: ReductionOperation = .sum, timeout: Double? = nil) throws {
        try ireduceScatter(input, into: output, operation: operation).wait(timeout: timeout)
    }

    // MARK: Gathers

    /// Concatenates every rank's `input` (equal counts) in rank order into `output`.
    public func allgather(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>,
                          timeout: Double? = nil) throws {
        try iallgather(UnsafeRawBufferPointer(input), into: UnsafeMutableRawBufferPointer(output)).wait(timeout: timeout)
    }

    /// Every rank's floats, indexed by rank; the counts may differ (for example the embeddings of
    /// each rank's last, smaller batch in distributed contrastive learning). Exchanges the counts
    /// first, then the values.
    public func allgatherVariable(_ input: UnsafeBufferPointer<Float>, timeout: Double? = nil) throws -> [[Float]] {
        let counts = try allgatherCounts(input.count, timeout: timeout)
        var flat = [Float](repeating: 0, count: counts.reduce(0, +))
        try flat.withUnsafeMutableBytes { output in
            try iallgatherVariable(UnsafeRawBufferPointer(input), byteCounts: counts.map { $0 * MemoryLayout<Float>.size },
                                   into: output).wait(timeout: timeout)
        }
        var start = 0
        return counts.map { count in
            defer { start += count }
            return Array(flat[start..<start + count])
        }
    }

    /// Every rank's `count`, indexed by rank.
    public func allgatherCounts(_ count: Int, timeout: Double? = nil) throws -> [Int] {
        var mine = Int64(count)
        var all = [Int64](repeating: 0, count: size)
        try withUnsafeBytes(of: &mine) { input in
            try all.withUnsafeMutableBytes { try iallgather(input, into: $0).wait(timeout: timeout) }
        }
        return all.map { Int($0) }
    }

    // MARK: Point to point

    /// Sends bytes to `destination`; returns once they are on their way (copied).
    public func send(_ bytes: UnsafeRawBufferPointer, to destination: Int, tag: Int, timeout: Double? = nil) throws {
        try isend(bytes, to: destination, tag: tag).wait(timeout: timeout)
    }

    public func send(_ bytes: [UInt8], to destination: Int, tag: Int, timeout: Double? = nil) throws {
        try bytes.withUnsafeBytes { try send($0, to: destination, tag: tag, timeout: timeout) }
    }

    public func send(_ floats: [Float], to destination: Int, tag: Int, timeout: Double? = nil) throws {
        try floats.withUnsafeBytes { try send($0, to: destination, tag: tag, timeout: timeout) }
    }

    public func send(_ string: String, to destination: Int, tag: Int, timeout: Double? = nil) throws {
        try send(Array(string.utf8), to: destination, tag: tag, timeout: timeout)
    }

    /// The next message from `source` with `tag` (either may be a wildcard of `MessageMatching`),
    /// of whatever size it has. Messages from one sender with one tag arrive in the order sent.
    public func receive(from source: Int = MessageMatching.anySource, tag: Int = MessageMatching.anyTag,
                        timeout: Double? = nil) throws -> ReceivedMessage {
        let request = try irecv(from: source, tag: tag)
        try request.wait(timeout: timeout)
        return request.message!
    }
}

/// A request that completed when it was started (an empty operation, a single rank).
final class CompletedRequest: CommunicationRequest {
    func test() throws -> Bool { true }
    func wait(timeout: Double?) throws {}
}

/// Seconds on a monotonic clock, for deadlines.
func monotonicSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}
