import Foundation
import Testing
import TesseraData
import TesseraSelfSupervised
import TesseraTensor

/// Rotation prediction (Gidaris et al., 2018): exact quarter turns and the four-turn batch.
struct RotationPredictionTests {
    static func images(_ shape: [Int], seed: UInt64 = 1) -> Tensor {
        var generator = RandomGenerator(seed: seed)
        return Tensor.randomUniform(shape, generator: &generator)
    }

    @Test func fourQuarterTurnsAreTheIdentityAndOneIsACounterClockwiseTurn() {
        let images = Self.images([2, 3, 5, 5])
        var turned = images
        for _ in 0..<4 { turned = RotationPrediction.rotate(turned, quarterTurns: 1) }
        #expect(turned.scalars == images.scalars)
        // The top-right pixel moves to the top-left under a counter-clockwise quarter turn.
        let once = RotationPrediction.rotate(images, quarterTurns: 1)
        #expect(once[element: 1, 2, 0, 0] == images[element: 1, 2, 0, 4])
        #expect(RotationPrediction.rotate(images, quarterTurns: 3).scalars
            == RotationPrediction.rotate(RotationPrediction.rotate(images, quarterTurns: 2), quarterTurns: 1).scalars)
        #expect(RotationPrediction.rotate(images, quarterTurns: -1).scalars == RotationPrediction.rotate(images, quarterTurns: 3).scalars)
        // Agrees with the interpolating rotation at 90°.
        let image = images.select(alongAxis: 0, index: 0)
        let interpolated = RandomRotation.rotate(image, degrees: 90)
        let exact = RotationPrediction.rotate(image, quarterTurns: 1)
        #expect(zip(interpolated.scalars, exact.scalars).allSatisfy { abs($0 - $1) < 1e-4 })
    }

    @Test func rotationBatchHoldsAllFourTurnsOfEachImageWithTheirLabels() throws {
        let images = Self.images([3, 1, 4, 4])
        let task = try RotationPrediction.batch(images)
        #expect(task.inputs.shape == [12, 1, 4, 4])
        #expect(task.labels.scalars == [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3])
        for row in 0..<12 {
            let original = images.select(alongAxis: 0, index: row / 4)
            #expect(task.inputs.select(alongAxis: 0, index: row).scalars
                == RotationPrediction.rotate(original, quarterTurns: row % 4).scalars)
        }
        #expect(throws: SelfSupervisedError.self) { try RotationPrediction.batch(Self.images([1, 1, 4, 6])) }
    }
}
