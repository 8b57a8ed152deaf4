/// Where everything lives in a `.tsr` file, established from the preamble, trailer and header and
/// checked against the file's length before any payload is touched.
///
/// Both the full reader and the cheap `CheckpointSummary` start here, so `tessera inspect` rejects
/// exactly the structural problems that loading would.
struct CheckpointLayout {
    var header: CheckpointHeader
    /// Byte offset of the payload region (20 + header length).
    var payloadStart: Int
    /// Bytes between the header and the trailer.
    var payloadLength: Int
    var fileLength: Int

    init(validating buffer: UnsafeRawBufferPointer, source: String) throws {
        func failure(_ kind: CheckpointError.Kind, _ problem: String) -> CheckpointError {
            CheckpointError(path: source, kind: kind, problem: problem)
        }
        let fileLength = buffer.count
        let magic = CheckpointFormat.magic
        guard buffer.prefix(magic.count).elementsEqual(magic.prefix(fileLength)) else {
            throw failure(.notThisFormat, "not a Tessera checkpoint: the first bytes are \(hexBytes(buffer.prefix(magic.count))), expected \(hexBytes(magic))")
        }
        let minimumLength = CheckpointFormat.preambleSize + CheckpointFormat.trailerSize
        guard fileLength >= minimumLength else {
            throw failure(.truncated, "truncated: the file is \(grouped(fileLength)) bytes, shorter than the \(minimumLength)-byte minimum of an empty checkpoint")
        }
        let version = UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        guard version == CheckpointFormat.version else {
            let hint = version > CheckpointFormat.version ? " (written by a newer Tessera)" : ""
            throw failure(.unsupportedVersion, "checkpoint format version \(version)\(hint); this build reads version \(CheckpointFormat.version)")
        }
        let declaredHeaderLength = UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: 12, as: UInt64.self))
        guard declaredHeaderLength <= UInt64(CheckpointFormat.maximumHeaderSize) else {
            throw failure(.corrupt, "header length \(grouped(declaredHeaderLength)) bytes exceeds the \(grouped(CheckpointFormat.maximumHeaderSize))-byte cap")
        }
        let headerLength = Int(declaredHeaderLength)
        let available = fileLength - minimumLength
        guard headerLength <= available else {
            throw failure(.truncated, "truncated: the header declares \(grouped(headerLength)) bytes "
                + "but the file holds only \(grouped(available)) bytes between its preamble and trailer")
        }
        let payloadStart = CheckpointFormat.preambleSize + headerLength
        let trailerStart = fileLength - CheckpointFormat.trailerSize

        try Self.checkTrailer(buffer, payloadStart: payloadStart, source: source)
        let header = try CheckpointHeader(decoding: buffer, from: CheckpointFormat.preambleSize, to: payloadStart, source: source)
        try Self.checkPayloadRanges(header.records, payloadLength: trailerStart - payloadStart, source: source)

        self.header = header
        self.payloadStart = payloadStart
        self.payloadLength = trailerStart - payloadStart
        self.fileLength = fileLength
    }

    /// The trailer must carry its magic, the true file length and the header's checksum. Without
    /// it, the header (if it still parses) tells how long the file should have been, which turns
    /// "damaged" into the much more useful "truncated: N of M bytes".
    private static func checkTrailer(_ buffer: UnsafeRawBufferPointer, payloadStart: Int, source: String) throws {
        let fileLength = buffer.count
        let trailerStart = fileLength - CheckpointFormat.trailerSize
        let trailerMagic = buffer[trailerStart..<trailerStart + 8]
        let recordedLength = UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: trailerStart + 16, as: UInt64.self))
        let hasTrailer = trailerMagic.elementsEqual(CheckpointFormat.trailerMagic) && recordedLength == UInt64(fileLength)

        if !hasTrailer {
            // Parse only the part of the header the file still holds; a truncated file ends early.
            let describedLength = (try? CheckpointHeader(decoding: buffer, from: CheckpointFormat.preambleSize, to: payloadStart, source: source))
                .map { describedFileLength(of: $0, payloadStart: payloadStart) }
            if let describedLength, describedLength > fileLength {
                throw CheckpointError(
                    path: source, kind: .truncated,
                    problem: "truncated: the file is \(grouped(fileLength)) bytes but its header describes \(grouped(describedLength)) bytes")
            }
            if trailerMagic.elementsEqual(CheckpointFormat.trailerMagic) {
                throw CheckpointError(
                    path: source, kind: .corrupt,
                    problem: "the trailer records a file length of \(grouped(recordedLength)) bytes but the file is \(grouped(fileLength)) bytes")
            }
            let kind: CheckpointError.Kind = describedLength == nil ? .truncated : .corrupt
            throw CheckpointError(
                path: source, kind: kind,
                problem: "\(kind == .truncated ? "truncated or damaged" : "damaged"): the file does not end with a checkpoint trailer (last bytes \(hexBytes(buffer.suffix(8))))")
        }

        let recordedChecksum = UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: trailerStart + 8, as: UInt64.self))
        let actualChecksum = XXHash64.hash(UnsafeRawBufferPointer(rebasing: buffer[0..<payloadStart]))
        guard recordedChecksum == actualChecksum else {
            throw CheckpointError(
                path: source, kind: .checksumMismatch,
                problem: "header checksum mismatch: the trailer records \(hex(recordedChecksum)) but the header hashes to \(hex(actualChecksum))")
        }
    }

    /// The file length a header implies: preamble, header, the furthest payload end, trailer.
    private static func describedFileLength(of header: CheckpointHeader, payloadStart: Int) -> Int {
        var payloadEnd = 0
        for record in header.records {
            let (end, overflow) = record.payloadOffset.addingReportingOverflow(record.compressedSize)
            payloadEnd = overflow ? Int.max : max(payloadEnd, end)
        }
        let (total, overflow) = payloadStart.addingReportingOverflow(payloadEnd)
        guard !overflow, total <= Int.max - CheckpointFormat.trailerSize else { return Int.max }
        return total + CheckpointFormat.trailerSize
    }

    /// Payloads must sit back to back in table order and exactly fill the payload region, which
    /// rules out overlaps (two entries sharing bytes) and hidden gaps.
    private static func checkPayloadRanges(_ records: [EntryRecord], payloadLength: Int, source: String) throws {
        func corrupt(_ problem: String) -> CheckpointError {
            CheckpointError(path: source, kind: .corrupt, problem: problem)
        }
        var expectedOffset = 0
        for (index, record) in records.enumerated() {
            let name = quoted(record.name)
            let (end, overflow) = record.payloadOffset.addingReportingOverflow(record.compressedSize)
            let range = overflow ? "bytes \(grouped(record.payloadOffset)) and beyond" : "bytes \(grouped(record.payloadOffset))..<\(grouped(end))"
            if record.payloadOffset < expectedOffset {
                let earlier = records[..<index].first { $0.payloadOffset + $0.compressedSize > record.payloadOffset && (overflow || $0.payloadOffset < end) }
                let other = earlier.map { "entry \(quoted($0.name)) (bytes \(grouped($0.payloadOffset))..<\(grouped($0.payloadOffset + $0.compressedSize)))" }
                    ?? "the previous payloads (which end at byte \(grouped(expectedOffset)))"
                throw corrupt("entry \(name) payload (\(range) of the payload region) overlaps \(other)")
            }
            if record.payloadOffset != expectedOffset {
                throw corrupt("entry \(name) payload starts at byte \(grouped(record.payloadOffset)) of the payload region "
                    + "but the previous payload ends at byte \(grouped(expectedOffset)); payloads must be back to back")
            }
            guard !overflow, end <= payloadLength else {
                throw corrupt("entry \(name) declares a payload of \(grouped(record.compressedSize)) compressed bytes (\(range)) "
                    + "but the file holds \(grouped(payloadLength)) bytes of payloads after its header")
            }
            expectedOffset = end
        }
        guard expectedOffset == payloadLength else {
            throw corrupt("the payloads cover \(grouped(expectedOffset)) bytes but the file holds \(grouped(payloadLength)) bytes between its header and trailer")
        }
    }
}

/// `0x00ab…` with 16 hex digits, as checksums appear in messages.
func hex(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 16 - digits.count) + digits
}

/// `89 54 53 52` for showing magic bytes in messages.
func hexBytes(_ bytes: some Sequence<UInt8>) -> String {
    let text = bytes.map { byte -> String in
        let digits = String(byte, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }.joined(separator: " ")
    return text.isEmpty ? "(none)" : text
}
