import Foundation

/// Byte-pair encoding (Sennrich et al., "Neural Machine Translation of Rare Words with Subword
/// Units", ACL 2016), learned from a corpus: start from its characters and repeatedly merge the
/// most frequent adjacent pair into a new token until the vocabulary has the requested size.
///
/// Text is first cut into words the way GPT-2 does — an optional leading space with a run of
/// letters, of digits, or of other symbols; other whitespace alone — and merges never cross a
/// word boundary, so `" the"` can become one token while `"e t"` never does. The tokenizer is
/// its special tokens, alphabet and ordered merges; ``json()`` stores exactly those.
///
/// ```swift
/// let bpe = BytePairEncoding(training: corpus, vocabularySize: 512, specialTokens: ["<pad>", "<unk>"],
///                            unknownToken: "<unk>")
/// let ids = bpe.encode("the river ran")   // fewer ids than characters
/// let metadata = try bpe.json()            // stored with the checkpoint
/// ```
public struct BytePairEncoding: Tokenizer, Codable, Equatable {
    public let specialTokens: [String]
    /// Single characters, in id order after the special tokens.
    public let alphabet: [String]
    /// The learned merges in the order learned (earlier merges bind first); each adds one token.
    public let merges: [[String]]
    public let unknownToken: String?
    private var ids: [String: Int] = [:]
    private var tokens: [String] = []
    private var mergeRanks: [String: Int] = [:]

    enum CodingKeys: String, CodingKey { case specialTokens, alphabet, merges, unknownToken }

    public init(training text: String, vocabularySize: Int, specialTokens: [String] = [], unknownToken: String? = nil) {
        check(unknownToken == nil || specialTokens.contains(unknownToken!),
              "BytePairEncoding: the unknown token \(unknownToken ?? "") must be one of the special tokens \(specialTokens)")
        let alphabet = Set(text.unicodeScalars).sorted { $0.value < $1.value }.map { String($0) }
        check(vocabularySize >= specialTokens.count + alphabet.count,
              "BytePairEncoding: a vocabulary of \(vocabularySize) cannot hold \(specialTokens.count) special tokens and the corpus's \(alphabet.count) characters")
        // Each distinct word once, with its count: merges are counted over the word table.
        var wordCounts: [String: Int] = [:]
        for word in BytePairEncoding.words(of: text) { wordCounts[word, default: 0] += 1 }
        var table = wordCounts.keys.sorted().map { (symbols: $0.unicodeScalars.map { String($0) }, count: wordCounts[$0]!) }
        var merges: [[String]] = []
        while specialTokens.count + alphabet.count + merges.count < vocabularySize {
            var pairCounts: [[String]: Int] = [:]
            for word in table where word.symbols.count > 1 {
                for position in 0..<(word.symbols.count - 1) {
                    pairCounts[[word.symbols[position], word.symbols[position + 1]], default: 0] += word.count
                }
            }
            // The most frequent pair; ties go to the lexicographically first pair, so training is deterministic.
            guard let best = pairCounts.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key.joined(separator: " ") > $1.key.joined(separator: " ")) }),
                  best.value >= 2 else { break }
            merges.append(best.key)
            for index in table.indices where table[index].symbols.count > 1 {
                table[index].symbols = BytePairEncoding.apply(merge: best.key, to: table[index].symbols)
            }
        }
        self.specialTokens = specialTokens
        self.alphabet = alphabet
        self.merges = merges
        self.unknownToken = unknownToken
        buildTables()
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        specialTokens = try container.decode([String].self, forKey: .specialTokens)
        alphabet = try container.decode([String].self, forKey: .alphabet)
        merges = try container.decode([[String]].self, forKey: .merges)
        unknownToken = try container.decodeIfPresent(String.self, forKey: .unknownToken)
        guard merges.allSatisfy({ $0.count == 2 }) else {
            throw DecodingError.dataCorruptedError(forKey: .merges, in: container, debugDescription: "every merge must be a pair of tokens")
        }
        buildTables()
    }

    /// Decodes a tokenizer saved by ``json()``.
    public init(json: String) throws {
        self = try JSONDecoder().decode(BytePairEncoding.self, from: Data(json.utf8))
    }

    private mutating func buildTables() {
        tokens = specialTokens + alphabet + merges.map { $0[0] + $0[1] }
        for (id, token) in tokens.enumerated() where ids[token] == nil { ids[token] = id }
        for (rank, merge) in merges.enumerated() { mergeRanks[merge[0] + "\u{0}" + merge[1]] = rank }
    }

    public var vocabularySize: Int { tokens.count }

    /// The text of each token id (special tokens by name).
    public var vocabulary: [String] { tokens }

    public func encode(_ text: String) -> [Int] {
        var result: [Int] = []
        for word in BytePairEncoding.words(of: text) {
            var symbols = word.unicodeScalars.map { String($0) }
            // Apply the lowest-ranked (earliest learned) merge present, until none applies.
            while symbols.count > 1 {
                var bestRank = Int.max, bestPair: [String] = []
                for position in 0..<(symbols.count - 1) {
                    if let rank = mergeRanks[symbols[position] + "\u{0}" + symbols[position + 1]], rank < bestRank {
                        bestRank = rank
                        bestPair = [symbols[position], symbols[position + 1]]
                    }
                }
                if bestPair.isEmpty { break }
                symbols = BytePairEncoding.apply(merge: bestPair, to: symbols)
            }
            for symbol in symbols {
                if let id = ids[symbol] {
                    result.append(id)
                } else if let unknownToken, let id = id(ofSpecial: unknownToken) {
                    result.append(id)
                } else {
                    checkFailure("BytePairEncoding: the character \(symbol.debugDescription) is not in the vocabulary of \(vocabularySize) tokens")
                }
            }
        }
        return result
    }

    public func decode(_ ids: [Int]) -> String {
        ids.map { id in
            check(id >= 0 && id < vocabularySize, "BytePairEncoding: token id \(id) is outside the vocabulary of \(vocabularySize) tokens")
            return tokens[id]
        }.joined()
    }

    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    public static func == (a: BytePairEncoding, b: BytePairEncoding) -> Bool {
        a.specialTokens == b.specialTokens && a.alphabet == b.alphabet && a.merges == b.merges && a.unknownToken == b.unknownToken
    }

    // MARK: - Pieces

    /// Replaces each adjacent occurrence of `merge` in `symbols` by the joined token, left to right.
    static func apply(merge: [String], to symbols: [String]) -> [String] {
        var result: [String] = []
        result.reserveCapacity(symbols.count)
        var position = 0
        while position < symbols.count {
            if position + 1 < symbols.count && symbols[position] == merge[0] && symbols[position + 1] == merge[1] {
                result.append(merge[0] + merge[1])
                position += 2
            } else {
                result.append(symbols[position])
                position += 1
            }
        }
        return result
    }

    /// GPT-2's pre-tokenisation, without regular expressions: `" ?letters+"`, `" ?digits+"`,
    /// `" ?other+"`, or a run of whitespace. Concatenating the words gives back the text.
    public static func words(of text: String) -> [String] {
        enum Kind { case letter, digit, other, space }
        func kind(_ scalar: Unicode.Scalar) -> Kind {
            if scalar.properties.isWhitespace { return .space }
            if scalar.properties.isAlphabetic { return .letter }
            if scalar.properties.numericType != nil { return .digit }
            return .other
        }
        let scalars = Array(text.unicodeScalars)
        var words: [String] = []
        var position = 0
        while position < scalars.count {
            var end = position
            var current = kind(scalars[position])
            if scalars[position] == " ", position + 1 < scalars.count, kind(scalars[position + 1]) != .space {
                end += 1  // a single space joins the word after it
                current = kind(scalars[end])
            }
            while end < scalars.count, kind(scalars[end]) == current {
                // A run of spaces leaves its last space to the next word, as GPT-2's `\s+(?!\S)`.
                if current == .space, scalars[end] == " ", end + 1 < scalars.count, kind(scalars[end + 1]) != .space, end > position { break }
                end += 1
            }
            var word = String.UnicodeScalarView()
            word.append(contentsOf: scalars[position..<end])
            words.append(String(word))
            position = end
        }
        return words
    }
}
