import Foundation

/// Turns text into token ids and back; saved with a checkpoint as JSON (``json()``), so a model
/// reloaded for generation reads and writes the same tokens it was trained on.
public protocol Tokenizer {
    var vocabularySize: Int { get }
    /// Special tokens (`<pad>`, `[CLS]`, …) by name; each is one id that no text encodes to.
    var specialTokens: [String] { get }
    func encode(_ text: String) -> [Int]
    /// The text of `ids`; special tokens are written by name.
    func decode(_ ids: [Int]) -> String
    /// The tokenizer as a JSON string, to store in checkpoint metadata.
    func json() throws -> String
}

extension Tokenizer {
    /// The id of special token `name` (`nil` if the tokenizer has none by that name).
    public func id(ofSpecial name: String) -> Int? {
        specialTokens.firstIndex(of: name)
    }
}

/// One token per character (Unicode scalar) seen in the training text, after the special tokens.
/// The simplest tokenizer that can write any text it was built from; Karpathy's char-level
/// nanoGPT uses it for Shakespeare.
public struct CharacterTokenizer: Tokenizer, Codable, Equatable {
    public let specialTokens: [String]
    /// The characters, in id order after the special tokens.
    public let characters: [String]
    /// Where characters not seen when building go (`nil`: such text is an error).
    public let unknownToken: String?
    private var index: [Unicode.Scalar: Int] = [:]

    enum CodingKeys: String, CodingKey { case specialTokens, characters, unknownToken }

    /// The characters of `text`, sorted, after `specialTokens`.
    public init(text: String, specialTokens: [String] = [], unknownToken: String? = nil) {
        check(unknownToken == nil || specialTokens.contains(unknownToken!),
              "CharacterTokenizer: the unknown token \(unknownToken ?? "") must be one of the special tokens \(specialTokens)")
        self.specialTokens = specialTokens
        characters = Set(text.unicodeScalars).sorted { $0.value < $1.value }.map { String($0) }
        self.unknownToken = unknownToken
        buildIndex()
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        specialTokens = try container.decode([String].self, forKey: .specialTokens)
        characters = try container.decode([String].self, forKey: .characters)
        unknownToken = try container.decodeIfPresent(String.self, forKey: .unknownToken)
        buildIndex()
    }

    /// Decodes a tokenizer saved by ``json()``.
    public init(json: String) throws {
        self = try JSONDecoder().decode(CharacterTokenizer.self, from: Data(json.utf8))
    }

    private mutating func buildIndex() {
        for (offset, character) in characters.enumerated() {
            if let scalar = character.unicodeScalars.first { index[scalar] = specialTokens.count + offset }
        }
    }

    public var vocabularySize: Int { specialTokens.count + characters.count }

    public func encode(_ text: String) -> [Int] {
        text.unicodeScalars.map { scalar in
            if let id = index[scalar] { return id }
            guard let unknownToken, let id = id(ofSpecial: unknownToken) else {
                checkFailure("CharacterTokenizer: the character \(String(scalar).debugDescription) is not in the vocabulary of \(vocabularySize) tokens")
            }
            return id
        }
    }

    public func decode(_ ids: [Int]) -> String {
        ids.map { id in
            check(id >= 0 && id < vocabularySize, "CharacterTokenizer: token id \(id) is outside the vocabulary of \(vocabularySize) tokens")
            return id < specialTokens.count ? specialTokens[id] : characters[id - specialTokens.count]
        }.joined()
    }

    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    public static func == (a: CharacterTokenizer, b: CharacterTokenizer) -> Bool {
        a.specialTokens == b.specialTokens && a.characters == b.characters && a.unknownToken == b.unknownToken
    }
}
