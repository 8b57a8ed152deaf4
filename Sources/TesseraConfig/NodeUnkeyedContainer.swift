import Yams

/// Reads a YAML list item by item; each item's path ends in its index (`model.layers.1`).
struct NodeUnkeyedContainer: UnkeyedDecodingContainer {
    let session: RecipeDecodingSession
    let items: [Node]
    let path: [String]
    private(set) var currentIndex = 0

    init(session: RecipeDecodingSession, items: [Node], path: [String]) {
        self.session = session
        self.items = items
        self.path = path
    }

    var codingPath: [CodingKey] { path.map(RecipeCodingKey.init(stringValue:)) }
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    private var itemPath: [String] { path + ["\(currentIndex)"] }

    private func currentItem() throws -> Node {
        guard !isAtEnd else {
            throw session.recipe.error(at: path, "expected more than \(items.count) items")
        }
        return items[currentIndex]
    }

    mutating func decodeNil() throws -> Bool {
        guard try RecipeScalar.isNull(currentItem()) else { return false }
        currentIndex += 1
        return true
    }

    private mutating func decodeValue<Value: Decodable>(_ type: Value.Type) throws -> Value {
        let value = try session.decode(type, from: currentItem(), at: itemPath)
        currentIndex += 1
        return value
    }

    mutating func decode<Value: Decodable>(_ type: Value.Type) throws -> Value { try decodeValue(type) }
    mutating func decode(_ type: Bool.Type) throws -> Bool { try decodeValue(type) }
    mutating func decode(_ type: String.Type) throws -> String { try decodeValue(type) }
    mutating func decode(_ type: Double.Type) throws -> Double { try decodeValue(type) }
    mutating func decode(_ type: Float.Type) throws -> Float { try decodeValue(type) }
    mutating func decode(_ type: Int.Type) throws -> Int { try decodeValue(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try decodeValue(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try decodeValue(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try decodeValue(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try decodeValue(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try decodeValue(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try decodeValue(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try decodeValue(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try decodeValue(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try decodeValue(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        let container = try NodeDecoder(session: session, node: currentItem(), path: itemPath).container(keyedBy: type)
        currentIndex += 1
        return container
    }

    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer {
        let container = try NodeDecoder(session: session, node: currentItem(), path: itemPath).unkeyedContainer()
        currentIndex += 1
        return container
    }

    mutating func superDecoder() throws -> Decoder {
        let decoder = NodeDecoder(session: session, node: try currentItem(), path: itemPath)
        currentIndex += 1
        return decoder
    }
}
