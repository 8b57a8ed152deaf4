/// One named tensor as raw little-endian bytes.
///
/// This module never depends on the tensor library: the trainer hands over bytes (one copy out of
/// its storage) and gets bytes back, so the checkpoint format can outlive any tensor refactor.
public struct CheckpointEntry: Equatable, Sendable {
    /// The dotted parameter path, e.g. `blocks.0.attention.query.weight`.
    public var name: String
    public var dtype: CheckpointDType
    /// Dimensions, outermost first; `[]` is a scalar (one element), a `0` anywhere means no elements.
    public var shape: [Int]
    /// `elementCount × dtype.byteWidth` bytes, row-major, little-endian.
    public var bytes: [UInt8]

    public init(name: String, dtype: CheckpointDType, shape: [Int], bytes: [UInt8]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// Builds an entry from typed values; the byte image is copied once.
    ///
    ///     let entry = CheckpointEntry(name: "encoder.weight", shape: [2, 3], values: [Float](repeating: 0, count: 6))
    public init<Scalar: CheckpointScalar>(name: String, shape: [Int], values: [Scalar]) {
        let bytes = values.withUnsafeBytes { [UInt8]($0) }
        self.init(name: name, dtype: Scalar.checkpointDType, shape: shape, bytes: bytes)
    }

    /// The product of the dimensions, or nil if a dimension is negative or the product overflows.
    public var elementCount: Int? { checkedElementCount(shape) }

    /// Whether `bytes` holds exactly `elementCount × dtype.byteWidth` bytes.
    public var sizeMatchesShape: Bool {
        guard let count = elementCount else { return false }
        let (expected, overflow) = count.multipliedReportingOverflow(by: dtype.byteWidth)
        return !overflow && expected == bytes.count
    }

    /// The bytes reinterpreted as `Scalar`s; throws if `Scalar` is not this entry's dtype.
    public func values<Scalar: CheckpointScalar>(as type: Scalar.Type) throws -> [Scalar] {
        guard Scalar.checkpointDType == dtype else {
            throw CheckpointError(
                path: name, kind: .invalidArgument,
                problem: "entry holds \(dtype.name), not \(Scalar.checkpointDType.name)")
        }
        let count = bytes.count / dtype.byteWidth
        return [Scalar](unsafeUninitializedCapacity: count) { buffer, initializedCount in
            bytes.withUnsafeBytes { source in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: source[0..<count * dtype.byteWidth]))
            }
            initializedCount = count
        }
    }
}

/// A training checkpoint: string metadata plus named tensors.
///
/// Metadata holds what the trainer needs to resume exactly (recipe text, step, epoch, data-loader
/// position, RNG states, metrics); the trainer serialises each as a string, usually JSON, and this
/// module stores the map without interpreting it.
public struct Checkpoint: Equatable, Sendable {
    public var metadata: [String: String]
    /// In the order they are written; names must be unique.
    public var entries: [CheckpointEntry]

    public init(metadata: [String: String] = [:], entries: [CheckpointEntry] = []) {
        self.metadata = metadata
        self.entries = entries
    }

    /// The entry with this name. A linear scan: checkpoints hold hundreds of tensors and each is
    /// looked up once per load, so an index would cost more to build than it saves.
    public func entry(named name: String) -> CheckpointEntry? {
        entries.first { $0.name == name }
    }

    public subscript(name: String) -> CheckpointEntry? { entry(named: name) }
}

/// The product of `shape`, or nil when a dimension is negative or the product overflows `Int`.
func checkedElementCount(_ shape: [Int]) -> Int? {
    var count = 1
    for dimension in shape {
        guard dimension >= 0 else { return nil }
        let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
        if overflow { return nil }
        count = product
    }
    return count
}

/// `[2, 3]` → `"[2, 3]"`, the way shapes appear in every message and report.
func describeShape(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
}
