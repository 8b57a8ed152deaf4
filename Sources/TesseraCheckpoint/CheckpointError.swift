/// Every failure of this module: which file, what kind of failure, and exactly what is wrong.
///
/// The description is printed as-is by the CLI (`tessera inspect`, `--resume auto`), so it always
/// starts with the file path (or the label given for in-memory bytes) and states the problem with
/// the numbers involved, e.g.
/// `runs/a/checkpoints/step-00000100.tsr: entry 'encoder.weight' declares 1,000,000 elements of float32 …`.
public struct CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Coarse category, so callers can react (skip a truncated file) without parsing the message.
    public enum Kind: String, Sendable {
        /// The operating system refused an open, read, write, rename or directory operation.
        case io
        /// The file does not start with the magic bytes of the format being read.
        case notThisFormat
        /// A checkpoint written by a newer (or unknown) format version.
        case unsupportedVersion
        /// The file ends before the data it describes (an interrupted copy or write).
        case truncated
        /// The structure is inconsistent: bad sizes, offsets, names, shapes or header fields.
        case corrupt
        /// The structure is fine but the bytes do not match their recorded checksum.
        case checksumMismatch
        /// Valid input that this module deliberately does not handle (e.g. Fortran-order arrays).
        case unsupported
        /// The caller asked for something impossible (shape and byte count disagree, duplicate names).
        case invalidArgument
    }

    /// The file path, or the `source` label given when decoding bytes held in memory.
    public let path: String
    public let kind: Kind
    /// The problem in one sentence, without the path.
    public let problem: String

    public init(path: String, kind: Kind, problem: String) {
        self.path = path
        self.kind = kind
        self.problem = problem
    }

    public var description: String { "\(path): \(problem)" }
}

/// `1234567` → `"1,234,567"`: sizes in error messages are read by people comparing two numbers.
func grouped<Value: BinaryInteger>(_ value: Value) -> String {
    let digits = String(value.magnitude)
    var result = ""
    for (index, digit) in digits.enumerated() {
        if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
        result.append(digit)
    }
    return value < 0 ? "-" + result : result
}

/// A name as it appears in messages: quoted, and cut short so a hostile 1 KiB name stays readable.
func quoted(_ name: String) -> String {
    let limit = 120
    return name.count <= limit ? "'\(name)'" : "'\(name.prefix(limit))…'"
}
