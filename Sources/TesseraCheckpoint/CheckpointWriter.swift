/// Writing `.tsr` files (layout in `CheckpointFormat`).
///
/// The whole file is built in one buffer sized for the worst case, and each payload is compressed
/// straight into it, so saving costs one shuffle, one compression and one hash per byte and no
/// extra copies; the file is then written atomically.
extension Checkpoint {
    /// Encodes the checkpoint as the bytes of a `.tsr` file.
    /// The file functions and the benchmark both go through here.
    public func encoded(compressionLevel: Int = Zstd.defaultLevel) throws -> [UInt8] {
        try validateForWriting()
        // Sizes are fixed-width fields, so placeholder records give the final header length.
        var records = entries.map { entry in
            EntryRecord(name: entry.name, dtype: entry.dtype, shape: entry.shape, payloadOffset: 0, compressedSize: 0, rawSize: entry.bytes.count, checksum: 0)
        }
        let headerLength = CheckpointHeader(metadata: metadata, records: records).encoded().count
        guard headerLength <= CheckpointFormat.maximumHeaderSize else {
            throw CheckpointError(
                path: "<checkpoint>", kind: .invalidArgument,
                problem: "the header (names, shapes and metadata) would be \(grouped(headerLength)) bytes, over the \(grouped(CheckpointFormat.maximumHeaderSize))-byte cap")
        }
        let payloadStart = CheckpointFormat.preambleSize + headerLength
        let capacity = payloadStart + entries.reduce(0) { $0 + Zstd.compressBound($1.bytes.count) } + CheckpointFormat.trailerSize

        let compressor = try ZstdCompressor(level: compressionLevel)
        let scratchSize = entries.lazy.filter { $0.dtype.byteWidth > 1 }.map(\.bytes.count).max() ?? 0
        var scratch = [UInt8](repeating: 0, count: scratchSize)

        return try [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initializedCount in
            let output = UnsafeMutableRawBufferPointer(buffer)
            var position = payloadStart
            for index in entries.indices {
                let entry = entries[index]
                let destination = UnsafeMutableRawBufferPointer(rebasing: output[position...])
                let compressedSize = try entry.bytes.withUnsafeBytes { raw -> Int in
                    let width = entry.dtype.byteWidth
                    if width == 1 { return try compressor.compress(raw, into: destination) }
                    return try scratch.withUnsafeMutableBytes { scratchBytes in
                        let shuffled = UnsafeMutableRawBufferPointer(rebasing: scratchBytes[0..<raw.count])
                        ByteShuffle.shuffle(raw, into: shuffled, width: width)
                        return try compressor.compress(UnsafeRawBufferPointer(shuffled), into: destination)
                    }
                }
                records[index].payloadOffset = position - payloadStart
                records[index].compressedSize = compressedSize
                records[index].checksum = XXHash64.hash(entry.bytes)
                position += compressedSize
            }

            var preamble = ByteWriter()
            preamble.append(contentsOf: CheckpointFormat.magic)
            preamble.append(CheckpointFormat.version)
            preamble.append(UInt64(headerLength))
            preamble.append(contentsOf: CheckpointHeader(metadata: metadata, records: records).encoded())
            precondition(preamble.bytes.count == payloadStart, "header length changed between passes")
            preamble.bytes.withUnsafeBytes { output.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }

            var trailer = ByteWriter()
            trailer.append(contentsOf: CheckpointFormat.trailerMagic)
            trailer.append(XXHash64.hash(preamble.bytes))
            trailer.append(UInt64(position + CheckpointFormat.trailerSize))
            trailer.bytes.withUnsafeBytes { (output.baseAddress! + position).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            initializedCount = position + CheckpointFormat.trailerSize
        }
    }

    /// Writes the checkpoint to `path` atomically: a crash leaves either the old file or the new
    /// one, never a mix (temporary file, fsync, rename, fsync of the directory).
    public func write(to path: String, compressionLevel: Int = Zstd.defaultLevel) throws {
        let bytes: [UInt8]
        do {
            bytes = try encoded(compressionLevel: compressionLevel)
        } catch let error as CheckpointError {
            throw CheckpointError(path: path, kind: error.kind, problem: error.problem)
        } catch let error as ZstdError {
            throw CheckpointError(path: path, kind: .io, problem: "compression failed: \(error.message)")
        }
        try FileIO.writeAtomically(bytes, to: path)
    }

    /// Rejects what the format cannot represent, naming the offending entry.
    private func validateForWriting() throws {
        func invalid(_ problem: String) -> CheckpointError {
            CheckpointError(path: "<checkpoint>", kind: .invalidArgument, problem: problem)
        }
        var names: Set<String> = []
        for entry in entries {
            let name = quoted(entry.name)
            guard (1...CheckpointFormat.maximumNameLength).contains(entry.name.utf8.count) else {
                throw invalid("entry name \(name) is \(entry.name.utf8.count) bytes; names must be 1 to \(CheckpointFormat.maximumNameLength) bytes of UTF-8")
            }
            guard names.insert(entry.name).inserted else { throw invalid("entry name \(name) appears twice") }
            guard entry.shape.count <= CheckpointFormat.maximumRank else {
                throw invalid("entry \(name) has rank \(entry.shape.count); at most \(CheckpointFormat.maximumRank) dimensions are allowed")
            }
            guard let elements = entry.elementCount else {
                throw invalid("entry \(name) has shape \(describeShape(entry.shape)), with a negative dimension or an overflowing element count")
            }
            let (expectedBytes, overflow) = elements.multipliedReportingOverflow(by: entry.dtype.byteWidth)
            guard !overflow, expectedBytes == entry.bytes.count else {
                throw invalid("entry \(name) has shape \(describeShape(entry.shape)) of \(entry.dtype.name) (\(grouped(elements)) elements) "
                    + "but holds \(grouped(entry.bytes.count)) bytes")
            }
        }
        for (key, value) in metadata where key.utf8.count > Int(UInt32.max) || value.utf8.count > Int(UInt32.max) {
            throw invalid("metadata \(quoted(key)) is too long for a u32 length field")
        }
    }
}
