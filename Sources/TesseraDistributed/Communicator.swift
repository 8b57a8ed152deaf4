import Foundation

/// A group of `size` processes (or threads) numbered `0..<size` that exchange data.
///
/// The protocol holds only the non-blocking primitives; the blocking calls everyone uses
/// (`allreduce`, `broadcast`, `receive`, …, in `Communicator+Blocking.swift`) start one of them
/// and wait with a deadline, so a stalled rank turns into a `CommunicatorError.timeout` instead of
/// a hang. Two implementations share these semantics: `MPICommunicator` (Open MPI, one process
/// per rank) and `LocalCommunicator` (threads of one process, for local runs and tests).
///
/// Rules, as in MPI:
/// - every rank calls the same collectives in the same order, with matching sizes;
/// - a buffer handed to a non-blocking call stays alive and untouched until its request completes;
/// - one communicator is used by one thread at a time.
///
/// Guarantee on reductions: every rank receives bit-identical results. `LocalCommunicator` sums in
/// rank order, `((x₀ + x₁) + x₂) + …`; Open MPI's algorithms (recursive doubling, ring,
/// reduce-scatter + allgather) combine partial sums with the same commutative additions on every
/// rank, so its results agree across ranks too (checked by `runMPISelfTest`), but its order of
/// summation, and so the last bits, can differ from the local one. `.mean` divides the sum by
/// `Float(size)` after the reduction, identically everywhere.
///
/// ```swift
/// let communicator = try MPICommunicator.world()      // or LocalCommunicator.group(size: 4)[rank]
/// try communicator.allreduce(loss, operation: .mean)  // Tensor overload, in place
/// ```
public protocol Communicator: AnyObject {
    /// This participant's number, `0..<size`.
    var rank: Int { get }
    /// Number of participants.
    var size: Int { get }
    /// Seconds a blocking call waits before throwing `CommunicatorError.timeout` when it is given
    /// no `timeout:` of its own.
    var defaultTimeout: Double { get set }

    /// Starts a barrier: completes once every rank has started it.
    func ibarrier() throws -> CommunicationRequest
    /// Starts copying `root`'s bytes into every other rank's `bytes` (the same count everywhere).
    func ibroadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws -> CommunicationRequest
    /// Starts reducing `buffer` element-wise across ranks, in place.
    func iallreduce(_ buffer: UnsafeMutableBufferPointer<Float>, operation: ReductionOperation) throws -> CommunicationRequest
    /// Starts concatenating every rank's `input` (equal byte counts) in rank order into `output`.
    func iallgather(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws -> CommunicationRequest
    /// Like `iallgather`, but rank `r` contributes `byteCounts[r]` bytes (known to every rank).
    func iallgatherVariable(_ input: UnsafeRawBufferPointer, byteCounts: [Int],
                            into output: UnsafeMutableRawBufferPointer) throws -> CommunicationRequest
    /// Starts reducing `input` (`size × output.count` elements) across ranks; rank `r` receives
    /// block `r` of the result.
    func ireduceScatter(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>,
                        operation: ReductionOperation) throws -> CommunicationRequest
    /// Starts sending a copy of `bytes` to rank `destination` with a `tag` in `0...maximumTag`.
    /// The bytes are copied, so the caller may reuse them at once.
    func isend(_ bytes: UnsafeRawBufferPointer, to destination: Int, tag: Int) throws -> CommunicationRequest
    /// Starts receiving the next message from `source` (or `anySource`) with `tag` (or `anyTag`),
    /// whatever its size.
    func irecv(from source: Int, tag: Int) throws -> ReceiveRequest
    /// A blocking in-place allreduce for large buffers that are not overlapped with anything:
    /// implementations may use a faster blocking algorithm once every rank is known to have
    /// arrived. Waits at most `timeout` for the other ranks.
    func allreduceLarge(_ buffer: UnsafeMutableBufferPointer<Float>, operation: ReductionOperation, timeout: Double?) throws
}

/// Wildcards and limits shared by both implementations (MPI's own values stay inside `MPI.swift`).
public enum MessageMatching {
    /// Matches a message from any rank.
    public static let anySource = -1
    /// Matches a message with any tag.
    public static let anyTag = -1
    /// The largest tag every MPI implementation must accept (MPI 4.0 §8.1.2: `MPI_TAG_UB` ≥ 32767).
    public static let maximumTag = 32767
}

/// How `allreduce` and `reduceScatter` combine the ranks' values.
public enum ReductionOperation: String, Sendable, CaseIterable {
    case sum, mean, max, min

    /// Combines two values; `LocalCommunicator` folds ranks with it in rank order.
    /// `.mean` accumulates a sum and is divided by the rank count afterwards.
    @inline(__always)
    func combine(_ a: Float, _ b: Float) -> Float {
        switch self {
        case .sum, .mean: return a + b
        case .max: return Swift.max(a, b)
        case .min: return Swift.min(a, b)
        }
    }
}

/// A started non-blocking operation.
public protocol CommunicationRequest: AnyObject {
    /// Whether the operation has completed (then its output buffers hold the result). Never blocks.
    func test() throws -> Bool
    /// Blocks until completion or until `timeout` seconds (`nil`: the communicator's default) have
    /// passed, then throws `CommunicatorError.timeout`.
    func wait(timeout: Double?) throws
}

extension CommunicationRequest {
    public func wait() throws { try wait(timeout: nil) }
}

/// A started receive; `message` is set once it has completed.
public protocol ReceiveRequest: CommunicationRequest {
    var message: ReceivedMessage? { get }
}

/// A point-to-point message as it arrived.
public struct ReceivedMessage: Equatable, Sendable {
    /// The rank that sent it (useful after receiving from `anySource`).
    public var source: Int
    /// The tag it was sent with (useful after receiving with `anyTag`).
    public var tag: Int
    public var bytes: [UInt8]

    public init(source: Int, tag: Int, bytes: [UInt8]) {
        self.source = source
        self.tag = tag
        self.bytes = bytes
    }

    /// The payload read as floats (it must have been sent as floats).
    public var floats: [Float] {
        precondition(bytes.count % MemoryLayout<Float>.size == 0,
                     "ReceivedMessage.floats: \(bytes.count) bytes is not a whole number of floats")
        return bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    /// The payload read as UTF-8 text.
    public var string: String { String(decoding: bytes, as: UTF8.self) }
}

/// Why a communication failed.
public enum CommunicatorError: Error, Equatable, CustomStringConvertible {
    /// A blocking call gave up after `waitedSeconds`. `missingRanks` are the ranks that had not
    /// started this collective (or the awaited sender of a receive); `nil` when this rank cannot
    /// know it: under MPI only rank 0 tracks arrivals, so look at rank 0's error.
    case timeout(operation: String, waitedSeconds: Double, missingRanks: [Int]?)
    /// An MPI function returned an error code; `message` is `MPI_Error_string`'s text.
    case mpi(function: String, code: Int, message: String)
    /// Ranks disagree: different collectives at the same step, different sizes, different
    /// parameter lists.
    case mismatch(String)
    /// A call that can never succeed (rank out of range, tag too large, wrong buffer size) or an
    /// API used in the wrong order.
    case invalidArgument(String)
    /// Another rank of an in-process group stopped with this error, so this rank's collectives
    /// and receives can never complete (`LocalCommunicator.abandonGroup(because:)`).
    case abandoned(String)

    public var description: String {
        switch self {
        case let .abandoned(reason):
            return "another rank stopped: \(reason)"
        case let .timeout(operation, waited, missing):
            let who = missing.map { $0.isEmpty ? "every rank has arrived and answers" : "missing or unresponsive ranks \($0)" }
                ?? "missing ranks unknown on this rank (rank 0 reports them)"
            return "\(operation) timed out after \(String(format: "%.2f", waited)) s; \(who)"
        case let .mpi(function, code, message):
            return "\(function) failed with MPI error \(code): \(message)"
        case let .mismatch(message):
            return "ranks disagree: \(message)"
        case let .invalidArgument(message):
            return message
        }
    }
}

// MARK: - Argument checks shared by the implementations

extension Communicator {
    func validateRank(_ candidate: Int, _ role: String, allowAny: Bool = false) throws {
        if allowAny && candidate == MessageMatching.anySource { return }
        guard (0..<size).contains(candidate) else {
            throw CommunicatorError.invalidArgument("\(role) rank \(candidate) is outside 0..<\(size)")
        }
    }

    func validateTag(_ tag: Int, allowAny: Bool = false) throws {
        if allowAny && tag == MessageMatching.anyTag { return }
        guard (0...MessageMatching.maximumTag).contains(tag) else {
            throw CommunicatorError.invalidArgument("tag \(tag) is outside 0...\(MessageMatching.maximumTag)")
        }
    }
}
