import Foundation
import TesseraReinforcement
import TesseraTensor

/// The point-to-point messages of the asynchronous actor–learner (`ActorLearner.swift`), one tag
/// each. Rank 0 (the learner) sends `weights` and `stop`; actors send `trajectory`, `finished`
/// and `failure`. Each side receives with `MessageMatching.anyTag` from its peers, so messages
/// from one sender are taken in the order they were sent: an actor sees every weights message
/// before the `stop` that followed it, and the learner every trajectory before `finished`.
enum ActorLearnerTag {
    static let trajectory = 7101
    static let weights = 7102
    static let stop = 7103
    static let finished = 7104
    static let failure = 7105
}

/// Little-endian fields appended to a byte array: 64-bit integers, and float arrays preceded by
/// their count. Float arrays are copied in bulk in the host's byte order, which is little-endian
/// on every platform Swift and Open MPI run Tessera on (x86-64, arm64).
struct MessageWriter {
    private(set) var bytes: [UInt8] = []

    mutating func integer(_ value: Int) {
        withUnsafeBytes(of: Int64(value).littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func double(_ value: Double) { integer(Int(Int64(bitPattern: value.bitPattern))) }

    mutating func floats(_ values: [Float]) {
        integer(values.count)
        values.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }

    mutating func string(_ value: String) {
        integer(value.utf8.count)
        bytes.append(contentsOf: value.utf8)
    }

    /// Tensors with their names and shapes, in sorted-name order.
    mutating func namedTensors(_ tensors: [String: Tensor]) {
        integer(tensors.count)
        for (name, tensor) in tensors.sorted(by: { $0.key < $1.key }) {
            string(name)
            integer(tensor.shape.count)
            for dimension in tensor.shape { integer(dimension) }
            floats(tensor.scalars)
        }
    }
}

/// Reads what `MessageWriter` wrote, checking every count against the bytes present, so a
/// truncated or foreign message is an error naming its kind and sender, not a crash.
struct MessageReader {
    private let bytes: [UInt8]
    private var position = 0
    private let what: String

    init(_ message: [UInt8], what: String) {
        bytes = message
        self.what = what
    }

    private func malformed(_ problem: String) -> TrainingError {
        TrainingError("malformed \(what): \(problem) at byte \(position) of \(bytes.count)")
    }

    mutating func integer() throws -> Int {
        guard position + 8 <= bytes.count else { throw malformed("ends inside an integer") }
        var value: UInt64 = 0
        for k in 0..<8 { value |= UInt64(bytes[position + k]) << (8 * UInt64(k)) }
        position += 8
        return Int(Int64(bitPattern: value))
    }

    /// A count of following items, each at least `minimumBytes` long, so a corrupt count cannot
    /// run a loop past the message.
    mutating func count(minimumBytes: Int = 8) throws -> Int {
        let value = try integer()
        guard value >= 0, value <= (bytes.count - position) / minimumBytes else { throw malformed("a count of \(value) items cannot fit") }
        return value
    }

    mutating func double() throws -> Double { Double(bitPattern: UInt64(bitPattern: Int64(try integer()))) }

    /// A float array, which must hold `expected` values when given.
    mutating func floats(expected: Int? = nil) throws -> [Float] {
        let count = try integer()
        guard count >= 0, position + 4 * count <= bytes.count else { throw malformed("a float array of \(count) values runs past the end") }
        if let expected, count != expected { throw malformed("\(count) values where \(expected) were expected") }
        let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            bytes.withUnsafeBytes { source in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: source[position..<(position + 4 * count)]))
            }
            initialized = count
        }
        position += 4 * count
        return values
    }

    mutating func string() throws -> String {
        let count = try integer()
        guard count >= 0, position + count <= bytes.count else { throw malformed("a string of \(count) bytes runs past the end") }
        defer { position += count }
        return String(decoding: bytes[position..<(position + count)], as: UTF8.self)
    }

    mutating func namedTensors() throws -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for _ in 0..<(try count(minimumBytes: 24)) {
            let name = try string()
            let rank = try integer()
            guard (0...8).contains(rank) else { throw malformed("tensor \(name) of rank \(rank)") }
            let shape = try (0..<rank).map { _ in try integer() }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw malformed("tensor \(name) of shape \(shape)") }
            result[name] = Tensor(shape: shape, scalars: try floats(expected: shape.reduce(1, *)))
        }
        return result
    }

    func requireEnd() throws {
        if position != bytes.count { throw malformed("\(bytes.count - position) bytes left over") }
    }
}

extension Trajectory {
    /// The trajectory as a message body.
    func encoded() -> [UInt8] {
        var writer = MessageWriter()
        for field in [steps, copies, observationSize, actionSize, policyVersion] { writer.integer(field) }
        writer.floats(observations)
        writer.floats(actions)
        writer.floats(behaviourLogProbabilities)
        writer.floats(rewards)
        writer.floats(terminated.map { $0 ? 1 : 0 })
        writer.floats(truncated.map { $0 ? 1 : 0 })
        writer.floats(bootstrapObservations)
        writer.integer(truncationObservations.count)
        for index in truncationObservations.keys.sorted() {
            writer.integer(index)
            writer.floats(truncationObservations[index]!)
        }
        writer.integer(finishedEpisodes.count)
        for episode in finishedEpisodes {
            writer.double(episode.totalReward)
            writer.integer(episode.length)
        }
        return writer.bytes
    }

    /// Decodes a trajectory message from rank `source`, checking every size against the header.
    init(message: [UInt8], source: Int) throws {
        var reader = MessageReader(message, what: "trajectory message from rank \(source)")
        let steps = try reader.integer(), copies = try reader.integer()
        let observationSize = try reader.integer(), actionSize = try reader.integer(), version = try reader.integer()
        guard steps > 0, copies > 0, observationSize > 0, actionSize > 0, version >= 0 else {
            throw TrainingError("malformed trajectory message from rank \(source): header \([steps, copies, observationSize, actionSize, version])")
        }
        let count = steps * copies
        self.init(steps: steps, copies: copies, observationSize: observationSize, actionSize: actionSize, policyVersion: version,
                  observations: try reader.floats(expected: count * observationSize),
                  actions: try reader.floats(expected: count * actionSize),
                  behaviourLogProbabilities: try reader.floats(expected: count), rewards: try reader.floats(expected: count),
                  terminated: try reader.floats(expected: count).map { $0 != 0 },
                  truncated: try reader.floats(expected: count).map { $0 != 0 },
                  truncationObservations: [:], bootstrapObservations: try reader.floats(expected: copies * observationSize),
                  finishedEpisodes: [])
        for _ in 0..<(try reader.count(minimumBytes: 16)) {
            let index = try reader.integer()
            guard (0..<count).contains(index) else { throw TrainingError("malformed trajectory message from rank \(source): truncation at step index \(index) of \(count)") }
            truncationObservations[index] = try reader.floats(expected: observationSize)
        }
        for _ in 0..<(try reader.count(minimumBytes: 16)) {
            finishedEpisodes.append(EpisodeOutcome(totalReward: try reader.double(), length: try reader.integer()))
        }
        try reader.requireEnd()
    }
}

/// The policy's weights as the learner publishes them: its version, then the parameters' values
/// in sorted-name order (both sides build the same network, so names and shapes are implied).
struct WeightsMessage {
    var version: Int
    var values: [Float]

    init(version: Int, parameters: [(name: String, parameter: Tensor)]) {
        self.version = version
        values = parameters.flatMap { $0.parameter.scalars }
    }

    func encoded() -> [UInt8] {
        var writer = MessageWriter()
        writer.integer(version)
        writer.floats(values)
        return writer.bytes
    }

    init(message: [UInt8]) throws {
        var reader = MessageReader(message, what: "weights message from rank 0")
        version = try reader.integer()
        values = try reader.floats()
        try reader.requireEnd()
    }

    /// Copies the values into `parameters` (sorted by name), checking the total size.
    func apply(to parameters: [(name: String, parameter: Tensor)]) throws {
        let needed = parameters.reduce(0) { $0 + $1.parameter.count }
        guard needed == values.count else {
            throw TrainingError("weights message of version \(version) holds \(values.count) values, but this actor's policy has \(needed): learner and actor built different networks")
        }
        var start = 0
        for (_, parameter) in parameters {
            parameter.assign(Tensor(shape: parameter.shape, scalars: Array(values[start..<(start + parameter.count)])))
            start += parameter.count
        }
    }
}

/// What an actor reports when it stops.
public struct ActorReport: Equatable, Sendable {
    public var rank: Int
    public var trajectoriesSent: Int
    public var environmentSteps: Int
    /// Weights messages the actor applied (it keeps only the newest of several that arrived together).
    public var weightsApplied: Int

    func encoded() -> [UInt8] {
        var writer = MessageWriter()
        for field in [rank, trajectoriesSent, environmentSteps, weightsApplied] { writer.integer(field) }
        return writer.bytes
    }

    init(rank: Int, trajectoriesSent: Int, environmentSteps: Int, weightsApplied: Int) {
        self.rank = rank
        self.trajectoriesSent = trajectoriesSent
        self.environmentSteps = environmentSteps
        self.weightsApplied = weightsApplied
    }

    init(message: [UInt8], source: Int) throws {
        var reader = MessageReader(message, what: "finished message from rank \(source)")
        self.init(rank: try reader.integer(), trajectoriesSent: try reader.integer(), environmentSteps: try reader.integer(),
                  weightsApplied: try reader.integer())
        try reader.requireEnd()
    }
}
