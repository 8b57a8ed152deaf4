/// What `tessera inspect` prints: the table of a `.tsr` file, its totals and its metadata.
///
/// Built from the header alone after the same structural checks as a full read, so inspecting a
/// multi-GB checkpoint costs one file read and no decompression. Use `Checkpoint.verify` to also
/// check every payload.
public struct CheckpointSummary: Sendable {
    public struct Tensor: Sendable {
        public let name: String
        public let dtype: CheckpointDType
        public let shape: [Int]
        public let rawSize: Int
        public let compressedSize: Int
    }

    public let path: String
    public let fileSize: Int
    public let tensors: [Tensor]
    public let metadata: [String: String]

    public var totalRawSize: Int { tensors.reduce(0) { $0 + $1.rawSize } }
    public var totalCompressedSize: Int { tensors.reduce(0) { $0 + $1.compressedSize } }
    /// Raw bytes per compressed byte; 1 for an empty checkpoint.
    public var compressionRatio: Double {
        totalCompressedSize == 0 ? 1 : Double(totalRawSize) / Double(totalCompressedSize)
    }

    /// Reads the file at `path` and checks its structure (not its payloads).
    public init(path: String) throws {
        try self.init(decoding: try FileIO.readFile(path), source: path)
    }

    public init(decoding bytes: [UInt8], source: String) throws {
        let layout = try bytes.withUnsafeBytes { try CheckpointLayout(validating: $0, source: source) }
        path = source
        fileSize = bytes.count
        metadata = layout.header.metadata
        tensors = layout.header.records.map {
            Tensor(name: $0.name, dtype: $0.dtype, shape: $0.shape, rawSize: $0.rawSize, compressedSize: $0.compressedSize)
        }
    }

    /// A printable report; metadata values longer than `valueLimit` characters are cut short,
    /// since the recipe text and RNG states would otherwise drown the table.
    public func report(valueLimit: Int = 80) -> String {
        var lines = ["\(path): \(grouped(fileSize)) bytes, \(tensors.count) tensors, format version \(CheckpointFormat.version)"]
        let nameWidth = min(60, tensors.map(\.name.count).max() ?? 0)
        for tensor in tensors {
            let ratio = tensor.compressedSize == 0 ? 1 : Double(tensor.rawSize) / Double(tensor.compressedSize)
            lines.append(
                "  " + padded(tensor.name, nameWidth) + "  " + padded(tensor.dtype.name, 8) + "  " + padded(describeShape(tensor.shape), 16)
                    + "  raw " + padded(grouped(tensor.rawSize), 14, right: true)
                    + "  compressed " + padded(grouped(tensor.compressedSize), 14, right: true)
                    + "  " + formatRatio(ratio))
        }
        lines.append("total: raw \(grouped(totalRawSize)) bytes, compressed \(grouped(totalCompressedSize)) bytes, ratio \(formatRatio(compressionRatio))")
        lines.append("metadata (\(metadata.count) keys):")
        for key in metadata.keys.sorted() {
            let value = metadata[key]!.replacingNewlines()
            let shown = value.count <= valueLimit ? value : "\(value.prefix(valueLimit))… (\(grouped(value.utf8.count)) bytes)"
            lines.append("  \(key): \(shown)")
        }
        return lines.joined(separator: "\n")
    }
}

private func padded(_ text: String, _ width: Int, right: Bool = false) -> String {
    guard text.count < width else { return text }
    let padding = String(repeating: " ", count: width - text.count)
    return right ? padding + text : text + padding
}

/// `3.14159` → `"3.14x"`, without Foundation's formatters.
private func formatRatio(_ ratio: Double) -> String {
    let hundredths = Int((ratio * 100).rounded())
    let fraction = hundredths % 100
    return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)x"
}

extension String {
    /// Keeps each metadata value on one report line.
    fileprivate func replacingNewlines() -> String {
        String(map { $0.isNewline ? "⏎" : $0 })
    }
}
