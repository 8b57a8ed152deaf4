/// The header of a `.tsr` file: metadata and the entry table (layout in `CheckpointFormat`).
///
/// Decoding trusts nothing: every count is checked against the bytes left before any array is
/// reserved, so the header's size (itself capped at 64 MiB) bounds all allocations made here.
struct CheckpointHeader: Equatable {
    var metadata: [String: String]
    var records: [EntryRecord]

    init(metadata: [String: String], records: [EntryRecord]) {
        self.metadata = metadata
        self.records = records
    }

    func encoded() -> [UInt8] {
        var writer = ByteWriter()
        writer.append(UInt32(metadata.count))
        // Sorted keys make the same checkpoint always produce the same bytes.
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            writer.append(UInt32(key.utf8.count))
            writer.append(contentsOf: key.utf8)
            writer.append(UInt32(value.utf8.count))
            writer.append(contentsOf: value.utf8)
        }
        writer.append(UInt32(records.count))
        for record in records {
            writer.append(UInt16(record.name.utf8.count))
            writer.append(contentsOf: record.name.utf8)
            writer.append(record.dtype.rawValue)
            writer.append(UInt8(record.shape.count))
            for dimension in record.shape { writer.append(UInt64(dimension)) }
            writer.append(UInt64(record.payloadOffset))
            writer.append(UInt64(record.compressedSize))
            writer.append(UInt64(record.rawSize))
            writer.append(record.checksum)
        }
        return writer.bytes
    }

    /// Parses the header occupying `buffer[start ..< end]`.
    init(decoding buffer: UnsafeRawBufferPointer, from start: Int, to end: Int, source: String) throws {
        var cursor = ByteCursor(buffer, from: start, to: end, source: source, regionName: "header")
        func corrupt(_ problem: String) -> CheckpointError {
            CheckpointError(path: source, kind: .corrupt, problem: problem)
        }

        let metadataCount = Int(try cursor.read(UInt32.self, "the metadata count"))
        // Each pair needs at least its two u32 lengths.
        guard metadataCount <= cursor.remaining / 8 else {
            throw corrupt("header declares \(grouped(metadataCount)) metadata pairs but only \(grouped(cursor.remaining)) header bytes remain")
        }
        var metadata: [String: String] = [:]
        for index in 0..<metadataCount {
            let keyLength = Int(try cursor.read(UInt32.self, "the length of metadata key \(index)"))
            let key = try cursor.readString(count: keyLength, "metadata key \(index)")
            let valueLength = Int(try cursor.read(UInt32.self, "the length of metadata value \(quoted(key))"))
            let value = try cursor.readString(count: valueLength, "metadata value \(quoted(key))")
            guard metadata.updateValue(value, forKey: key) == nil else {
                throw corrupt("metadata key \(quoted(key)) appears twice")
            }
        }

        let entryCount = Int(try cursor.read(UInt32.self, "the entry count"))
        guard entryCount <= cursor.remaining / EntryRecord.minimumEncodedSize else {
            throw corrupt("header declares \(grouped(entryCount)) entries "
                + "but only \(grouped(cursor.remaining)) header bytes remain, room for at most \(grouped(cursor.remaining / EntryRecord.minimumEncodedSize))")
        }
        var records: [EntryRecord] = []
        records.reserveCapacity(entryCount)
        var names: Set<String> = []
        for index in 0..<entryCount {
            let nameLength = Int(try cursor.read(UInt16.self, "the name length of entry \(index)"))
            guard (1...CheckpointFormat.maximumNameLength).contains(nameLength) else {
                throw corrupt("entry \(index) has a name of \(grouped(nameLength)) bytes; names must be 1 to \(grouped(CheckpointFormat.maximumNameLength)) bytes")
            }
            let name = try cursor.readString(count: nameLength, "the name of entry \(index)")
            guard names.insert(name).inserted else { throw corrupt("entry name \(quoted(name)) appears twice") }

            let dtypeCode = try cursor.read(UInt8.self, "the dtype of entry \(quoted(name))")
            guard let dtype = CheckpointDType(rawValue: dtypeCode) else {
                throw corrupt("entry \(quoted(name)) has unknown dtype code \(dtypeCode)")
            }
            let rank = Int(try cursor.read(UInt8.self, "the rank of entry \(quoted(name))"))
            guard rank <= CheckpointFormat.maximumRank else {
                throw corrupt("entry \(quoted(name)) has rank \(rank); at most \(CheckpointFormat.maximumRank) dimensions are allowed")
            }
            var shape: [Int] = []
            for axis in 0..<rank {
                shape.append(try cursor.readSize("dimension \(axis) of entry \(quoted(name))"))
            }
            let record = EntryRecord(
                name: name, dtype: dtype, shape: shape,
                payloadOffset: try cursor.readSize("the payload offset of entry \(quoted(name))"),
                compressedSize: try cursor.readSize("the compressed size of entry \(quoted(name))"),
                rawSize: try cursor.readSize("the raw size of entry \(quoted(name))"),
                checksum: try cursor.read(UInt64.self, "the checksum of entry \(quoted(name))"))
            try Self.checkSizes(of: record, source: source)
            records.append(record)
        }
        guard cursor.remaining == 0 else {
            throw corrupt("header has \(grouped(cursor.remaining)) unexplained bytes after its last entry")
        }
        self.metadata = metadata
        self.records = records
    }

    /// Shape, dtype and raw size must agree, and the raw size must be reachable from the
    /// compressed size, before anything is allocated for the entry.
    private static func checkSizes(of record: EntryRecord, source: String) throws {
        let name = quoted(record.name)
        let width = record.dtype.byteWidth
        guard let elements = checkedElementCount(record.shape) else {
            throw CheckpointError(path: source, kind: .corrupt, problem: "entry \(name) has shape \(describeShape(record.shape)), whose element count overflows")
        }
        let (expectedBytes, overflow) = elements.multipliedReportingOverflow(by: width)
        guard !overflow else {
            throw CheckpointError(path: source, kind: .corrupt, problem: "entry \(name) declares \(grouped(elements)) elements of \(record.dtype.name), more bytes than any file can hold")
        }
        guard expectedBytes == record.rawSize else {
            throw CheckpointError(
                path: source, kind: .corrupt,
                problem: "entry \(name) declares shape \(describeShape(record.shape)) of \(record.dtype.name) (\(grouped(expectedBytes)) bytes) "
                    + "but records a raw size of \(grouped(record.rawSize)) bytes")
        }
        let (reachable, reachableOverflow) = record.compressedSize.multipliedReportingOverflow(by: CheckpointFormat.maximumExpansion)
        guard reachableOverflow || record.rawSize <= reachable else {
            throw CheckpointError(
                path: source, kind: .corrupt,
                problem: "entry \(name) declares \(grouped(elements)) elements of \(record.dtype.name) (\(grouped(record.rawSize)) bytes) "
                    + "but its \(grouped(record.compressedSize)) compressed bytes can expand to at most \(grouped(reachable)) bytes")
        }
    }
}
