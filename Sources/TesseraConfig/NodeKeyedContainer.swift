import Yams

/// Reads a YAML mapping as a struct, telling the session which keys were asked for so that the
/// remaining ones can be reported as unknown.
struct NodeKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let session: RecipeDecodingSession
    let mapping: Node.Mapping
    let path: [String]

    var codingPath: [CodingKey] { path.map(RecipeCodingKey.init(stringValue:)) }

    /// Asking for every key means the caller treats the mapping as a dictionary: any key is valid.
    var allKeys: [Key] {
        session.markOpen(at: path)
        return mapping.keys.compactMap { $0.scalar.flatMap { Key(stringValue: $0.string) } }
    }

    private func value(for key: Key) -> Node? {
        session.markAsked(key.stringValue, at: path)
        return mapping.first(where: { $0.key.scalar?.string == key.stringValue })?.value
    }

    private func requiredValue(for key: Key) throws -> Node {
        guard let value = value(for: key) else {
            throw session.missingKey(key.stringValue, in: mapping, at: path)
        }
        return value
    }

    func contains(_ key: Key) -> Bool {
        value(for: key) != nil
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        value(for: key).map(RecipeScalar.isNull) ?? true
    }

    private func decodeValue<Value: Decodable>(_ type: Value.Type, forKey key: Key) throws -> Value {
        try session.decode(type, from: requiredValue(for: key), at: path + [key.stringValue])
    }

    func decode<Value: Decodable>(_ type: Value.Type, forKey key: Key) throws -> Value {
        try decodeValue(type, forKey: key)
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decodeValue(type, forKey: key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decodeValue(type, forKey: key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decodeValue(type, forKey: key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decodeValue(type, forKey: key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decodeValue(type, forKey: key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decodeValue(type, forKey: key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decodeValue(type, forKey: key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decodeValue(type, forKey: key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decodeValue(type, forKey: key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decodeValue(type, forKey: key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decodeValue(type, forKey: key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decodeValue(type, forKey: key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decodeValue(type, forKey: key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decodeValue(type, forKey: key) }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try childDecoder(forKey: key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        try childDecoder(forKey: key).unkeyedContainer()
    }

    func superDecoder() throws -> Decoder {
        NodeDecoder(session: session, node: .mapping(mapping), path: path)
    }

    func superDecoder(forKey key: Key) throws -> Decoder {
        try childDecoder(forKey: key)
    }

    private func childDecoder(forKey key: Key) throws -> NodeDecoder {
        NodeDecoder(session: session, node: try requiredValue(for: key), path: path + [key.stringValue])
    }
}
