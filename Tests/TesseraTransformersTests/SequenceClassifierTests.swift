import Testing
import TesseraNN
import TesseraTensor
import TesseraTransformers

@Suite("Sequence classifier")
struct SequenceClassifierTests {
    @Test func majorityTokenLabelsAreTheStrictMajorityMarkerAndTheEvidenceMarksIt() {
        let task = MajorityTokenTask(markerCount: 4, fillerCount: 3, sequenceLength: 13)
        var generator = RandomGenerator(seed: 1)
        let batch = task.batch(count: 300, generator: &generator)
        #expect(batch.tokens.shape == [300, 13] && batch.labels.shape == [300] && batch.evidence.shape == [300, 13])
        let tokens = batch.tokens.scalars.map(Int.init), evidence = batch.evidence.scalars
        var labelCounts = [Int](repeating: 0, count: 4)
        for (row, label) in batch.labels.scalars.map(Int.init).enumerated() {
            let sequence = Array(tokens[(row * 13)..<((row + 1) * 13)])
            #expect(sequence.allSatisfy { (0..<task.vocabularySize).contains($0) })
            let counts = (0..<4).map { marker in sequence.filter { $0 == marker }.count }
            #expect(counts[label] >= 2 && counts.enumerated().allSatisfy { $0.offset == label || $0.element < counts[label] },
                    "row \(row): counts \(counts), label \(label)")
            #expect((0..<13).allSatisfy { (evidence[row * 13 + $0] == 1) == (sequence[$0] == label) })
            labelCounts[label] += 1
        }
        // Every class and every winner count up to the most that fits ((13 + 3) / 4 = 4) occur.
        #expect(labelCounts.allSatisfy { $0 > 40 }, "labels \(labelCounts)")
        #expect(task.maximumWinnerCount == 4)
        #expect(Set(batch.evidence.sum(alongAxes: [1]).scalars) == [2, 3, 4])
    }

    @Test func classifierOutputsOneLogitRowPerSequenceAndLearnsTheTask() {
        let task = MajorityTokenTask(markerCount: 3, fillerCount: 4, sequenceLength: 8)
        var generator = RandomGenerator(seed: 2)
        let model = SequenceClassifier(SequenceClassifierConfiguration(vocabularySize: task.vocabularySize, sequenceLength: 8, classCount: 3,
                                                                       layerCount: 1, headCount: 2, modelDimensions: 16),
                                       generator: &generator)
        let heldOut = task.batch(count: 200, generator: &generator)
        #expect(model(heldOut.tokens).shape == [200, 3])
        #expect(model.features(heldOut.tokens).shape == [200, 8, 16])
        func accuracy() -> Float { withoutGradients { model(heldOut.tokens).argmax(alongAxis: 1).equal(heldOut.labels).mean().item } }
        #expect(accuracy() < 0.6, "the untrained model must not solve the task already")
        let optimizer = Adam(parameters: model.namedParameters(), learningRate: 0.01)
        for _ in 0..<120 {
            let batch = task.batch(count: 32, generator: &generator)
            optimizer.zeroGradients()
            crossEntropy(logits: model(batch.tokens), targets: batch.labels).backward()
            optimizer.step()
        }
        #expect(accuracy() >= 0.9, "held-out accuracy \(accuracy()) after 120 steps")
    }
}
