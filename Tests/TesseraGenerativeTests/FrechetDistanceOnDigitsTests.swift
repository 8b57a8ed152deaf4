import Foundation
import Testing
import TesseraData
import TesseraTensor
@testable import TesseraGenerative

/// The Fréchet distance on the digits themselves, with raw pixels as the features (the yardstick
/// proper uses a trained classifier's penultimate features; the distance's behaviour is the same
/// claim): held-out digits are close, noise is far, and blurring moves away monotonically.
@Suite struct FrechetDistanceOnDigitsTests {
    static func pixels(_ images: Tensor) -> Tensor { images.reshape([images.shape[0], -1]) }

    /// One 3 × 3 box blur with zero padding, `[N, 1, 8, 8]` in and out.
    static func blurred(_ images: Tensor) -> Tensor {
        images.conv2d(weight: Tensor.full([1, 1, 3, 3], 1 / 9), padding: 1)
    }

    @Test func heldOutDigitsAreCloseNoiseIsFarBlurIsMonotone() throws {
        let split = try Digits.split(seed: 15)
        let train = Self.pixels(split.train.inputs), test = split.test.inputs
        let heldOut = try frechetDistance(real: train, generated: Self.pixels(test))
        var generator = RandomGenerator(seed: 16)
        let noise = try frechetDistance(real: train, generated: Self.pixels(Tensor.randomUniform(test.shape, generator: &generator)))
        #expect(heldOut < 0.05 * noise, "held-out digits \(heldOut) vs uniform noise \(noise)")

        var images = test
        var distances = [heldOut]
        for _ in 0..<4 {
            images = Self.blurred(images)
            distances.append(try frechetDistance(real: train, generated: Self.pixels(images)))
        }
        for (sharper, blurrier) in zip(distances, distances.dropFirst()) {
            #expect(blurrier > sharper, "blurring must move away from the data: \(distances)")
        }
    }
}
