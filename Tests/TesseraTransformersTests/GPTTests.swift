import Foundation
import Testing
import TesseraNN
import TesseraTensor
import TesseraTransformers

@Suite("GPT")
struct GPTTests {
    private func tinyModel(seed: UInt64 = 0, context: Int = 24) -> GPT {
        var rng = RandomGenerator(seed: seed)
        return GPT(GPTConfiguration(vocabularySize: 13, contextLength: context, layerCount: 2, headCount: 2,
                                    modelDimensions: 16), generator: &rng)
    }

    @Test func cachedAndUncachedGenerationAgree() {
        let model = tinyModel()
        let prompt = Tensor([[1, 5, 7, 2], [3, 3, 9, 12]])
        var first = RandomGenerator(seed: 9), second = RandomGenerator(seed: 9)
        let sampling = TokenSampling(temperature: 1.3, topK: 5)
        let cached = model.generate(prompt, newTokens: 16, sampling: sampling, useCache: true, generator: &first)
        let uncached = model.generate(prompt, newTokens: 16, sampling: sampling, useCache: false, generator: &second)
        #expect(cached.shape == [2, 20])
        #expect(cached.scalars == uncached.scalars)
        var third = RandomGenerator(seed: 0), fourth = RandomGenerator(seed: 0)
        #expect(model.generate(prompt, newTokens: 12, useCache: true, generator: &third).scalars
                == model.generate(prompt, newTokens: 12, useCache: false, generator: &fourth).scalars)
    }

    @Test func cachedLogitsEqualFullForwardLogits() {
        let model = tinyModel(seed: 2)
        let tokens = Tensor([[4, 8, 1, 0, 11, 6, 2]])
        let full = withoutGradients { model(tokens) }
        let caches = model.makeCaches()
        var pieces: [Tensor] = []
        withoutGradients {
            pieces.append(model(tokens.slice(alongAxis: 1, start: 0, end: 3), caches: caches))
            for position in 3..<7 { pieces.append(model(tokens.slice(alongAxis: 1, start: position, end: position + 1), caches: caches)) }
        }
        let incremental = Tensor.concatenate(pieces, alongAxis: 1)
        let difference = (incremental - full).abs().max().item
        #expect(difference < 1e-5, "largest difference \(difference)")
        #expect(caches.allSatisfy { $0.length == 7 })
    }

    @Test func predictionsDoNotDependOnLaterTokens() {
        let model = tinyModel(seed: 3)
        let a = withoutGradients { model(Tensor([[1, 2, 3, 4, 5, 6]])) }
        let b = withoutGradients { model(Tensor([[1, 2, 3, 9, 9, 9]])) }
        #expect(a.slice(alongAxis: 1, start: 0, end: 3).scalars == b.slice(alongAxis: 1, start: 0, end: 3).scalars)
    }

    @Test func topKSamplingNeverPicksOutsideTheTopK() {
        var rng = RandomGenerator(seed: 5)
        let logits = Tensor([[0, 5, 1, 4, 2, 3], [9, 0, 0, 8, 0, 7]])
        let sampling = TokenSampling(temperature: 2, topK: 2)
        var seen: Set<[Float]> = []
        for _ in 0..<200 {
            let picked = sampling.next(from: logits, generator: &rng).scalars
            #expect([1, 3].contains(picked[0]) && [0, 3].contains(picked[1]), "picked \(picked)")
            seen.insert(picked)
        }
        #expect(seen.count == 4, "every pair of the two top tokens should appear in 200 draws")
        #expect(TokenSampling.greedy.next(from: logits, generator: &rng).scalars == [1, 0])
    }

    @Test func trainingReducesLanguageModelLoss() {
        // A repeating pattern is learnable in a few dozen steps; the loss must fall well below
        // the uniform guess log(13) ≈ 2.56.
        let model = tinyModel(seed: 4)
        let optimizer = AdamW(parameters: model.namedParameters(), learningRate: 3e-3, weightDecay: 0)
        let pattern: [Float] = (0..<24).map { Float([1, 4, 7, 10, 2, 5][$0 % 6]) }
        let tokens = Tensor(shape: [2, 24], scalars: pattern + pattern.reversed())
        let initial = withoutGradients { model.loss(tokens).item }
        for _ in 0..<60 {
            optimizer.zeroGradients()
            let loss = model.loss(tokens)
            loss.backward()
            optimizer.step()
        }
        let final = withoutGradients { model.loss(tokens).item }
        #expect(initial > 2.3)
        #expect(final < 0.5, "loss went from \(initial) to \(final)")
    }

    @Test func sequenceLongerThanContextNamesLimitAndLength() async throws {
        let result = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var rng = RandomGenerator(seed: 0)
            let model = GPT(GPTConfiguration(vocabularySize: 5, contextLength: 4, layerCount: 1, headCount: 1,
                                             modelDimensions: 4), generator: &rng)
            _ = model(Tensor([[1, 2, 3, 4, 0, 1]]))
        }
        let message = String(decoding: result.standardErrorContent, as: UTF8.self)
        #expect(message.contains("a sequence of 6 tokens exceeds the context of 4 tokens"), "stderr: \(message)")
    }

    @Test func tokenOutsideVocabularyNamesVocabularyAndID() async throws {
        let result = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var rng = RandomGenerator(seed: 0)
            let model = GPT(GPTConfiguration(vocabularySize: 5, contextLength: 4, layerCount: 1, headCount: 1,
                                             modelDimensions: 4), generator: &rng)
            _ = model(Tensor([[1, 7]]))
        }
        let message = String(decoding: result.standardErrorContent, as: UTF8.self)
        #expect(message.contains("token id 7 is outside the vocabulary of 5 tokens"), "stderr: \(message)")
    }
}
