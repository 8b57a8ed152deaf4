/// A small, strict JSON parser (RFC 8259) for safetensors headers.
///
/// Foundation's decoder accepts duplicate keys silently and reports `1.5` where an integer belongs
/// only as "not valid JSON"; a checkpoint reader must reject the first and explain the second.
/// Nesting is capped so a hostile `[[[[…` cannot exhaust the stack.
enum JSONValue {
    /// Members in document order; keys are unique.
    case object([(key: String, value: JSONValue)])
    case array([JSONValue])
    case string(String)
    /// A number written without fraction or exponent that fits in `Int`.
    case integer(Int)
    /// Any other number, kept as written for error messages.
    case number(String)
    case bool(Bool)
    case null

    /// How the value reads in an error message.
    var summary: String {
        switch self {
        case .object: return "an object"
        case .array: return "an array"
        case .string(let text): return "the string \(quoted(text))"
        case .integer(let value): return String(value)
        case .number(let text): return text
        case .bool(let value): return String(value)
        case .null: return "null"
        }
    }
}

struct StrictJSONParser {
    struct ParseError: Error {
        let message: String
    }

    /// safetensors headers nest three levels deep; 16 leaves room without risking the stack.
    static let maximumDepth = 16

    private let bytes: [UInt8]
    private var position = 0

    /// Parses one JSON document; only whitespace may follow it.
    static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        var parser = StrictJSONParser(bytes: bytes)
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.position == bytes.count else { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private func error(_ message: String) -> ParseError {
        ParseError(message: "\(message) at byte \(position)")
    }

    private mutating func skipWhitespace() {
        while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
    }

    private mutating func consume(_ character: UInt8) -> Bool {
        guard position < bytes.count && bytes[position] == character else { return false }
        position += 1
        return true
    }

    private mutating func value(depth: Int) throws -> JSONValue {
        guard depth < Self.maximumDepth else { throw error("JSON nested deeper than \(Self.maximumDepth) levels") }
        skipWhitespace()
        guard position < bytes.count else { throw error("unexpected end of JSON") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw error("unexpected character '\(Unicode.Scalar(bytes[position]).escaped(asASCII: true))'")
        }
    }

    private mutating func object(depth: Int) throws -> JSONValue {
        position += 1  // {
        var members: [(key: String, value: JSONValue)] = []
        var keys: Set<String> = []
        skipWhitespace()
        if consume(UInt8(ascii: "}")) { return .object(members) }
        repeat {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw error("expected a quoted key") }
            let key = try string()
            guard keys.insert(key).inserted else { throw error("the key \(quoted(key)) appears twice in one object") }
            skipWhitespace()
            guard consume(UInt8(ascii: ":")) else { throw error("expected ':' after the key \(quoted(key))") }
            members.append((key, try value(depth: depth + 1)))
            skipWhitespace()
        } while consume(UInt8(ascii: ","))
        guard consume(UInt8(ascii: "}")) else { throw error("expected ',' or '}' in an object") }
        return .object(members)
    }

    private mutating func array(depth: Int) throws -> JSONValue {
        position += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if consume(UInt8(ascii: "]")) { return .array(elements) }
        repeat {
            elements.append(try value(depth: depth + 1))
            skipWhitespace()
        } while consume(UInt8(ascii: ","))
        guard consume(UInt8(ascii: "]")) else { throw error("expected ',' or ']' in an array") }
        return .array(elements)
    }

    private mutating func literal(_ word: String) throws {
        let wordBytes = Array(word.utf8)
        guard bytes[position...].starts(with: wordBytes) else { throw error("expected '\(word)'") }
        position += wordBytes.count
    }

    private mutating func number() throws -> JSONValue {
        let start = position
        _ = consume(UInt8(ascii: "-"))
        let integerStart = position
        try digits()
        guard bytes[integerStart] != UInt8(ascii: "0") || position - integerStart == 1 else {
            throw error("a number has a leading zero")
        }
        var isInteger = true
        if consume(UInt8(ascii: ".")) {
            isInteger = false
            try digits()
        }
        if consume(UInt8(ascii: "e")) || consume(UInt8(ascii: "E")) {
            isInteger = false
            if !consume(UInt8(ascii: "+")) { _ = consume(UInt8(ascii: "-")) }
            try digits()
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        if isInteger, let value = Int(text) { return .integer(value) }
        return .number(text)
    }

    private mutating func digits() throws {
        let start = position
        while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) { position += 1 }
        guard position > start else { throw error("expected a digit") }
    }

    /// A string with all JSON escapes, including UTF-16 surrogate pairs; raw control characters
    /// and invalid UTF-8 are errors.
    private mutating func string() throws -> String {
        position += 1  // opening quote
        var scalars = String.UnicodeScalarView()
        var runStart = position
        func flushRun() throws {
            guard let run = String(validating: bytes[runStart..<position], as: UTF8.self) else { throw error("invalid UTF-8 in a string") }
            scalars.append(contentsOf: run.unicodeScalars)
        }
        while true {
            guard position < bytes.count else { throw error("unterminated string") }
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                try flushRun()
                position += 1
                return String(scalars)
            }
            guard byte >= 0x20 else { throw error("raw control character in a string") }
            guard byte == UInt8(ascii: "\\") else {
                position += 1
                continue
            }
            try flushRun()
            position += 1
            guard position < bytes.count else { throw error("unterminated escape") }
            let escape = bytes[position]
            position += 1
            switch escape {
            case UInt8(ascii: "\""): scalars.append("\"")
            case UInt8(ascii: "\\"): scalars.append("\\")
            case UInt8(ascii: "/"): scalars.append("/")
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "u"): scalars.append(try unicodeEscape())
            default: throw error("invalid escape '\\\(Unicode.Scalar(escape).escaped(asASCII: true))'")
            }
            runStart = position
        }
    }

    /// The scalar of `\uXXXX`, or of a `\uD8XX\uDCXX` surrogate pair.
    private mutating func unicodeEscape() throws -> Unicode.Scalar {
        let first = try hexQuad()
        if (0xD800..<0xDC00).contains(first) {
            guard bytes[position...].starts(with: Array("\\u".utf8)) else { throw error("unpaired UTF-16 surrogate") }
            position += 2
            let second = try hexQuad()
            guard (0xDC00..<0xE000).contains(second) else { throw error("unpaired UTF-16 surrogate") }
            return Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))!
        }
        guard let scalar = Unicode.Scalar(first) else { throw error("unpaired UTF-16 surrogate") }
        return scalar
    }

    private mutating func hexQuad() throws -> UInt32 {
        guard position + 4 <= bytes.count,
              bytes[position..<position + 4].allSatisfy({ Character(Unicode.Scalar($0)).isHexDigit }),
              let value = UInt32(String(decoding: bytes[position..<position + 4], as: UTF8.self), radix: 16)
        else { throw error("expected four hex digits after \\u") }
        position += 4
        return value
    }
}
