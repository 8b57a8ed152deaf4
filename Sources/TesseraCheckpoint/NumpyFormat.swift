/// numpy interchange: `.npy` arrays in and out, `.npz` archives out
/// (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
///
/// A `.npy` file is the magic `\x93NUMPY`, a version (1.0 writes a u16 header length, 2.0 and 3.0
/// a u32), a Python dict literal such as `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`
/// padded with spaces and ended by a newline so the data starts 64-byte aligned, then the data.
/// The reader parses that dict by hand, accepting only the three keys numpy writes, so a hostile
/// header cannot smuggle anything in; the data size must match the shape exactly.
public enum Numpy {
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
    /// numpy itself refuses headers over 10,000 bytes unless told otherwise.
    static let maximumHeaderSize = 10_000

    /// The `.npy` bytes of one entry (format version 1.0).
    public static func encodeArray(_ entry: CheckpointEntry) throws -> [UInt8] {
        guard let descriptor = entry.dtype.numpyDescriptor else {
            throw CheckpointError(path: entry.name, kind: .unsupported, problem: "\(entry.dtype.name) has no numpy equivalent; convert it to float32 first")
        }
        guard entry.sizeMatchesShape else {
            throw CheckpointError(path: entry.name, kind: .invalidArgument, problem: "shape \(describeShape(entry.shape)) of \(entry.dtype.name) does not match its \(grouped(entry.bytes.count)) bytes")
        }
        let shape = entry.shape.count == 1 ? "(\(entry.shape[0]),)" : "(" + entry.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descriptor)', 'fortran_order': False, 'shape': \(shape), }"
        let prefixLength = magic.count + 4  // magic, version, u16 header length
        let padding = (64 - (prefixLength + header.utf8.count + 1) % 64) % 64
        header += String(repeating: " ", count: padding) + "\n"

        var writer = ByteWriter()
        writer.append(contentsOf: magic)
        writer.append(contentsOf: [1, 0])
        writer.append(UInt16(header.utf8.count))
        writer.append(contentsOf: header.utf8)
        writer.append(contentsOf: entry.bytes)
        return writer.bytes
    }

    /// Reads a `.npy` file; the entry is named after the file, without `.npy`.
    public static func readArray(from path: String) throws -> CheckpointEntry {
        var name = FileIO.fileNameOf(path)
        if name.hasSuffix(".npy") { name.removeLast(4) }
        return try decodeArray(try FileIO.readFile(path), name: name, source: path)
    }

    /// Parses `.npy` bytes held in memory.
    public static func decodeArray(_ bytes: [UInt8], name: String, source: String = "<memory>") throws -> CheckpointEntry {
        func failure(_ kind: CheckpointError.Kind, _ problem: String) -> CheckpointError {
            CheckpointError(path: source, kind: kind, problem: problem)
        }
        guard bytes.prefix(magic.count).elementsEqual(magic.prefix(bytes.count)) else {
            throw failure(.notThisFormat, "not a .npy file: the first bytes are \(hexBytes(bytes.prefix(magic.count))), expected \(hexBytes(magic))")
        }
        guard bytes.count >= magic.count + 4 else {
            throw failure(.truncated, "truncated: the file is \(bytes.count) bytes, too short for the .npy preamble")
        }
        let (major, minor) = (bytes[6], bytes[7])
        guard (1...3).contains(major), minor == 0 else {
            throw failure(.unsupportedVersion, ".npy format version \(major).\(minor); this build reads 1.0, 2.0 and 3.0")
        }
        let lengthFieldSize = major == 1 ? 2 : 4
        let headerStart = 8 + lengthFieldSize
        guard bytes.count >= headerStart else {
            throw failure(.truncated, "truncated: the file is \(bytes.count) bytes, too short for the .npy preamble")
        }
        let headerLength = bytes.withUnsafeBytes { raw in
            major == 1 ? Int(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt16.self)))
                : Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
        }
        guard headerLength <= maximumHeaderSize else {
            throw failure(.corrupt, ".npy header length \(grouped(headerLength)) bytes exceeds the \(grouped(maximumHeaderSize))-byte cap")
        }
        guard headerStart + headerLength <= bytes.count else {
            throw failure(.truncated, "truncated: the .npy header declares \(grouped(headerLength)) bytes but only \(grouped(bytes.count - headerStart)) follow")
        }
        let headerBytes = bytes[headerStart..<headerStart + headerLength]
        guard let headerText = String(validating: headerBytes, as: UTF8.self) else {
            throw failure(.corrupt, ".npy header is not valid text")
        }
        let header: NumpyHeader
        do {
            header = try NumpyHeader(parsing: headerText)
        } catch let error as NumpyHeader.ParseError {
            throw failure(error.isUnsupported ? .unsupported : .corrupt, ".npy header \(error.message)")
        }
        guard let byteCount = checkedElementCount(header.shape)
            .flatMap({ count -> Int? in let (size, overflow) = count.multipliedReportingOverflow(by: header.dtype.byteWidth); return overflow ? nil : size })
        else { throw failure(.corrupt, ".npy shape \(describeShape(header.shape)) has more elements than any file can hold") }
        let dataLength = bytes.count - headerStart - headerLength
        if dataLength < byteCount {
            throw failure(.truncated, "truncated: shape \(describeShape(header.shape)) of \(header.dtype.name) needs \(grouped(byteCount)) bytes "
                + "but only \(grouped(dataLength)) follow the header")
        }
        if dataLength > byteCount {
            throw failure(.corrupt, "\(grouped(dataLength - byteCount)) unexpected bytes follow the \(grouped(byteCount)) bytes of shape \(describeShape(header.shape)) of \(header.dtype.name)")
        }
        let dataStart = headerStart + headerLength
        return CheckpointEntry(name: name, dtype: header.dtype, shape: header.shape, bytes: Array(bytes[dataStart...]))
    }

    /// An `.npz` archive with one `<name>.npy` member per entry, which `numpy.load` opens as a
    /// dict of arrays. Metadata has no place in `.npz` and is left out.
    public static func encodeArchive(_ checkpoint: Checkpoint) throws -> [UInt8] {
        var archive = ZipArchiveWriter()
        for entry in checkpoint.entries {
            try archive.addStoredMember(name: entry.name + ".npy", contents: try encodeArray(entry))
        }
        return try archive.finished()
    }

    public static func writeArchive(_ checkpoint: Checkpoint, to path: String) throws {
        let bytes: [UInt8]
        do {
            bytes = try encodeArchive(checkpoint)
        } catch let error as CheckpointError {
            throw CheckpointError(path: path, kind: error.kind, problem: "\(error.path): \(error.problem)")
        }
        try FileIO.writeAtomically(bytes, to: path)
    }
}

extension CheckpointDType {
    /// The numpy `descr` string, or nil for bfloat16, which numpy lacks.
    public var numpyDescriptor: String? {
        switch self {
        case .float32: return "<f4"
        case .float64: return "<f8"
        case .float16: return "<f2"
        case .bfloat16: return nil
        case .int8: return "|i1"
        case .int16: return "<i2"
        case .int32: return "<i4"
        case .int64: return "<i8"
        case .uint8: return "|u1"
        case .bool: return "|b1"
        }
    }
}
