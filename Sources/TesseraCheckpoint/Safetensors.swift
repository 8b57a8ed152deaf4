/// Export to and import from safetensors (https://huggingface.co/docs/safetensors), the format
/// other frameworks load: an 8-byte little-endian header length N, N bytes of JSON
/// `{"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, "__metadata__": {…}}`,
/// then the raw little-endian tensor bytes, offsets counted from the end of the header.
///
/// Reading is as strict as for `.tsr` files: capped header size, every offset inside the file and
/// matching shape × dtype width, no overlaps, and the data region covered without holes.
public enum Safetensors {
    /// The reference implementation refuses headers over 100 MB; so do we.
    static let maximumHeaderSize = 100_000_000

    public static func encode(_ checkpoint: Checkpoint) throws -> [UInt8] {
        var fields: [String] = []
        if !checkpoint.metadata.isEmpty {
            let pairs = checkpoint.metadata.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\(jsonString($0.value))" }
            fields.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        var names: Set<String> = ["__metadata__"]
        for entry in checkpoint.entries {
            guard names.insert(entry.name).inserted else {
                throw CheckpointError(path: "<safetensors>", kind: .invalidArgument, problem: "entry name \(quoted(entry.name)) is reserved or appears twice")
            }
            guard entry.sizeMatchesShape else {
                throw CheckpointError(path: "<safetensors>", kind: .invalidArgument, problem: "entry \(quoted(entry.name)) has shape \(describeShape(entry.shape)) of \(entry.dtype.name) "
                    + "but holds \(grouped(entry.bytes.count)) bytes")
            }
            let shape = entry.shape.map(String.init).joined(separator: ",")
            fields.append("\(jsonString(entry.name)):{\"dtype\":\"\(entry.dtype.safetensorsName)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + entry.bytes.count)]}")
            offset += entry.bytes.count
        }
        var header = Array("{\(fields.joined(separator: ","))}".utf8)
        // Pad with spaces so the tensor data starts 8-byte aligned, as the reference writer does.
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))

        var writer = ByteWriter()
        writer.bytes.reserveCapacity(8 + header.count + offset)
        writer.append(UInt64(header.count))
        writer.append(contentsOf: header)
        for entry in checkpoint.entries { writer.append(contentsOf: entry.bytes) }
        return writer.bytes
    }

    public static func write(_ checkpoint: Checkpoint, to path: String) throws {
        do {
            try FileIO.writeAtomically(try encode(checkpoint), to: path)
        } catch let error as CheckpointError where error.kind == .invalidArgument {
            throw CheckpointError(path: path, kind: error.kind, problem: error.problem)
        }
    }

    public static func read(from path: String) throws -> Checkpoint {
        try decode(try FileIO.readFile(path), source: path)
    }

    /// Parses a safetensors file held in memory; entries come back in data-offset order.
    public static func decode(_ bytes: [UInt8], source: String = "<memory>") throws -> Checkpoint {
        func failure(_ kind: CheckpointError.Kind, _ problem: String) -> CheckpointError {
            CheckpointError(path: source, kind: kind, problem: problem)
        }
        guard bytes.count >= 8 else {
            throw failure(.truncated, "truncated: a safetensors file starts with an 8-byte header length but the file is \(bytes.count) bytes")
        }
        let declaredLength = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard declaredLength <= UInt64(maximumHeaderSize) else {
            throw failure(.corrupt, "safetensors header length \(grouped(declaredLength)) bytes exceeds the \(grouped(maximumHeaderSize))-byte cap")
        }
        let headerLength = Int(declaredLength)
        guard headerLength <= bytes.count - 8 else {
            throw failure(.truncated, "truncated: the safetensors header declares \(grouped(headerLength)) bytes "
                + "but only \(grouped(bytes.count - 8)) follow the length field")
        }
        let headerBytes = bytes[8..<8 + headerLength]
        guard headerBytes.first == UInt8(ascii: "{") else {
            throw failure(.notThisFormat, "not a safetensors file: the header does not start with '{'")
        }
        let header: SafetensorsHeader
        do {
            header = try SafetensorsHeader(parsing: Array(headerBytes))
        } catch let error as StrictJSONParser.ParseError {
            throw failure(.corrupt, "safetensors header is not valid JSON: \(error.message)")
        } catch let error as SafetensorsHeader.SchemaError {
            throw failure(.corrupt, "safetensors header \(error.message)")
        }
        let dataLength = bytes.count - 8 - headerLength
        let tensors = try checkedTensors(header.tensors, dataLength: dataLength, source: source)
        let dataStart = 8 + headerLength
        let entries = tensors.map { tensor in
            CheckpointEntry(name: tensor.name, dtype: tensor.dtype, shape: tensor.shape, bytes: Array(bytes[dataStart + tensor.begin..<dataStart + tensor.end]))
        }
        return Checkpoint(metadata: header.metadata, entries: entries)
    }

    /// Validates every tensor's dtype, shape and byte range against the data region.
    private static func checkedTensors(_ infos: [String: SafetensorsHeader.TensorInfo], dataLength: Int, source: String) throws -> [CheckedTensor] {
        func corrupt(_ problem: String) -> CheckpointError {
            CheckpointError(path: source, kind: .corrupt, problem: problem)
        }
        var tensors: [CheckedTensor] = []
        for (name, info) in infos {
            guard let dtype = CheckpointDType(safetensorsName: info.dtype) else {
                throw CheckpointError(path: source, kind: .unsupported, problem: "tensor \(quoted(name)) has dtype \(quoted(info.dtype)), which Tessera does not read")
            }
            guard info.shape.count <= CheckpointFormat.maximumRank, let elements = checkedElementCount(info.shape),
                  case let (byteCount, overflow) = elements.multipliedReportingOverflow(by: dtype.byteWidth), !overflow
            else { throw corrupt("tensor \(quoted(name)) has shape \(describeShape(info.shape)), with a negative dimension, too many dimensions or an overflowing size") }
            guard info.dataOffsets.count == 2, info.dataOffsets[0] >= 0, info.dataOffsets[0] <= info.dataOffsets[1] else {
                throw corrupt("tensor \(quoted(name)) has data_offsets \(describeShape(info.dataOffsets)); expected [begin, end] with 0 ≤ begin ≤ end")
            }
            let (begin, end) = (info.dataOffsets[0], info.dataOffsets[1])
            guard end <= dataLength else {
                throw corrupt("tensor \(quoted(name)) declares bytes \(grouped(begin))..<\(grouped(end)) "
                    + "but the file holds \(grouped(dataLength)) bytes after its header")
            }
            guard end - begin == byteCount else {
                throw corrupt("tensor \(quoted(name)) declares \(grouped(elements)) elements of \(dtype.name) (\(grouped(byteCount)) bytes) "
                    + "but its data_offsets span \(grouped(end - begin)) bytes")
            }
            tensors.append(CheckedTensor(name: name, dtype: dtype, shape: info.shape, begin: begin, end: end))
        }
        tensors.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var covered = 0
        var previousName = ""
        for tensor in tensors {
            if tensor.begin < covered {
                throw corrupt("tensor \(quoted(tensor.name)) (bytes \(grouped(tensor.begin))..<\(grouped(tensor.end))) overlaps tensor \(quoted(previousName)), which ends at byte \(grouped(covered))")
            }
            if tensor.begin > covered {
                throw corrupt("the data region has a hole: bytes \(grouped(covered))..<\(grouped(tensor.begin)) belong to no tensor")
            }
            covered = tensor.end
            previousName = tensor.name
        }
        guard covered == dataLength else {
            throw corrupt("the tensors cover \(grouped(covered)) bytes but the data region holds \(grouped(dataLength)) bytes")
        }
        return tensors
    }

    private struct CheckedTensor {
        let name: String
        let dtype: CheckpointDType
        let shape: [Int]
        let begin: Int
        let end: Int
    }
}

/// The JSON header: tensor records by name, plus the optional string map `__metadata__`.
private struct SafetensorsHeader {
    struct SchemaError: Error {
        let message: String
    }

    struct TensorInfo {
        let dtype: String
        let shape: [Int]
        let dataOffsets: [Int]
    }

    var metadata: [String: String] = [:]
    var tensors: [String: TensorInfo] = [:]

    init(parsing bytes: [UInt8]) throws {
        guard case .object(let members) = try StrictJSONParser.parse(bytes) else {
            throw SchemaError(message: "is not a JSON object")
        }
        for (key, value) in members {
            if key == "__metadata__" {
                guard case .object(let pairs) = value else { throw SchemaError(message: "'__metadata__' is \(value.summary), not an object of strings") }
                for (name, text) in pairs {
                    guard case .string(let string) = text else { throw SchemaError(message: "'__metadata__' value \(quoted(name)) is \(text.summary), not a string") }
                    metadata[name] = string
                }
            } else {
                tensors[key] = try Self.tensorInfo(named: key, from: value)
            }
        }
    }

    private static func tensorInfo(named name: String, from value: JSONValue) throws -> TensorInfo {
        guard case .object(let fields) = value else { throw SchemaError(message: "entry \(quoted(name)) is \(value.summary), not an object") }
        var dtype: String?
        var shape: [Int]?
        var dataOffsets: [Int]?
        for (field, fieldValue) in fields {
            switch field {
            case "dtype":
                guard case .string(let text) = fieldValue else { throw SchemaError(message: "tensor \(quoted(name)) has dtype \(fieldValue.summary), not a string") }
                dtype = text
            case "shape": shape = try integers(fieldValue, field: "shape", tensor: name)
            case "data_offsets": dataOffsets = try integers(fieldValue, field: "data_offsets", tensor: name)
            default: throw SchemaError(message: "tensor \(quoted(name)) has the unknown field \(quoted(field))")
            }
        }
        guard let dtype, let shape, let dataOffsets else {
            let missing = [("dtype", dtype == nil), ("shape", shape == nil), ("data_offsets", dataOffsets == nil)].filter(\.1).map(\.0)
            throw SchemaError(message: "tensor \(quoted(name)) lacks \(missing.joined(separator: ", "))")
        }
        return TensorInfo(dtype: dtype, shape: shape, dataOffsets: dataOffsets)
    }

    /// An array of non-negative integers, e.g. a shape or a pair of offsets.
    private static func integers(_ value: JSONValue, field: String, tensor: String) throws -> [Int] {
        guard case .array(let elements) = value else { throw SchemaError(message: "tensor \(quoted(tensor)) has \(field) \(value.summary), not an array") }
        return try elements.enumerated().map { index, element in
            guard case .integer(let integer) = element, integer >= 0 else {
                throw SchemaError(message: "tensor \(quoted(tensor)) has \(field)[\(index)] = \(element.summary), not a non-negative integer")
            }
            return integer
        }
    }
}

/// A JSON string literal; names and metadata may hold quotes, backslashes and control characters.
private func jsonString(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case "\n": result += "\\n"
        case "\r": result += "\\r"
        case "\t": result += "\\t"
        case _ where scalar.value < 0x20:
            let digits = String(scalar.value, radix: 16)
            result += "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
        default: result.unicodeScalars.append(scalar)
        }
    }
    return result + "\""
}

extension CheckpointDType {
    /// The dtype's name in safetensors headers.
    public var safetensorsName: String {
        switch self {
        case .float32: return "F32"
        case .float64: return "F64"
        case .float16: return "F16"
        case .bfloat16: return "BF16"
        case .int8: return "I8"
        case .int16: return "I16"
        case .int32: return "I32"
        case .int64: return "I64"
        case .uint8: return "U8"
        case .bool: return "BOOL"
        }
    }

    public init?(safetensorsName: String) {
        guard let match = Self.allCases.first(where: { $0.safetensorsName == safetensorsName }) else { return nil }
        self = match
    }
}
