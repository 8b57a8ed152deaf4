/// Reading `.tsr` files: structure first (`CheckpointLayout`), then every payload is decompressed,
/// unshuffled and checked against its XXH64. A read either returns exactly the saved checkpoint or
/// throws a `CheckpointError` naming the file and the problem.
extension Checkpoint {
    /// Decodes a checkpoint held in memory; `source` names it in error messages.
    /// The file functions and the benchmark both go through here.
    public init(decoding bytes: [UInt8], source: String = "<memory>") throws {
        self = try bytes.withUnsafeBytes { try Self.decode($0, source: source) }
    }

    /// Reads and fully verifies the checkpoint at `path`.
    public static func read(from path: String) throws -> Checkpoint {
        let bytes = try FileIO.readFile(path)
        return try Checkpoint(decoding: bytes, source: path)
    }

    /// Fully checks the file at `path` (structure, every decompression, every checksum) and
    /// returns its summary; throws the first problem found.
    @discardableResult
    public static func verify(_ path: String) throws -> CheckpointSummary {
        let bytes = try FileIO.readFile(path)
        _ = try Checkpoint(decoding: bytes, source: path)
        return try CheckpointSummary(decoding: bytes, source: path)
    }

    static func decode(_ buffer: UnsafeRawBufferPointer, source: String) throws -> Checkpoint {
        let layout = try CheckpointLayout(validating: buffer, source: source)
        let decompressor = try ZstdDecompressor()
        // One scratch buffer for the shuffled bytes, sized for the largest multi-byte entry.
        let scratchSize = layout.header.records.lazy.filter { $0.dtype.byteWidth > 1 }.map(\.rawSize).max() ?? 0
        var scratch = [UInt8](repeating: 0, count: scratchSize)
        var entries: [CheckpointEntry] = []
        entries.reserveCapacity(layout.header.records.count)
        for record in layout.header.records {
            let start = layout.payloadStart + record.payloadOffset
            let payload = UnsafeRawBufferPointer(rebasing: buffer[start..<start + record.compressedSize])
            let bytes = try restoreRawBytes(of: record, from: payload, scratch: &scratch, decompressor: decompressor, source: source)
            entries.append(CheckpointEntry(name: record.name, dtype: record.dtype, shape: record.shape, bytes: bytes))
        }
        return Checkpoint(metadata: layout.header.metadata, entries: entries)
    }

    /// Decompresses and unshuffles one payload, then checks the XXH64 of the result.
    private static func restoreRawBytes(
        of record: EntryRecord, from payload: UnsafeRawBufferPointer, scratch: inout [UInt8],
        decompressor: ZstdDecompressor, source: String
    ) throws -> [UInt8] {
        let width = record.dtype.byteWidth
        let rawSize = record.rawSize
        let bytes: [UInt8]
        do {
            bytes = try [UInt8](unsafeUninitializedCapacity: rawSize) { output, initializedCount in
                let destination = UnsafeMutableRawBufferPointer(output)
                if width == 1 {
                    try decompressor.decompress(payload, into: destination)
                } else {
                    try scratch.withUnsafeMutableBytes { scratchBytes in
                        let shuffled = UnsafeMutableRawBufferPointer(rebasing: scratchBytes[0..<rawSize])
                        try decompressor.decompress(payload, into: shuffled)
                        ByteShuffle.unshuffle(UnsafeRawBufferPointer(shuffled), into: destination, width: width)
                    }
                }
                initializedCount = rawSize
            }
        } catch let error as ZstdError {
            throw CheckpointError(
                path: source, kind: error.isChecksumFailure ? .checksumMismatch : .corrupt,
                problem: "entry \(quoted(record.name)) payload could not be decompressed: \(error.message)")
        }
        let checksum = XXHash64.hash(bytes)
        guard checksum == record.checksum else {
            throw CheckpointError(
                path: source, kind: .checksumMismatch,
                problem: "entry \(quoted(record.name)) checksum mismatch: the header records \(hex(record.checksum)) "
                    + "but the restored \(grouped(rawSize)) bytes hash to \(hex(checksum))")
        }
        return bytes
    }
}
