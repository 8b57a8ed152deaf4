/// The dict literal of a `.npy` header, e.g. `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`,
/// parsed by hand.
///
/// numpy evaluates this text with a restricted Python parser; we accept only what numpy writes:
/// exactly the keys `descr`, `fortran_order` and `shape`, a little-endian (or byte-sized) descr,
/// `False` for fortran_order, and a tuple of non-negative integers, followed by spaces and one
/// newline. Anything else is an error that says where and what.
struct NumpyHeader {
    struct ParseError: Error {
        let message: String
        /// Well-formed but outside what we support (Fortran order, big-endian, complex …).
        var isUnsupported = false
    }

    let dtype: CheckpointDType
    let shape: [Int]

    init(parsing text: String) throws {
        var parser = Parser(bytes: Array(text.utf8))
        var descriptor: String?
        var fortranOrder: Bool?
        var shape: [Int]?

        parser.skipSpaces()
        try parser.expect("{")
        while true {
            parser.skipSpaces()
            if parser.consume("}") { break }
            let key = try parser.string()
            parser.skipSpaces()
            try parser.expect(":")
            parser.skipSpaces()
            switch key {
            case "descr" where descriptor == nil: descriptor = try parser.string()
            case "fortran_order" where fortranOrder == nil: fortranOrder = try parser.boolean()
            case "shape" where shape == nil: shape = try parser.tuple()
            case "descr", "fortran_order", "shape": throw ParseError(message: "repeats the key '\(key)'")
            default: throw ParseError(message: "has the unexpected key '\(key)'; numpy writes only 'descr', 'fortran_order' and 'shape'")
            }
            parser.skipSpaces()
            if parser.consume(",") { continue }
            try parser.expect("}")
            break
        }
        parser.skipSpaces()
        try parser.expect("\n")
        guard parser.atEnd else { throw ParseError(message: "has text after the newline that ends it") }

        guard let descriptor else { throw ParseError(message: "lacks the key 'descr'") }
        guard let fortranOrder else { throw ParseError(message: "lacks the key 'fortran_order'") }
        guard let shape else { throw ParseError(message: "lacks the key 'shape'") }
        guard !fortranOrder else {
            throw ParseError(message: "says fortran_order is True (column-major data); save the array with numpy.ascontiguousarray first", isUnsupported: true)
        }
        guard let dtype = CheckpointDType.allCases.first(where: { $0.numpyDescriptor == descriptor }) else {
            let reason = descriptor.hasPrefix(">") ? "big-endian data is not supported" : "it is not one of <f2 <f4 <f8 |i1 <i2 <i4 <i8 |u1 |b1"
            throw ParseError(message: "has descr '\(descriptor)': \(reason)", isUnsupported: true)
        }
        guard shape.count <= CheckpointFormat.maximumRank else {
            throw ParseError(message: "has a shape of \(shape.count) dimensions; at most \(CheckpointFormat.maximumRank) are supported")
        }
        self.dtype = dtype
        self.shape = shape
    }

    /// A cursor over the header bytes with the few Python literal forms numpy uses.
    private struct Parser {
        let bytes: [UInt8]
        var position = 0

        var atEnd: Bool { position == bytes.count }

        mutating func skipSpaces() {
            while position < bytes.count && bytes[position] == UInt8(ascii: " ") { position += 1 }
        }

        mutating func consume(_ character: Unicode.Scalar) -> Bool {
            guard position < bytes.count && bytes[position] == UInt8(ascii: character) else { return false }
            position += 1
            return true
        }

        mutating func expect(_ character: Unicode.Scalar) throws {
            guard consume(character) else {
                let found = position < bytes.count ? "'\(Unicode.Scalar(bytes[position]).escaped(asASCII: true))'" : "the end"
                throw ParseError(message: "expected '\(character.escaped(asASCII: true))' at byte \(position) but found \(found)")
            }
        }

        /// A quoted string without escapes: numpy never writes escapes in these fields.
        mutating func string() throws -> String {
            guard position < bytes.count, bytes[position] == UInt8(ascii: "'") || bytes[position] == UInt8(ascii: "\"") else {
                throw ParseError(message: "expected a quoted string at byte \(position)")
            }
            let quote = bytes[position]
            let start = position + 1
            guard let end = bytes[start...].firstIndex(of: quote) else { throw ParseError(message: "has an unterminated string at byte \(position)") }
            let content = bytes[start..<end]
            guard !content.contains(UInt8(ascii: "\\")) else { throw ParseError(message: "has an escape sequence in the string at byte \(position)") }
            position = end + 1
            return String(decoding: content, as: UTF8.self)
        }

        mutating func boolean() throws -> Bool {
            if consumeWord("True") { return true }
            if consumeWord("False") { return false }
            throw ParseError(message: "expected True or False at byte \(position)")
        }

        /// `()`, `(3,)`, `(2, 3)` or `(2, 3,)`; `(3)` is an integer in Python, not a tuple.
        mutating func tuple() throws -> [Int] {
            let start = position
            try expect("(")
            var values: [Int] = []
            var sawComma = false
            while true {
                skipSpaces()
                if consume(")") { break }
                values.append(try integer())
                skipSpaces()
                if consume(",") { sawComma = true; continue }
                try expect(")")
                break
            }
            guard values.count != 1 || sawComma else {
                throw ParseError(message: "has shape (\(values[0])) at byte \(start), which is not a tuple; a 1-D shape is written (\(values[0]),)")
            }
            return values
        }

        private mutating func integer() throws -> Int {
            let start = position
            while position < bytes.count && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) { position += 1 }
            guard position > start else { throw ParseError(message: "expected a non-negative integer at byte \(start)") }
            guard let value = Int(String(decoding: bytes[start..<position], as: UTF8.self)) else {
                throw ParseError(message: "has a dimension at byte \(start) too large for a 64-bit integer")
            }
            return value
        }

        private mutating func consumeWord(_ word: String) -> Bool {
            let wordBytes = Array(word.utf8)
            guard bytes[position...].starts(with: wordBytes) else { return false }
            position += wordBytes.count
            return true
        }
    }
}
