import Foundation
import Testing
import TesseraNN
import TesseraTensor
import TesseraTransformers

@Suite("Encoder–decoder and tasks")
struct SequenceModelTests {
    @Test func tasksProduceTheirExactAnswers() {
        #expect(SequenceTask.copy.target(for: [3, 1, 2]) == [3, 1, 2])
        #expect(SequenceTask.reverse.target(for: [3, 1, 2]) == [2, 1, 3])
        #expect(SequenceTask.sort.target(for: [3, 1, 2]) == [1, 2, 3])
        var rng = RandomGenerator(seed: 0)
        let batch = SequenceTask.reverse.batch(count: 4, lengths: 2...5, generator: &rng)
        #expect(batch.source.shape == [4, 5] && batch.decoderInput.shape == [4, 6] && batch.decoderTarget.shape == [4, 6])
        let source = batch.source.select(alongAxis: 0, index: 0).scalars.map(Int.init).filter { $0 < 10 }
        let target = batch.decoderTarget.select(alongAxis: 0, index: 0).scalars.map(Int.init)
        #expect(Array(target.prefix(source.count)) == source.reversed())
        #expect(target[source.count] == SequenceVocabulary.end)
        #expect(batch.decoderInput.scalars[0] == Float(SequenceVocabulary.start))
    }

    @Test func additionTokensRoundTrip() {
        let task = AdditionTask(digits: 3)
        let tokens = task.tokens(487, 596)  // 1083 reversed and padded to 4 digits: 3 8 0 1
        #expect(SequenceVocabulary.text(tokens) == "487+596=3801>")
        #expect(tokens.count == task.sequenceLength)
        #expect(task.sum(fromAnswer: Array(tokens[task.promptLength...])) == 1083)
        #expect(task.sum(fromAnswer: [1, SequenceVocabulary.plus, 0, 0]) == nil)
    }

    private func smallModel(seed: UInt64) -> EncoderDecoder {
        var rng = RandomGenerator(seed: seed)
        return EncoderDecoder(EncoderDecoderConfiguration(vocabularySize: SequenceVocabulary.size, contextLength: 12,
                                                          encoderLayerCount: 1, decoderLayerCount: 1, headCount: 2,
                                                          modelDimensions: 32, paddingToken: SequenceVocabulary.padding),
                              generator: &rng)
    }

    @Test func reversalTrainingImprovesTokenAccuracy() {
        let model = smallModel(seed: 1)
        let optimizer = Adam(parameters: model.namedParameters(), learningRate: 3e-3)
        var rng = RandomGenerator(seed: 2)
        var test = RandomGenerator(seed: 99)
        let held = SequenceTask.reverse.batch(count: 64, lengths: 3...5, generator: &test)
        func tokenAccuracy() -> Float {
            withoutGradients {
                let logits = model(source: held.source, decoderInput: held.decoderInput)
                let real = held.decoderTarget.notEqual(Tensor(Float(SequenceVocabulary.padding)))
                return (logits.argmax(alongAxis: -1).equal(held.decoderTarget) * real).sum().item / real.sum().item
            }
        }
        let before = tokenAccuracy()
        for _ in 0..<150 {
            let batch = SequenceTask.reverse.batch(count: 32, lengths: 3...5, generator: &rng)
            optimizer.zeroGradients()
            model.loss(source: batch.source, decoderInput: batch.decoderInput, decoderTarget: batch.decoderTarget).backward()
            optimizer.step()
        }
        let after = tokenAccuracy()
        #expect(before < 0.3)
        #expect(after > 0.6, "held-out token accuracy went from \(before) to \(after)")
    }

    @Test func greedyDecodingMatchesTheBestSingleBeam() {
        // A beam of width 1 is greedy decoding; both must produce the same tokens up to the end token.
        let model = smallModel(seed: 3)
        let source = Tensor([[4, 7, 1, 9]])
        let greedy = model.greedyDecode(source, startToken: SequenceVocabulary.start, endToken: SequenceVocabulary.end,
                                        maxLength: 8).scalars.map(Int.init)
        let beam = model.beamSearch(source, beamWidth: 1, startToken: SequenceVocabulary.start,
                                    endToken: SequenceVocabulary.end, maxLength: 8).tokens
        #expect(Array(greedy.prefix(beam.count)) == beam)
    }

    @Test func widerBeamsNeverScoreWorse() {
        let model = smallModel(seed: 4)
        let source = Tensor([[2, 2, 5, 0, 8]])
        let narrow = model.beamSearch(source, beamWidth: 1, startToken: SequenceVocabulary.start,
                                      endToken: SequenceVocabulary.end, maxLength: 6)
        let wide = model.beamSearch(source, beamWidth: 4, startToken: SequenceVocabulary.start,
                                    endToken: SequenceVocabulary.end, maxLength: 6)
        // With lengthPenalty 0 and the same maximum length, the wide search keeps the greedy path
        // among its candidates, so its best total log-probability is at least as high.
        #expect(wide.logProbability >= narrow.logProbability - 1e-4,
                "beam 4 scored \(wide.logProbability), beam 1 \(narrow.logProbability)")
    }
}
