import Foundation

/// The `Communicator` of all processes of an `mpirun` job (Open MPI 4.1).
///
/// Every operation is started non-blocking and, when waited on, completed by polling
/// `MPI_Test` with a short backoff until done or until its deadline, so a rank that never arrives
/// turns into `CommunicatorError.timeout` naming it (see `ArrivalTracker`) instead of a hang.
/// After a timeout the job cannot continue (MPI cannot cancel a collective): report the error
/// and call `abort()`.
///
/// Traffic runs on a duplicate of `MPI_COMM_WORLD`, so other MPI users in the process never
/// match Tessera's messages. Like MPI at `MPI_THREAD_SERIALIZED`, one thread at a time.
///
/// ```swift
/// let communicator = try MPICommunicator.world()
/// defer { try? communicator.finalize() }
/// try communicator.allreduce(&values, operation: .mean)
/// ```
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    /// Five minutes: longer than any single step of the models Tessera trains, shorter than a
    /// scheduler's patience.
    public var defaultTimeout: Double = 300
    private let data: MPILibrary.Comm
    private let control: MPILibrary.Comm
    private let arrivals: ArrivalTracker?
    private var collectiveCount = 0
    private var isClosed = false

    /// Initialises MPI (once per process) and returns a communicator over all its processes.
    /// - Parameter tracksArrivals: announce each collective to rank 0 so timeouts name the
    ///   missing ranks (`ArrivalTracker`); switch off only to measure its cost.
    public static func world(tracksArrivals: Bool = true) throws -> MPICommunicator {
        try MPILibrary.initialize()
        return try MPICommunicator(tracksArrivals: tracksArrivals)
    }

    private init(tracksArrivals: Bool) throws {
        data = try MPILibrary.duplicate(MPILibrary.world)
        control = try MPILibrary.duplicate(MPILibrary.world)
        rank = try MPILibrary.rank(data)
        size = try MPILibrary.size(data)
        arrivals = tracksArrivals ? try ArrivalTracker(control: control, rank: rank, size: size) : nil
    }

    /// Waits for every rank and releases this communicator; MPI stays up for other communicators.
    public func close() throws {
        guard !isClosed else { return }
        try barrier()
        arrivals?.close()
        try MPILibrary.free(data)
        try MPILibrary.free(control)
        isClosed = true
    }

    /// Closes this communicator and shuts MPI down (`MPI_Finalize`); call once, at exit.
    public func finalize() throws {
        try close()
        try MPILibrary.finalize()
    }

    /// Ends every process of the job (`MPI_Abort`): the way out after a timeout.
    public func abort(code: Int32 = 1) -> Never {
        MPILibrary.abort(MPILibrary.world, code: code)
    }

    /// Blocking `MPI_Allreduce` (sum) on the same processes, bypassing polling, copy and arrival
    /// tracking: only for measuring their cost (`measureMPIOverheads`, `tessera-bench allreduce`).
    public func rawAllreduce(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) throws {
        try MPILibrary.allreduce(send: input.baseAddress, receive: output.baseAddress, count: input.count, data)
    }

    /// `MPI_Iallreduce` (sum) completed by a tight `MPI_Test` loop: the non-blocking algorithm's own
    /// cost, without copy, backoff or arrival tracking (`measureMPIOverheads`).
    public func rawIallreduce(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) throws {
        let request = try MPILibrary.iallreduce(send: input.baseAddress, receive: output.baseAddress, count: input.count,
                                                operation: .sum, data)
        while try !request.test() {}
    }

    // MARK: Collectives

    /// A non-blocking barrier (so a missing rank still times out and is named), then Open MPI's
    /// blocking `MPI_Allreduce`, whose tuned algorithm beats the non-blocking one on large
    /// buffers: averaging the reference CNN's 1.7 MB of gradients over 2 ranks took 1.9 ms through
    /// `iallreduce` + polling against 0.29 ms for `MPI_Allreduce` (`tessera-bench allreduce`).
    /// Once every rank has passed the barrier they all enter the allreduce, so it cannot hang on
    /// a rank that stopped joining; a rank that dies inside it ends the job through mpirun.
    public func allreduceLarge(_ buffer: UnsafeMutableBufferPointer<Float>, operation: ReductionOperation,
                               timeout: Double?) throws {
        try ibarrier().wait(timeout: timeout)
        try MPILibrary.allreduceInPlace(buffer.baseAddress, count: buffer.count, operation: operation, data)
        if operation == .mean { divide(buffer, by: size) }
    }

    public func ibarrier() throws -> CommunicationRequest {
        try startCollective("barrier") { try MPILibrary.ibarrier(data) }
    }

    public func ibroadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws -> CommunicationRequest {
        try validateRank(root, "root")
        return try startCollective("broadcast(root: \(root))") { try MPILibrary.ibroadcast(bytes, root: root, data) }
    }

    public func iallreduce(_ buffer: UnsafeMutableBufferPointer<Float>, operation: ReductionOperation) throws -> CommunicationRequest {
        // In place: a copy into a separate send buffer cost about 1 ms of 2.8 ms on 4 MB at 2 ranks.
        let size = self.size
        return try startCollective("allreduce(\(operation))", start: {
            try MPILibrary.iallreduceInPlace(buffer.baseAddress, count: buffer.count, operation: operation, data)
        }, onComplete: {
            if operation == .mean { divide(buffer, by: size) }
        })
    }

    public func iallgather(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws -> CommunicationRequest {
        guard output.count == input.count * size else {
            throw CommunicatorError.invalidArgument("allgather: output holds \(output.count) bytes, needs \(size) × \(input.count)")
        }
        return try startCollective("allgather") { try MPILibrary.iallgather(input, into: output, data) }
    }

    public func iallgatherVariable(_ input: UnsafeRawBufferPointer, byteCounts: [Int],
                                   into output: UnsafeMutableRawBufferPointer) throws -> CommunicationRequest {
        try validateVariableCounts(inputCount: input.count, byteCounts: byteCounts, outputCount: output.count)
        return try startCollective("allgatherVariable") {
            try MPILibrary.iallgatherVariable(input, byteCounts: byteCounts, into: output, data)
        }
    }

    public func ireduceScatter(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>,
                               operation: ReductionOperation) throws -> CommunicationRequest {
        guard input.count == output.count * size else {
            throw CommunicatorError.invalidArgument("reduceScatter: input holds \(input.count) floats, needs \(size) × \(output.count)")
        }
        let size = self.size
        return try startCollective("reduceScatter(\(operation))", start: {
            try MPILibrary.ireduceScatter(send: input.baseAddress, receive: output.baseAddress, countPerRank: output.count,
                                          operation: operation, data)
        }, onComplete: {
            if operation == .mean { divide(output, by: size) }
        })
    }

    /// Announces the collective to the arrival tracker, then starts it.
    private func startCollective(_ operation: String, start: () throws -> MPIRequest,
                                 onComplete: (() -> Void)? = nil) throws -> CommunicationRequest {
        collectiveCount += 1
        let number = collectiveCount
        try arrivals?.arrive(at: number)
        let request = try start()
        return MPIPollingRequest(operation: "\(operation) (collective #\(number), rank \(rank))", communicator: self,
                                 poll: { [arrivals] in
                                     arrivals?.answerPings()
                                     return try request.test()
                                 }, missingRanks: { [arrivals] in arrivals?.missingRanks(at: number) },
                                 onComplete: onComplete)
    }

    // MARK: Point to point

    public func isend(_ bytes: UnsafeRawBufferPointer, to destination: Int, tag: Int) throws -> CommunicationRequest {
        try validateRank(destination, "destination")
        try validateTag(tag)
        let request = try MPILibrary.isend(copying: bytes, to: destination, tag: tag, data)
        return MPIPollingRequest(operation: "send(to: \(destination), tag: \(tag)) on rank \(rank)", communicator: self,
                                 poll: { try request.test() }, missingRanks: { [destination] })
    }

    public func irecv(from source: Int, tag: Int) throws -> ReceiveRequest {
        try validateRank(source, "source", allowAny: true)
        try validateTag(tag, allowAny: true)
        return MPIReceiveRequest(communicator: self, source: source, tag: tag, data: data)
    }
}

// MARK: - Requests

/// Completes an MPI operation by polling, with a deadline.
private final class MPIPollingRequest: CommunicationRequest {
    private let operation: String
    private let communicator: Communicator
    private let poll: () throws -> Bool
    private let missingRanks: () -> [Int]?
    private let onComplete: (() -> Void)?
    private var isComplete = false

    init(operation: String, communicator: Communicator, poll: @escaping () throws -> Bool,
         missingRanks: @escaping () -> [Int]?, onComplete: (() -> Void)? = nil) {
        self.operation = operation
        self.communicator = communicator
        self.poll = poll
        self.missingRanks = missingRanks
        self.onComplete = onComplete
    }

    func test() throws -> Bool {
        if !isComplete, try poll() {
            isComplete = true
            onComplete?()
        }
        return isComplete
    }

    func wait(timeout: Double?) throws {
        try pollUntilComplete(operation: operation, timeout: timeout ?? communicator.defaultTimeout,
                              missingRanks: missingRanks, test: test)
    }
}

/// Receives a message of unknown size: `MPI_Iprobe` finds it and its size, `MPI_Recv` takes it.
private final class MPIReceiveRequest: ReceiveRequest {
    private let communicator: Communicator
    private let source: Int
    private let tag: Int
    private let data: MPILibrary.Comm
    private(set) var message: ReceivedMessage?

    init(communicator: Communicator, source: Int, tag: Int, data: MPILibrary.Comm) {
        self.communicator = communicator
        self.source = source
        self.tag = tag
        self.data = data
    }

    func test() throws -> Bool {
        if message != nil { return true }
        guard let envelope = try MPILibrary.probe(from: source, tag: tag, data) else { return false }
        var bytes = [UInt8](repeating: 0, count: envelope.byteCount)
        try bytes.withUnsafeMutableBytes { try MPILibrary.receive(into: $0, from: envelope.source, tag: envelope.tag, data) }
        message = ReceivedMessage(source: envelope.source, tag: envelope.tag, bytes: bytes)
        return true
    }

    func wait(timeout: Double?) throws {
        let source = self.source
        try pollUntilComplete(operation: "receive(from: \(source), tag: \(tag)) on rank \(communicator.rank)",
                              timeout: timeout ?? communicator.defaultTimeout,
                              missingRanks: { source == MessageMatching.anySource ? nil : [source] }, test: test)
    }
}

/// Calls `test` until it returns true; throws `.timeout` once `timeout` seconds have passed.
///
/// Open MPI advances a non-blocking collective only inside MPI calls, so every pause between
/// polls stalls it: with sleeps from the 64th poll on, a 4 MB allreduce on 2 ranks took 12 ms
/// against 2.6 ms for `MPI_Allreduce`. So it polls in a tight loop for the first 2 ms (a normal
/// bucket's whole transfer), then keeps polling but yields the core (oversubscribed ranks need
/// it) until 50 ms, and only then sleeps between polls, doubling from 10 µs to 1 ms, while it
/// waits for a slow rank.
private func pollUntilComplete(operation: String, timeout: Double, missingRanks: () -> [Int]?,
                               test: () throws -> Bool) throws {
    let tightSeconds = 0.002, yieldingSeconds = 0.05
    let start = monotonicSeconds()
    var pause: UInt32 = 10
    while try !test() {
        let waited = monotonicSeconds() - start
        if waited >= timeout {
            throw CommunicatorError.timeout(operation: operation, waitedSeconds: waited, missingRanks: missingRanks())
        }
        if waited < tightSeconds { continue }
        if waited < yieldingSeconds {
            sched_yield()
        } else {
            usleep(pause)
            pause = min(1000, pause * 2)
        }
    }
}

private func divide(_ buffer: UnsafeMutableBufferPointer<Float>, by count: Int) {
    let divisor = Float(count)
    for index in buffer.indices { buffer[index] /= divisor }
}
