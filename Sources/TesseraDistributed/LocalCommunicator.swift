import Foundation

/// A `Communicator` whose ranks are threads of one process, talking through shared memory.
///
/// Local runs and tests use it in place of MPI; it has MPI's semantics (same collectives, same
/// results, same matching of tagged messages) with three documented simplifications:
/// contributions are copied into the hub when a collective starts, sends are always eager
/// (buffered, never waiting for the receiver), and a receive is matched when it is tested or
/// waited on rather than when it is posted. Reductions fold ranks in order
/// `((x₀ ∘ x₁) ∘ x₂) ∘ …`, computed once, so every rank receives the same bits.
///
/// ```swift
/// let group = LocalCommunicator.group(size: 3)
/// // run each on its own thread:
/// try group[rank].allreduce(&values, operation: .mean)
/// ```
public final class LocalCommunicator: Communicator {
    public let rank: Int
    public var size: Int { hub.size }
    public var defaultTimeout: Double = 60
    private let hub: LocalHub
    /// How many collectives this rank has started: the key of the next rendezvous.
    private var collectiveCount = 0

    private init(rank: Int, hub: LocalHub) {
        self.rank = rank
        self.hub = hub
    }

    /// `size` communicators of one group, indexed by rank; use each from its own thread.
    public static func group(size: Int) -> [LocalCommunicator] {
        precondition(size >= 1, "LocalCommunicator.group: size must be at least 1, got \(size)")
        let hub = LocalHub(size: size)
        return (0..<size).map { LocalCommunicator(rank: $0, hub: hub) }
    }

    /// Makes every rank of this group that waits, or will wait, for a collective or a message
    /// throw `CommunicatorError.abandoned(reason)`: called when this rank stops with an error.
    public func abandonGroup(because reason: String) {
        hub.abandon(because: reason)
    }

    // MARK: Collectives

    public func ibarrier() throws -> CommunicationRequest {
        try startCollective("barrier", contribution: ()) { contributions in contributions }
    }

    public func ibroadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws -> CommunicationRequest {
        try validateRank(root, "root")
        let mine = Array(bytes)
        let size = self.size
        return try startCollective("broadcast(root: \(root))", contribution: mine, combine: { contributions in
            let all = contributions as! [[UInt8]]
            try requireEqualCounts(all.map(\.count), "broadcast")
            return Array(repeating: all[root], count: size)
        }, deliver: { result in copyBytes(result as! [UInt8], into: bytes) })
    }

    public func iallreduce(_ buffer: UnsafeMutableBufferPointer<Float>, operation: ReductionOperation) throws -> CommunicationRequest {
        let size = self.size
        return try startCollective("allreduce(\(operation))", contribution: Array(buffer), combine: { contributions in
            let reduced = try reduceInRankOrder(contributions as! [[Float]], operation: operation, "allreduce")
            return Array(repeating: reduced, count: size)
        }, deliver: { result in _ = buffer.update(from: result as! [Float]) })
    }

    public func iallgather(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws -> CommunicationRequest {
        guard output.count == input.count * size else {
            throw CommunicatorError.invalidArgument("allgather: output holds \(output.count) bytes, needs \(size) × \(input.count)")
        }
        let size = self.size
        return try startCollective("allgather", contribution: Array(input), combine: { contributions in
            let all = contributions as! [[UInt8]]
            try requireEqualCounts(all.map(\.count), "allgather")
            return Array(repeating: Array(all.joined()), count: size)
        }, deliver: { result in copyBytes(result as! [UInt8], into: output) })
    }

    public func iallgatherVariable(_ input: UnsafeRawBufferPointer, byteCounts: [Int],
                                   into output: UnsafeMutableRawBufferPointer) throws -> CommunicationRequest {
        try validateVariableCounts(inputCount: input.count, byteCounts: byteCounts, outputCount: output.count)
        let size = self.size
        return try startCollective("allgatherVariable", contribution: Array(input), combine: { contributions in
            let all = contributions as! [[UInt8]]
            guard all.map(\.count) == byteCounts else {
                throw CommunicatorError.mismatch("allgatherVariable: ranks contributed \(all.map(\.count)) bytes, expected \(byteCounts)")
            }
            return Array(repeating: Array(all.joined()), count: size)
        }, deliver: { result in copyBytes(result as! [UInt8], into: output) })
    }

    public func ireduceScatter(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>,
                               operation: ReductionOperation) throws -> CommunicationRequest {
        guard input.count == output.count * size else {
            throw CommunicatorError.invalidArgument("reduceScatter: input holds \(input.count) floats, needs \(size) × \(output.count)")
        }
        let size = self.size
        return try startCollective("reduceScatter(\(operation))", contribution: Array(input), combine: { contributions in
            let reduced = try reduceInRankOrder(contributions as! [[Float]], operation: operation, "reduceScatter")
            let block = reduced.count / size
            return (0..<size).map { Array(reduced[$0 * block..<($0 + 1) * block]) }
        }, deliver: { result in _ = output.update(from: result as! [Float]) })
    }

    /// Joins the next rendezvous and returns the request that delivers this rank's result.
    private func startCollective(_ operation: String, contribution: Any, combine: LocalHub.Combine,
                                 deliver: @escaping (Any) -> Void = { _ in }) throws -> CommunicationRequest {
        collectiveCount += 1
        let name = "\(operation) (collective #\(collectiveCount), rank \(rank))"
        try hub.join(sequence: collectiveCount, rank: rank, operation: operation, contribution: contribution, combine: combine)
        return LocalCollectiveRequest(communicator: self, sequence: collectiveCount, operation: name, deliver: deliver)
    }

    fileprivate func result(sequence: Int, waitSeconds: Double?, operation: String) throws -> Any? {
        try hub.result(sequence: sequence, rank: rank, waitSeconds: waitSeconds, operation: operation)
    }

    // MARK: Point to point

    public func isend(_ bytes: UnsafeRawBufferPointer, to destination: Int, tag: Int) throws -> CommunicationRequest {
        try validateRank(destination, "destination")
        try validateTag(tag)
        hub.post(ReceivedMessage(source: rank, tag: tag, bytes: Array(bytes)), to: destination)
        return CompletedRequest()
    }

    public func irecv(from source: Int, tag: Int) throws -> ReceiveRequest {
        try validateRank(source, "source", allowAny: true)
        try validateTag(tag, allowAny: true)
        return LocalReceiveRequest(communicator: self, source: source, tag: tag)
    }

    fileprivate func takeMessage(source: Int, tag: Int, waitSeconds: Double?) throws -> ReceivedMessage? {
        try hub.takeMessage(for: rank, source: source, tag: tag, waitSeconds: waitSeconds,
                            operation: "receive(from: \(source), tag: \(tag)) on rank \(rank)")
    }
}

// MARK: - Requests

private final class LocalCollectiveRequest: CommunicationRequest {
    private let communicator: LocalCommunicator
    private let sequence: Int
    private let operation: String
    private let deliver: (Any) -> Void
    private var isComplete = false

    init(communicator: LocalCommunicator, sequence: Int, operation: String, deliver: @escaping (Any) -> Void) {
        self.communicator = communicator
        self.sequence = sequence
        self.operation = operation
        self.deliver = deliver
    }

    func test() throws -> Bool {
        try complete(waitSeconds: nil)
        return isComplete
    }

    func wait(timeout: Double?) throws {
        try complete(waitSeconds: timeout ?? communicator.defaultTimeout)
    }

    private func complete(waitSeconds: Double?) throws {
        if isComplete { return }
        if let result = try communicator.result(sequence: sequence, waitSeconds: waitSeconds, operation: operation) {
            deliver(result)
            isComplete = true
        }
    }
}

private final class LocalReceiveRequest: ReceiveRequest {
    private let communicator: LocalCommunicator
    private let source: Int
    private let tag: Int
    private(set) var message: ReceivedMessage?

    init(communicator: LocalCommunicator, source: Int, tag: Int) {
        self.communicator = communicator
        self.source = source
        self.tag = tag
    }

    func test() throws -> Bool {
        if message == nil { message = try communicator.takeMessage(source: source, tag: tag, waitSeconds: nil) }
        return message != nil
    }

    func wait(timeout: Double?) throws {
        if message == nil {
            message = try communicator.takeMessage(source: source, tag: tag, waitSeconds: timeout ?? communicator.defaultTimeout)
        }
    }
}

// MARK: - Helpers

/// Folds the ranks' arrays in rank order; `.mean` divides the sum by the rank count.
private func reduceInRankOrder(_ contributions: [[Float]], operation: ReductionOperation, _ name: String) throws -> [Float] {
    try requireEqualCounts(contributions.map(\.count), name)
    var result = contributions[0]
    for contribution in contributions.dropFirst() {
        for index in result.indices { result[index] = operation.combine(result[index], contribution[index]) }
    }
    if operation == .mean {
        let count = Float(contributions.count)
        for index in result.indices { result[index] /= count }
    }
    return result
}

private func requireEqualCounts(_ counts: [Int], _ name: String) throws {
    guard Set(counts).count <= 1 else {
        throw CommunicatorError.mismatch("\(name): ranks passed different sizes \(counts)")
    }
}

private func copyBytes(_ bytes: [UInt8], into destination: UnsafeMutableRawBufferPointer) {
    bytes.withUnsafeBytes { source in
        if let base = source.baseAddress, !source.isEmpty { destination.baseAddress!.copyMemory(from: base, byteCount: source.count) }
    }
}

extension Communicator {
    func validateVariableCounts(inputCount: Int, byteCounts: [Int], outputCount: Int) throws {
        guard byteCounts.count == size, byteCounts[rank] == inputCount, outputCount == byteCounts.reduce(0, +) else {
            throw CommunicatorError.invalidArgument(
                "allgatherVariable: counts \(byteCounts) do not fit \(size) ranks, input of \(inputCount) bytes on rank \(rank), output of \(outputCount) bytes")
        }
    }
}
