import Foundation
import TesseraTensor

/// A small, strict reader of NumPy `.npy` files (format versions 1.0, 2.0 and 3.0, see
/// https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
///
/// Accepted element types: `<f4`, `<f8`, `<i4`, `<i8`, `|u1` (all converted to `Float`), in C
/// order only (`fortran_order: False`). The header's shape times the element size must equal
/// the bytes after the header exactly. Anything else throws a `DataError` naming the file and
/// the header field. (The checkpoint module has its own NumPy support for saving weights; this
/// reader exists so that data loading does not depend on the checkpoint layer.)
///
/// ```swift
/// let features = try NumpyReader.read(contentsOf: url)   // e.g. [1000, 20]
/// ```
public enum NumpyReader {
    private static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    public static func read(contentsOf url: URL) throws -> Tensor {
        try parse(readFileBytes(url), fileName: url.lastPathComponent)
    }

    /// Parses `.npy` bytes; `fileName` names them in errors.
    public static func parse(_ bytes: [UInt8], fileName: String) throws -> Tensor {
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw DataError(.badMagic, file: fileName, reason: "expected a .npy file starting with \\x93NUMPY")
        }
        let major = bytes[6]
        let lengthSize: Int
        switch major {
        case 1: lengthSize = 2
        case 2, 3: lengthSize = 4
        default: throw DataError(.badHeader, file: fileName, reason: "unsupported .npy format version \(major).\(bytes[7]) (expected 1, 2 or 3)")
        }
        guard bytes.count >= 8 + lengthSize else {
            throw DataError(.sizeMismatch, file: fileName, reason: "the file ends inside the header length field")
        }
        var headerLength = 0
        for index in 0..<lengthSize { headerLength |= Int(bytes[8 + index]) << (8 * index) }
        let dataStart = 8 + lengthSize + headerLength
        guard bytes.count >= dataStart else {
            throw DataError(.sizeMismatch, file: fileName,
                            reason: "header promises \(headerLength) bytes but the file ends after \(bytes.count - 8 - lengthSize)")
        }
        let headerText = String(decoding: bytes[(8 + lengthSize)..<dataStart], as: UTF8.self)
        let header = try Header(parsing: headerText, fileName: fileName)

        var expected = header.elementType.size  // data bytes
        for extent in header.shape {
            let (product, overflow) = expected.multipliedReportingOverflow(by: extent)
            guard !overflow else {
                throw DataError(.badHeader, file: fileName, reason: "field 'shape' \(header.shape) is too large")
            }
            expected = product
        }
        let elementCount = expected / header.elementType.size
        guard bytes.count - dataStart == expected else {
            throw DataError(.sizeMismatch, file: fileName,
                            reason: "shape \(header.shape) of '\(header.elementType.rawValue)' needs \(expected) data bytes, "
                                + "the file has \(bytes.count - dataStart)\(bytes.count - dataStart < expected ? " (truncated)" : "")")
        }
        let output = Tensor.zeros(header.shape)
        let pointer = output.storage.pointer
        let size = header.elementType.size
        for index in 0..<elementCount {
            var raw: UInt64 = 0
            let offset = dataStart + index * size
            for byte in 0..<size { raw |= UInt64(bytes[offset + byte]) << (8 * byte) }
            pointer[index] = header.elementType.value(raw)
        }
        return output
    }

    /// The element types this reader accepts, spelled as NumPy's `descr`.
    enum ElementType: String {
        case float32 = "<f4", float64 = "<f8", int32 = "<i4", int64 = "<i8", uint8 = "|u1"

        var size: Int {
            switch self {
            case .uint8: return 1
            case .float32, .int32: return 4
            case .float64, .int64: return 8
            }
        }

        /// The element whose little-endian bytes, read as an unsigned integer, are `raw`.
        func value(_ raw: UInt64) -> Float {
            switch self {
            case .float32: return Float(bitPattern: UInt32(truncatingIfNeeded: raw))
            case .float64: return Float(Double(bitPattern: raw))
            case .int32: return Float(Int32(truncatingIfNeeded: raw))
            case .int64: return Float(Int64(bitPattern: raw))
            case .uint8: return Float(raw)
            }
        }
    }

    /// The header dictionary, e.g. `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
    struct Header {
        let elementType: ElementType
        let shape: [Int]

        init(parsing text: String, fileName: String) throws {
            func failure(_ reason: String) -> DataError { DataError(.badHeader, file: fileName, reason: reason) }
            var scanner = HeaderScanner(text)
            guard scanner.take("{") else { throw failure("expected the header to be a dictionary '{…}', found \(text.prefix(40))") }
            var descr: String?, fortranOrder: Bool?, shape: [Int]?
            while !scanner.take("}") {
                guard let key = scanner.quotedString(), scanner.take(":") else {
                    throw failure("expected 'key': value in the header dictionary \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
                }
                switch key {
                case "descr":
                    guard let value = scanner.quotedString() else { throw failure("expected a quoted string for 'descr'") }
                    descr = value
                case "fortran_order":
                    if scanner.take("False") { fortranOrder = false } else if scanner.take("True") { fortranOrder = true }
                    else { throw failure("expected True or False for 'fortran_order'") }
                case "shape":
                    guard let value = scanner.integerTuple() else { throw failure("expected a tuple of non-negative integers for 'shape'") }
                    shape = value
                default:
                    throw failure("unexpected header key '\(key)' (expected descr, fortran_order, shape)")
                }
                if !scanner.take(",") {
                    guard scanner.take("}") else { throw failure("expected ',' or '}' after '\(key)'") }
                    break
                }
            }
            guard let descr, let fortranOrder, let shape else {
                throw failure("expected the keys descr, fortran_order and shape in the header")
            }
            guard let elementType = ElementType(rawValue: descr) else {
                throw DataError(.unsupportedType, file: fileName,
                                reason: "unsupported dtype '\(descr)' in field 'descr' (expected <f4, <f8, <i4, <i8 or |u1)")
            }
            guard !fortranOrder else {
                throw failure("field 'fortran_order' is True; only C-ordered arrays are supported (save with np.ascontiguousarray)")
            }
            self.elementType = elementType
            self.shape = shape
        }
    }

    /// Just enough of a Python-literal scanner for the header dictionary.
    struct HeaderScanner {
        private let characters: [Character]
        private var index = 0

        init(_ text: String) { characters = Array(text) }

        private mutating func skipSpaces() {
            while index < characters.count && characters[index].isWhitespace { index += 1 }
        }

        /// Consumes `token` (after spaces) if it comes next.
        mutating func take(_ token: String) -> Bool {
            skipSpaces()
            let expected = Array(token)
            guard index + expected.count <= characters.count,
                  Array(characters[index..<index + expected.count]) == expected else { return false }
            index += expected.count
            return true
        }

        mutating func quotedString() -> String? {
            skipSpaces()
            guard index < characters.count, characters[index] == "'" || characters[index] == "\"" else { return nil }
            let quote = characters[index]
            guard let end = characters[(index + 1)...].firstIndex(of: quote) else { return nil }
            let value = String(characters[(index + 1)..<end])
            index = end + 1
            return value
        }

        /// `()`, `(3,)`, `(2, 3)`.
        mutating func integerTuple() -> [Int]? {
            guard take("(") else { return nil }
            var values: [Int] = []
            while !take(")") {
                skipSpaces()
                var digits = ""
                while index < characters.count, characters[index].isASCII, characters[index].isNumber {
                    digits.append(characters[index])
                    index += 1
                }
                guard let value = Int(digits) else { return nil }
                values.append(value)
                if !take(",") { return take(")") ? values : nil }
            }
            return values
        }
    }
}
