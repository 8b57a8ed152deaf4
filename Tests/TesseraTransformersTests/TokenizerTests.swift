import Foundation
import Testing
import TesseraTransformers

@Suite("Tokenizers")
struct TokenizerTests {
    private let corpus = TextCorpus.generate(paragraphCount: 60, seed: 1)

    @Test func characterTokenizerRoundTripsAndSerialises() throws {
        let tokenizer = CharacterTokenizer(text: corpus, specialTokens: ["<pad>", "<unk>"], unknownToken: "<unk>")
        let sample = String(corpus.prefix(300))
        #expect(tokenizer.decode(tokenizer.encode(sample)) == sample)
        #expect(tokenizer.encode("~") == [1], "an unseen character becomes <unk>")
        let restored = try CharacterTokenizer(json: try tokenizer.json())
        #expect(restored == tokenizer)
        #expect(restored.encode(sample) == tokenizer.encode(sample))
    }

    @Test func bytePairEncodingCompressesAndRoundTrips() throws {
        let bpe = BytePairEncoding(training: corpus, vocabularySize: 200, specialTokens: ["<pad>"])
        #expect(bpe.vocabularySize == 200)
        let sample = String(corpus.suffix(500))
        let ids = bpe.encode(sample)
        #expect(bpe.decode(ids) == sample)
        #expect(ids.count * 2 < sample.unicodeScalars.count, "\(ids.count) tokens for \(sample.unicodeScalars.count) characters")
        let restored = try BytePairEncoding(json: try bpe.json())
        #expect(restored == bpe)
        #expect(restored.encode(sample) == ids)
    }

    @Test func bytePairEncodingMergesTheMostFrequentPairFirst() {
        // "ab" occurs 4 times, "bc" twice: the first merge must be (a, b).
        let bpe = BytePairEncoding(training: "ab ab ab abc bc", vocabularySize: 8)
        #expect(bpe.merges.first == ["a", "b"])
        #expect(bpe.encode("ab") == [bpe.vocabulary.firstIndex(of: "ab")!])
    }

    @Test func wordsNeverCrossSpacesAndRejoinToTheText() {
        let text = "The mill,  by the river\n\nran 42 times."
        let words = BytePairEncoding.words(of: text)
        #expect(words.joined() == text)
        #expect(words.contains(" mill") && words.contains(" river") && words.contains(" 42"))
    }

    @Test func corpusIsDeterministicAndSplitsAtParagraphs() {
        #expect(TextCorpus.generate(paragraphCount: 5, seed: 3) == TextCorpus.generate(paragraphCount: 5, seed: 3))
        #expect(TextCorpus.generate(paragraphCount: 5, seed: 3) != TextCorpus.generate(paragraphCount: 5, seed: 4))
        let (train, held) = TextCorpus.split(corpus, trainFraction: 0.9)
        #expect(train + held == corpus)
        #expect(!held.isEmpty && held.count < corpus.count / 5)
    }
}
