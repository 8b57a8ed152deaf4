import Foundation
import Testing
import TesseraTensor
@testable import TesseraNN

@Suite struct TrainingTests {
    /// Two Gaussian blobs per class arranged as XOR: separable, but not linearly.
    static func xorBlobs(count: Int, generator: inout RandomGenerator) -> (points: Tensor, labels: Tensor) {
        var points: [Float] = [], labels: [Float] = []
        let centers: [(Float, Float, Float)] = [(-1, -1, 0), (1, 1, 0), (-1, 1, 1), (1, -1, 1)]
        for i in 0..<count {
            let (x, y, label) = centers[i % 4]
            points += [x + 0.25 * generator.nextNormal(), y + 0.25 * generator.nextNormal()]
            labels.append(label)
        }
        return (Tensor(shape: [count, 2], scalars: points), Tensor(labels))
    }

    @Test func mlpWithAdamReachesFullTrainingAccuracyOnXorBlobs() {
        var rng = RandomGenerator(seed: 1)
        let (points, labels) = Self.xorBlobs(count: 128, generator: &rng)
        let model = MLP(sizes: [2, 32, 32, 2], activation: .relu, generator: &rng)
        let optimizer = Adam(parameters: model.namedParameters(), learningRate: 0.01)
        func accuracy() -> Float {
            withoutGradients { model(points).argmax(alongAxis: 1).equal(labels).mean().item }
        }
        #expect(accuracy() < 0.8, "the untrained model must not already solve the task")
        var firstLoss: Float = 0, lastLoss: Float = 0
        for step in 0..<200 {
            optimizer.zeroGradients()
            let loss = crossEntropy(logits: model(points), targets: labels)
            loss.backward()
            optimizer.step()
            if step == 0 { firstLoss = loss.item }
            lastLoss = loss.item
        }
        #expect(accuracy() == 1)
        #expect(lastLoss < 0.1 * firstLoss)
    }
}
