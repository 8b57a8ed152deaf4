/// Little-endian building blocks for the hand-written binary header.
///
/// The header is parsed by hand rather than with Codable so that every length field is checked
/// against the bytes actually present before anything is allocated.

/// Appends little-endian fields to a byte array.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func append<Integer: FixedWidthInteger>(_ value: Integer) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(contentsOf other: some Sequence<UInt8>) {
        bytes.append(contentsOf: other)
    }
}

/// Reads little-endian fields from a bounded region, throwing a precise `CheckpointError` when a
/// field would run past the region's end.
struct ByteCursor {
    let buffer: UnsafeRawBufferPointer
    /// Where the region starts in `buffer`; messages count bytes from here.
    let start: Int
    private(set) var position: Int
    let end: Int
    /// The file path, for error messages.
    let source: String
    /// What the region is called in messages, e.g. "header".
    let regionName: String

    init(_ buffer: UnsafeRawBufferPointer, from start: Int, to end: Int, source: String, regionName: String) {
        precondition(0 <= start && start <= end && end <= buffer.count)
        self.buffer = buffer
        self.start = start
        self.position = start
        self.end = end
        self.source = source
        self.regionName = regionName
    }

    var remaining: Int { end - position }

    mutating func read<Integer: FixedWidthInteger>(_ type: Integer.Type, _ field: @autoclosure () -> String) throws -> Integer {
        try require(MemoryLayout<Integer>.size, field())
        let value = Integer(littleEndian: buffer.loadUnaligned(fromByteOffset: position, as: Integer.self))
        position += MemoryLayout<Integer>.size
        return value
    }

    /// Reads a u64 that must fit in `Int`, e.g. a size or a dimension.
    mutating func readSize(_ field: @autoclosure () -> String) throws -> Int {
        let value = try read(UInt64.self, field())
        guard value <= UInt64(Int.max) else {
            throw CheckpointError(path: source, kind: .corrupt, problem: "\(field()) is \(grouped(value)), larger than any file")
        }
        return Int(value)
    }

    /// Reads `count` bytes as strict UTF-8 (no replacement characters).
    mutating func readString(count: Int, _ field: @autoclosure () -> String) throws -> String {
        try require(count, field())
        let slice = UnsafeRawBufferPointer(rebasing: buffer[position..<position + count])
        guard let string = String(validating: slice, as: UTF8.self) else {
            throw CheckpointError(path: source, kind: .corrupt, problem: "\(field()) is not valid UTF-8")
        }
        position += count
        return string
    }

    private func require(_ count: Int, _ field: @autoclosure () -> String) throws {
        guard count <= remaining else {
            throw CheckpointError(
                path: source, kind: .corrupt,
                problem: "\(regionName) ends in the middle of \(field()): it needs \(grouped(count)) bytes at \(regionName) byte \(grouped(position - start)) "
                    + "but only \(grouped(remaining)) remain")
        }
    }
}
