import Foundation
import Testing
import DigitsExample
import TesseraNN
import TesseraTensor

@Suite struct DigitsExampleTests {
    /// Training through the library products lowers the loss and classifies held-out digits; the
    /// saved checkpoint, read into a fresh model, gives the trained model's outputs exactly.
    @Test func trainSaveAndReload() throws {
        var generator = RandomGenerator(seed: 1)
        let model = MLP(sizes: [64, 32, 10], generator: &generator)
        let outcome = try DigitsExample.train(steps: 60, model: model)
        #expect(outcome.lastLoss < outcome.firstLoss / 2, "loss \(outcome.firstLoss) → \(outcome.lastLoss)")
        #expect(outcome.testAccuracy > 0.8, "held-out accuracy \(outcome.testAccuracy)")

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("digits-example-\(getpid()).tsr").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try DigitsExample.save(model, to: path)
        var other = RandomGenerator(seed: 2)
        let reloaded = MLP(sizes: [64, 32, 10], generator: &other)
        try DigitsExample.load(reloaded, from: path)
        let input = Tensor(shape: [3, 64]) { Float($0 % 17) / 16 }
        #expect(withoutGradients { reloaded(input).scalars } == withoutGradients { model(input).scalars })
    }
}
