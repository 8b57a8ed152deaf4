import Foundation
import Testing
import TesseraData
import TesseraNN
import TesseraSelfSupervised
import TesseraTensor

/// Rotation prediction learns something: a small MLP trained on the rotated training digits
/// tells the four rotations of held-out digits apart far above the 25% of chance.
struct RotationLearningTests {
    @Test func anMLPLearnsToTellTheRotationOfHeldOutDigits() throws {
        let split = try Digits.split(layout: .image, seed: 0)
        var generator = RandomGenerator(seed: 21)
        let model = MLP(sizes: [64, 128, RotationPrediction.classCount], generator: &generator)
        let optimizer = Adam(parameters: model.namedParameters(), learningRate: 3e-3)
        let test = try RotationPrediction.batch(split.test.batch(at: Array(0..<split.test.count)).inputs)
        func heldOutAccuracy() -> Double {
            let predictions = withoutGradients { model(test.inputs.reshape([test.inputs.shape[0], 64])).argmax(alongAxis: 1) }
            return Double(zip(predictions.scalars, test.labels.scalars).filter { $0 == $1 }.count) / Double(test.labels.count)
        }
        let untrained = heldOutAccuracy()
        let trainCount = split.train.count, batchSize = 32, steps = 300
        var order = generator.permutation(trainCount), cursor = 0
        let started = Date()
        for _ in 0..<steps {
            if cursor + batchSize > trainCount { (order, cursor) = (generator.permutation(trainCount), 0) }
            let indices = Array(order[cursor..<(cursor + batchSize)])
            cursor += batchSize
            let task = try RotationPrediction.batch(split.train.batch(at: indices).inputs)
            let loss = RotationPrediction.loss(logits: model(task.inputs.reshape([4 * batchSize, 64])), labels: task.labels)
            optimizer.zeroGradients()
            loss.backward()
            optimizer.step()
        }
        let trainingSeconds = Date().timeIntervalSince(started)

        let accuracy = heldOutAccuracy()
        print("rotation prediction: held-out accuracy \(untrained) untrained, \(accuracy) after \(steps) steps in \(trainingSeconds) s")
        // Measured (debug build): 0.951 after 300 steps of 32 digits × 4 turns, 2.5 s of training.
        #expect(untrained < 0.4, "an untrained model should be near chance, got \(untrained)")
        #expect(accuracy >= 0.85, "held-out rotation accuracy \(accuracy), chance 0.25")
    }
}
