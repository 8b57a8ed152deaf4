import Yams

/// A `Decoder` over one node of the recipe tree. It holds the node's dotted path so every error,
/// however deep, can name the key path and line.
struct NodeDecoder: Decoder {
    let session: RecipeDecodingSession
    let node: Node
    let path: [String]

    var codingPath: [CodingKey] { path.map(RecipeCodingKey.init(stringValue:)) }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .mapping(let mapping) = node else {
            throw session.typeMismatch(expected: "a mapping", found: node, at: path)
        }
        session.visitMapping(at: path, declaredKeys: declaredKeyNames(type))
        return KeyedDecodingContainer(NodeKeyedContainer<Key>(session: session, mapping: mapping, path: path))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard case .sequence(let sequence) = node else {
            throw session.typeMismatch(expected: "a list", found: node, at: path)
        }
        return NodeUnkeyedContainer(session: session, items: Array(sequence), path: path)
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer {
        NodeSingleValueContainer(session: session, node: node, path: path)
    }

    /// All `CodingKeys` cases when the type lists them (`CaseIterable`); otherwise only asked keys are valid.
    private func declaredKeyNames<Key: CodingKey>(_ type: Key.Type) -> [String] {
        guard let iterable = type as? any (CodingKey & CaseIterable).Type else { return [] }
        return caseNames(of: iterable)
    }

    private func caseNames<Key: CodingKey & CaseIterable>(of type: Key.Type) -> [String] {
        Key.allCases.map(\.stringValue)
    }
}

/// A coding-path component: a mapping key, or a list index (whose `stringValue` is the index).
struct RecipeCodingKey: CodingKey {
    let stringValue: String
    let intValue: Int?

    init(stringValue: String) {
        self.stringValue = stringValue
        self.intValue = Int(stringValue)
    }

    init(intValue: Int) {
        self.stringValue = "\(intValue)"
        self.intValue = intValue
    }
}

/// Reads one scalar. Every concrete overload goes through `RecipeScalar`, so `Int`, `Double`, `Bool`
/// and `String` follow the same rules wherever they appear.
struct NodeSingleValueContainer: SingleValueDecodingContainer {
    let session: RecipeDecodingSession
    let node: Node
    let path: [String]

    var codingPath: [CodingKey] { path.map(RecipeCodingKey.init(stringValue:)) }

    func decodeNil() -> Bool { RecipeScalar.isNull(node) }

    func decode(_ type: Bool.Type) throws -> Bool {
        guard let value = RecipeScalar.bool(node) else {
            throw session.typeMismatch(expected: "true or false", found: node, at: path)
        }
        return value
    }

    func decode(_ type: String.Type) throws -> String {
        guard let value = RecipeScalar.string(node) else {
            throw session.typeMismatch(expected: "a string", found: node, at: path)
        }
        return value
    }

    func decode(_ type: Double.Type) throws -> Double { try floatingPoint(type) }
    func decode(_ type: Float.Type) throws -> Float { try floatingPoint(type) }
    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }

    func decode<Value: Decodable>(_ type: Value.Type) throws -> Value {
        try session.decode(type, from: node, at: path)
    }

    private func integer<Integer: FixedWidthInteger>(_ type: Integer.Type) throws -> Integer {
        if let value = RecipeScalar.integer(node, as: type) { return value }
        if RecipeScalar.looksLikeInteger(node) {
            throw session.typeMismatch(expected: "an integer in \(Integer.min)...\(Integer.max)", found: node, at: path)
        }
        throw session.typeMismatch(expected: "an integer", found: node, at: path)
    }

    private func floatingPoint<Floating: BinaryFloatingPoint & LosslessStringConvertible>(
        _ type: Floating.Type
    ) throws -> Floating {
        guard let value = RecipeScalar.floatingPoint(node, as: type) else {
            throw session.typeMismatch(expected: "a number", found: node, at: path)
        }
        return value
    }
}
