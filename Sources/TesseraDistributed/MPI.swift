import CMPI
import Foundation

/// The only Swift file that calls Open MPI: one thin wrapper per C function Tessera uses, each
/// turning the return code into a thrown `CommunicatorError.mpi` (the communicators are set to
/// `MPI_ERRORS_RETURN`, so MPI reports errors instead of aborting the job).
///
/// Counts are `Int32` in MPI's C API; messages of 2 GiB or more are refused with an error.
enum MPILibrary {
    /// A communicator handle (`MPI_Comm`).
    struct Comm {
        fileprivate let raw: MPI_Comm
    }

    // MARK: Setup

    static var isInitialized: Bool {
        var flag: Int32 = 0
        MPI_Initialized(&flag)
        return flag != 0
    }

    static var isFinalized: Bool {
        var flag: Int32 = 0
        MPI_Finalized(&flag)
        return flag != 0
    }

    /// `MPI_Init_thread` asking for `MPI_THREAD_SERIALIZED`: one thread at a time may call MPI,
    /// not necessarily the main thread (a trainer may run its loop on a worker thread).
    static func initialize() throws {
        if isInitialized { return }
        var provided: Int32 = 0
        try check(MPI_Init_thread(nil, nil, Int32(MPI_THREAD_SERIALIZED), &provided), "MPI_Init_thread")
        try check(MPI_Comm_set_errhandler(tessera_mpi_comm_world(), tessera_mpi_errors_return()), "MPI_Comm_set_errhandler")
        guard provided >= Int32(MPI_THREAD_SERIALIZED) else {
            throw CommunicatorError.invalidArgument("MPI_Init_thread: this MPI provides thread level \(provided), Tessera needs MPI_THREAD_SERIALIZED")
        }
    }

    static func finalize() throws {
        if isInitialized && !isFinalized { try check(MPI_Finalize(), "MPI_Finalize") }
    }

    static var world: Comm { Comm(raw: tessera_mpi_comm_world()) }

    /// A new communicator over the same processes whose messages never match the original's.
    static func duplicate(_ comm: Comm) throws -> Comm {
        var result: MPI_Comm? = nil
        try check(MPI_Comm_dup(comm.raw, &result), "MPI_Comm_dup")
        try check(MPI_Comm_set_errhandler(result, tessera_mpi_errors_return()), "MPI_Comm_set_errhandler")
        return Comm(raw: result!)
    }

    static func free(_ comm: Comm) throws {
        var raw: MPI_Comm? = comm.raw
        try check(MPI_Comm_free(&raw), "MPI_Comm_free")
    }

    static func rank(_ comm: Comm) throws -> Int {
        var value: Int32 = 0
        try check(MPI_Comm_rank(comm.raw, &value), "MPI_Comm_rank")
        return Int(value)
    }

    static func size(_ comm: Comm) throws -> Int {
        var value: Int32 = 0
        try check(MPI_Comm_size(comm.raw, &value), "MPI_Comm_size")
        return Int(value)
    }

    static func abort(_ comm: Comm, code: Int32) -> Never {
        MPI_Abort(comm.raw, code)
        exit(code)
    }

    // MARK: Collectives (non-blocking)

    static func ibarrier(_ comm: Comm) throws -> MPIRequest {
        try start("MPI_Ibarrier") { MPI_Ibarrier(comm.raw, &$0) }
    }

    static func ibroadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int, _ comm: Comm) throws -> MPIRequest {
        let count = try int32(bytes.count, "MPI_Ibcast")
        return try start("MPI_Ibcast") { MPI_Ibcast(bytes.baseAddress, count, tessera_mpi_byte(), Int32(root), comm.raw, &$0) }
    }

    /// Reduces `count` floats from `send` into `receive` (distinct buffers).
    static func iallreduce(send: UnsafeRawPointer?, receive: UnsafeMutableRawPointer?, count: Int,
                           operation: ReductionOperation, _ comm: Comm) throws -> MPIRequest {
        let count = try int32(count * 4, "MPI_Iallreduce") / 4
        return try start("MPI_Iallreduce") {
            MPI_Iallreduce(send, receive, count, tessera_mpi_float(), mpiOperation(operation), comm.raw, &$0)
        }
    }

    /// Reduces `count` floats in place (`MPI_IN_PLACE`).
    static func iallreduceInPlace(_ buffer: UnsafeMutableRawPointer?, count: Int,
                                  operation: ReductionOperation, _ comm: Comm) throws -> MPIRequest {
        let count = try int32(count * 4, "MPI_Iallreduce") / 4
        return try start("MPI_Iallreduce") {
            MPI_Iallreduce(tessera_mpi_in_place(), buffer, count, tessera_mpi_float(), mpiOperation(operation), comm.raw, &$0)
        }
    }

    /// The blocking `MPI_Allreduce`, only for measuring our polling path against it.
    static func allreduce(send: UnsafeRawPointer?, receive: UnsafeMutableRawPointer?, count: Int, _ comm: Comm) throws {
        try check(MPI_Allreduce(send, receive, Int32(count), tessera_mpi_float(), tessera_mpi_sum(), comm.raw), "MPI_Allreduce")
    }

    /// Blocking in-place `MPI_Allreduce`.
    static func allreduceInPlace(_ buffer: UnsafeMutableRawPointer?, count: Int, operation: ReductionOperation, _ comm: Comm) throws {
        let count = try int32(count * 4, "MPI_Allreduce") / 4
        try check(MPI_Allreduce(tessera_mpi_in_place(), buffer, count, tessera_mpi_float(), mpiOperation(operation), comm.raw),
                  "MPI_Allreduce")
    }

    static func iallgather(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, _ comm: Comm) throws -> MPIRequest {
        let count = try int32(input.count, "MPI_Iallgather")
        return try start("MPI_Iallgather") {
            MPI_Iallgather(input.baseAddress, count, tessera_mpi_byte(), output.baseAddress, count, tessera_mpi_byte(), comm.raw, &$0)
        }
    }

    static func iallgatherVariable(_ input: UnsafeRawBufferPointer, byteCounts: [Int],
                                   into output: UnsafeMutableRawBufferPointer, _ comm: Comm) throws -> MPIRequest {
        // MPI reads the count and displacement arrays until completion, so the request owns them.
        let counts = OwnedBuffer(try byteCounts.map { try int32($0, "MPI_Iallgatherv") })
        let displacements = OwnedBuffer(try byteCounts.indices.map { try int32(byteCounts[..<$0].reduce(0, +), "MPI_Iallgatherv") })
        let request = try start("MPI_Iallgatherv") {
            MPI_Iallgatherv(input.baseAddress, Int32(input.count), tessera_mpi_byte(), output.baseAddress,
                            counts.pointer, displacements.pointer, tessera_mpi_byte(), comm.raw, &$0)
        }
        request.retained += [counts, displacements]
        return request
    }

    static func ireduceScatter(send: UnsafeRawPointer?, receive: UnsafeMutableRawPointer?, countPerRank: Int,
                               operation: ReductionOperation, _ comm: Comm) throws -> MPIRequest {
        let count = try int32(countPerRank * 4, "MPI_Ireduce_scatter_block") / 4
        return try start("MPI_Ireduce_scatter_block") {
            MPI_Ireduce_scatter_block(send, receive, count, tessera_mpi_float(), mpiOperation(operation), comm.raw, &$0)
        }
    }

    // MARK: Point to point

    /// Sends a copy of `bytes`, so the caller's memory is free at once.
    static func isend(copying bytes: UnsafeRawBufferPointer, to destination: Int, tag: Int, _ comm: Comm) throws -> MPIRequest {
        let copy = OwnedBuffer(Array(bytes))
        let count = try int32(bytes.count, "MPI_Isend")
        let request = try start("MPI_Isend") {
            MPI_Isend(copy.pointer, count, tessera_mpi_byte(), Int32(destination), Int32(tag), comm.raw, &$0)
        }
        request.retained.append(copy)
        return request
    }

    /// Receives into a fixed buffer (the arrival tracker's one-integer messages).
    static func irecv(_ bytes: UnsafeMutableRawBufferPointer, from source: Int, tag: Int, _ comm: Comm) throws -> MPIRequest {
        try start("MPI_Irecv") {
            MPI_Irecv(bytes.baseAddress, Int32(bytes.count), tessera_mpi_byte(), Int32(source), Int32(tag), comm.raw, &$0)
        }
    }

    /// The envelope of the next matching message, if one has arrived (`MPI_Iprobe`).
    static func probe(from source: Int, tag: Int, _ comm: Comm) throws -> (source: Int, tag: Int, byteCount: Int)? {
        var flag: Int32 = 0
        var status = MPI_Status()
        try check(MPI_Iprobe(mpiSource(source), mpiTag(tag), comm.raw, &flag, &status), "MPI_Iprobe")
        guard flag != 0 else { return nil }
        var count: Int32 = 0
        try check(MPI_Get_count(&status, tessera_mpi_byte(), &count), "MPI_Get_count")
        return (Int(tessera_mpi_status_source(&status)), Int(tessera_mpi_status_tag(&status)), Int(count))
    }

    /// Receives a message already found by `probe` (so it returns at once).
    static func receive(into bytes: UnsafeMutableRawBufferPointer, from source: Int, tag: Int, _ comm: Comm) throws {
        try check(MPI_Recv(bytes.baseAddress, Int32(bytes.count), tessera_mpi_byte(), Int32(source), Int32(tag), comm.raw,
                           tessera_mpi_status_ignore()), "MPI_Recv")
    }

    // MARK: Helpers

    private static func start(_ function: String, _ body: (inout MPI_Request?) -> Int32) throws -> MPIRequest {
        var raw: MPI_Request? = tessera_mpi_request_null()
        try check(body(&raw), function)
        return MPIRequest(raw: raw, function: function)
    }

    fileprivate static func check(_ code: Int32, _ function: String) throws {
        guard code == tessera_mpi_success() else {
            throw CommunicatorError.mpi(function: function, code: Int(code), message: errorString(code))
        }
    }

    private static func errorString(_ code: Int32) -> String {
        var text = [CChar](repeating: 0, count: Int(MPI_MAX_ERROR_STRING) + 1)
        var length: Int32 = 0
        MPI_Error_string(code, &text, &length)
        return String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func int32(_ value: Int, _ function: String) throws -> Int32 {
        guard let result = Int32(exactly: value) else {
            throw CommunicatorError.invalidArgument("\(function): \(value) bytes exceeds MPI's 32-bit counts; split the message")
        }
        return result
    }

    private static func mpiOperation(_ operation: ReductionOperation) -> MPI_Op {
        switch operation {
        case .sum, .mean: return tessera_mpi_sum()
        case .max: return tessera_mpi_max()
        case .min: return tessera_mpi_min()
        }
    }

    private static func mpiSource(_ source: Int) -> Int32 {
        source == MessageMatching.anySource ? tessera_mpi_any_source() : Int32(source)
    }

    private static func mpiTag(_ tag: Int) -> Int32 {
        tag == MessageMatching.anyTag ? tessera_mpi_any_tag() : Int32(tag)
    }
}

/// A started MPI operation (`MPI_Request`) and the memory MPI may still touch until it completes.
final class MPIRequest {
    private var raw: MPI_Request?
    let function: String
    /// Buffers MPI reads or writes until completion; released only once it has completed.
    var retained: [AnyObject] = []
    private(set) var isComplete = false

    fileprivate init(raw: MPI_Request?, function: String) {
        self.raw = raw
        self.function = function
    }

    /// `MPI_Test`: whether the operation has completed; also drives MPI's progress engine.
    func test() throws -> Bool {
        if isComplete { return true }
        var flag: Int32 = 0
        try MPILibrary.check(MPI_Test(&raw, &flag, tessera_mpi_status_ignore()), "MPI_Test(\(function))")
        isComplete = flag != 0
        return isComplete
    }

    /// `MPI_Cancel` then `MPI_Wait`: withdraws a receive nobody will match (at shutdown).
    func cancel() {
        if isComplete { return }
        MPI_Cancel(&raw)
        MPI_Wait(&raw, tessera_mpi_status_ignore())
        isComplete = true
    }

    deinit {
        // An abandoned operation (after a timeout) may still write into its buffers: keep them
        // alive rather than let MPI write into freed memory. The job should abort anyway.
        if !isComplete && !retained.isEmpty { _ = Unmanaged.passRetained(retained as AnyObject) }
    }
}

/// Heap memory owned by a request (send copies, count arrays).
final class OwnedBuffer<Element> {
    let pointer: UnsafeMutablePointer<Element>
    let count: Int

    init(_ values: [Element]) {
        count = values.count
        pointer = .allocate(capacity: Swift.max(count, 1))
        values.withUnsafeBufferPointer { if count > 0 { pointer.initialize(from: $0.baseAddress!, count: count) } }
    }

    init(uninitializedCount count: Int) {
        self.count = count
        pointer = .allocate(capacity: Swift.max(count, 1))
    }

    deinit { pointer.deallocate() }
}
