import TesseraDistributed
import TesseraTensor

/// Data-parallel training over a `Communicator` (MPI across processes, or in-process threads in
/// tests): parameters broadcast from rank 0 in sorted-name order, gradients averaged in buckets
/// that start during backward (or in one flat allreduce), metrics summed.
public final class CommunicatorCollective: TrainingCollective {
    public let communicator: any Communicator
    public let settings: DistributedSection
    private var bucketer: GradientBucketer?
    private var parameters: [(String, Tensor)] = []

    /// Seconds this rank waits in a collective. Only rank 0 can tell which ranks are missing, so
    /// the others wait longer (half again, plus 10 s for rank 0's liveness pings): rank 0 gives up
    /// first, names the missing ranks and ends the job.
    private let timeout: Double

    public init(communicator: any Communicator, settings: DistributedSection) {
        self.communicator = communicator
        self.settings = settings
        let base = settings.collectiveTimeoutSeconds
        timeout = communicator.rank == 0 ? base : base * 1.5 + 10
    }

    public var rank: Int { communicator.rank }
    public var worldSize: Int { communicator.size }

    public func broadcast(_ tensors: [(name: String, tensor: Tensor)]) throws {
        try communicator.broadcastParameters(tensors.map { ($0.name, $0.tensor) }, root: 0, timeout: timeout)
    }

    public func prepareGradientAveraging(_ parameters: [(name: String, parameter: Tensor)]) throws {
        self.parameters = parameters.map { ($0.name, $0.parameter) }
        bucketer?.detach()
        bucketer = settings.overlap
            ? GradientBucketer(parameters: self.parameters, communicator: communicator,
                               bucketBytes: Int(settings.bucketMegabytes * 1_048_576))
            : nil
    }

    public func averageGradients() throws {
        if let bucketer {
            try bucketer.finish(timeout: timeout)
        } else {
            try communicator.averageGradients(parameters: parameters, timeout: timeout)
        }
    }

    /// Gathers every rank's values and adds them in rank order, in `Double`, on every rank: the
    /// same bits everywhere by construction, whatever MPI's reduction algorithm, and nothing
    /// rounded to `Float` (an ODE solver's step sizes follow the error norms summed here).
    public func sum(_ values: [Double]) throws -> [Double] {
        guard !values.isEmpty else { return [] }
        var all = [Double](repeating: 0, count: values.count * worldSize)
        try values.withUnsafeBytes { input in
            try all.withUnsafeMutableBytes { try communicator.iallgather(input, into: $0).wait(timeout: timeout) }
        }
        var totals = Array(all[0..<values.count])
        for rank in 1..<worldSize {
            for index in values.indices { totals[index] += all[rank * values.count + index] }
        }
        return totals
    }

    public func broadcastBytes(_ value: [UInt8]) throws -> [UInt8] {
        try communicator.broadcast(bytes: value, root: 0, timeout: timeout)
    }

    /// Exchanges the lengths first, then the bytes in one variable-size allgather.
    public func allgatherBytes(_ value: [UInt8]) throws -> [[UInt8]] {
        let counts = try communicator.allgatherCounts(value.count, timeout: timeout)
        var flat = [UInt8](repeating: 0, count: counts.reduce(0, +))
        try value.withUnsafeBytes { input in
            try flat.withUnsafeMutableBytes { output in
                try communicator.iallgatherVariable(input, byteCounts: counts, into: output).wait(timeout: timeout)
            }
        }
        var start = 0
        return counts.map { count in
            defer { start += count }
            return Array(flat[start..<start + count])
        }
    }
}
