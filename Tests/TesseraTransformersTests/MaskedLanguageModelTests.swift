import Foundation
import Testing
import TesseraNN
import TesseraTensor
import TesseraTransformers

@Suite("Masked language model")
struct MaskedLanguageModelTests {
    private let special = SpecialTokens(padding: 0, classification: 1, separator: 2, mask: 3)

    private func model(seed: UInt64 = 0, vocabulary: Int = 30) -> MaskedLanguageModel {
        var rng = RandomGenerator(seed: seed)
        return MaskedLanguageModel(MaskedLanguageModelConfiguration(vocabularySize: vocabulary, contextLength: 16,
                                                                    layerCount: 1, headCount: 2, modelDimensions: 16,
                                                                    specialTokens: special), generator: &rng)
    }

    @Test func maskingFollowsTheEightyTenTenRule() {
        let bert = model()
        var rng = RandomGenerator(seed: 1)
        let tokens = Tensor(shape: [400, 50]) { _ in Float(4 + rng.nextInt(below: 26)) }
        let masked = bert.mask(tokens, generator: &rng)
        let original = tokens.scalars, inputs = masked.inputs.scalars, targets = masked.targets.scalars
        var chosen = 0, maskedCount = 0, kept = 0, replaced = 0
        for i in original.indices where targets[i] != MaskedTokens.ignored {
            chosen += 1
            #expect(targets[i] == original[i])
            if inputs[i] == Float(special.mask) { maskedCount += 1 } else if inputs[i] == original[i] { kept += 1 } else { replaced += 1 }
        }
        let total = Double(original.count)
        #expect(abs(Double(chosen) / total - 0.15) < 0.01, "chose \(chosen) of \(original.count)")
        // A random replacement equals the original 1 time in 26, so "kept" gains ~0.4%.
        #expect(abs(Double(maskedCount) / Double(chosen) - 0.8) < 0.02)
        #expect(abs(Double(replaced) / Double(chosen) - 0.1 * 25 / 26) < 0.02)
        #expect(abs(Double(kept) / Double(chosen) - (0.1 + 0.1 / 26)) < 0.02)
        // Unchosen positions are untouched.
        #expect(original.indices.allSatisfy { targets[$0] != MaskedTokens.ignored || inputs[$0] == original[$0] })
    }

    @Test func specialTokensAreNeverChosen() {
        let bert = model()
        var rng = RandomGenerator(seed: 2)
        let pair = bert.sentencePair([5, 6, 7], [8, 9], length: 12)
        let tokens = Tensor(shape: [300, 12], scalars: Array(repeating: pair.tokens.map(Float.init), count: 300).flatMap { $0 })
        let masked = bert.mask(tokens, rate: 0.9, generator: &rng)
        let targets = masked.targets.scalars
        for (index, token) in tokens.scalars.enumerated() where [0, 1, 2, 3].contains(Int(token)) {
            #expect(targets[index] == MaskedTokens.ignored)
        }
    }

    @Test func sentencePairHasClassSeparatorsAndSegments() {
        let pair = model().sentencePair([5, 6, 7], [8, 9], length: 10)
        #expect(pair.tokens == [1, 5, 6, 7, 2, 8, 9, 2, 0, 0])
        #expect(pair.segments == [0, 0, 0, 0, 0, 1, 1, 1, 0, 0])
    }

    @Test func segmentsChangeTheFeatures() {
        let bert = model(seed: 3)
        let pair = bert.sentencePair([5, 6], [7, 8], length: 8)
        let tokens = Tensor(shape: [1, 8], scalars: pair.tokens.map(Float.init))
        let withSegments = withoutGradients { bert.features(tokens, segments: Tensor(shape: [1, 8], scalars: pair.segments.map(Float.init))) }
        let without = withoutGradients { bert.features(tokens) }
        #expect(withSegments.scalars != without.scalars)
    }

    @Test func trainingRaisesMaskedTokenAccuracy() {
        // Sequences count upward by one (5 6 7 8 …), so a masked token is predictable from its neighbours.
        let bert = model(seed: 4)
        let optimizer = Adam(parameters: bert.namedParameters(), learningRate: 3e-3)
        var rng = RandomGenerator(seed: 5)
        func batch(_ count: Int) -> Tensor {
            Tensor(shape: [count, 12], scalars: (0..<count).flatMap { _ -> [Float] in
                let start = 4 + rng.nextInt(below: 14)
                return (0..<12).map { Float(start + $0) }
            })
        }
        var heldRng = RandomGenerator(seed: 77)
        let heldTokens = Tensor(shape: [64, 12], scalars: (0..<64).flatMap { _ -> [Float] in
            let start = 4 + heldRng.nextInt(below: 14)
            return (0..<12).map { Float(start + $0) }
        })
        let held = bert.mask(heldTokens, rate: 0.15, generator: &heldRng)
        func accuracy() -> Float {
            withoutGradients {
                let chosen = held.targets.notEqual(Tensor(MaskedTokens.ignored))
                return (bert(held.inputs).argmax(alongAxis: -1).equal(held.targets) * chosen).sum().item / chosen.sum().item
            }
        }
        let before = accuracy()
        for _ in 0..<200 {
            let masked = bert.mask(batch(32), generator: &rng)
            optimizer.zeroGradients()
            bert.loss(masked).backward()
            optimizer.step()
        }
        let after = accuracy()
        #expect(after > 0.5 && after > before + 0.3, "masked-token accuracy went from \(before) to \(after)")
    }
}
