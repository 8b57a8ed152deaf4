import Foundation
import Testing
import TesseraTensor
@testable import TesseraData

@Suite("Augmentations")
struct AugmentationTests {
    static func randomImages(_ shape: [Int], seed: UInt64 = 0) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        return Tensor.randomUniform(shape, generator: &rng)
    }

    static func maximumDifference(_ a: Tensor, _ b: Tensor) -> Float {
        zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
    }

    @Test func flippingTwiceRestoresTheImageAndOnceMirrorsColumns() {
        let image = Self.randomImages([3, 5, 7])
        let flipped = RandomHorizontalFlip.flip(image)
        #expect(flipped.scalars != image.scalars)
        #expect(flipped[element: 2, 4, 0] == image[element: 2, 4, 6])
        #expect(RandomHorizontalFlip.flip(flipped).scalars == image.scalars)
        var rng = RandomGenerator(seed: 1)
        let always = RandomHorizontalFlip(probability: 1)(image, generator: &rng)
        #expect(always.scalars == flipped.scalars)
    }

    @Test func resizedCropHasTheRequestedSizeForImagesAndBatches() {
        var rng = RandomGenerator(seed: 2)
        let crop = RandomResizedCrop(height: 6, width: 5, scale: 0.3...1)
        #expect(crop(Self.randomImages([3, 8, 8]), generator: &rng).shape == [3, 6, 5])
        #expect(crop(Self.randomImages([4, 1, 8, 8]), generator: &rng).shape == [4, 1, 6, 5])
        for _ in 0..<50 {
            let box = crop.cropBox(imageHeight: 8, imageWidth: 10, generator: &rng)
            #expect(box.top >= 0 && box.left >= 0 && box.top + box.height <= 8 && box.left + box.width <= 10)
        }
    }

    @Test func resizedCropOfTheWholeImageAtItsSizeIsIdentityAndUpsamplingInterpolates() {
        let image = Self.randomImages([2, 6, 6])
        let same = RandomResizedCrop.resizedCrop(image, top: 0, left: 0, height: 6, width: 6, outputHeight: 6, outputWidth: 6)
        #expect(Self.maximumDifference(same, image) < 1e-6)
        // A 1×2 ramp [0, 1] stretched to width 4: half-pixel centres sample at -0.25, 0.25, 0.75, 1.25.
        let ramp = Tensor(shape: [1, 1, 2], scalars: [0, 1])
        let stretched = RandomResizedCrop.resizedCrop(ramp, top: 0, left: 0, height: 1, width: 2, outputHeight: 1, outputWidth: 4)
        #expect(stretched.scalars == [0, 0.25, 0.75, 1])
    }

    @Test func rotationByZeroIsIdentityAndByNinetyIsTransposeThenFlip() {
        let image = Self.randomImages([2, 8, 8], seed: 3)
        #expect(Self.maximumDifference(RandomRotation.rotate(image, degrees: 0), image) < 1e-6)
        // Counter-clockwise quarter turn = numpy's rot90 = transpose, then reverse the rows.
        let expected = image.transposed(-2, -1).flipped(alongAxes: [1])
        #expect(Self.maximumDifference(RandomRotation.rotate(image, degrees: 90), expected) < 1e-4)
        let rectangle = Self.randomImages([1, 4, 6], seed: 4)
        let halfTurn = RandomRotation.rotate(rectangle, degrees: 180)
        #expect(Self.maximumDifference(halfTurn, rectangle.flipped(alongAxes: [1, 2])) < 1e-4)
    }

    @Test func rotationFillsCornersThatComeFromOutside() {
        let ones = Tensor.ones([1, 9, 9])
        let rotated = RandomRotation.rotate(ones, degrees: 45, fill: 0)
        #expect(rotated[element: 0, 0, 0] == 0)
        #expect(abs(rotated[element: 0, 4, 4] - 1) < 1e-6)
    }

    @Test func blurKeepsAConstantImageAndSmoothsNoise() {
        let constant = Tensor.full([3, 7, 7], 0.4)
        let blurredConstant = GaussianBlur.blur(constant, sigma: 1.5)
        #expect(Self.maximumDifference(blurredConstant, constant) < 1e-6)
        let noise = Self.randomImages([1, 16, 16], seed: 5)
        let smoothed = GaussianBlur.blur(noise, sigma: 1)
        #expect(abs(smoothed.mean().item - noise.mean().item) < 0.02)
        #expect(smoothed.variance().item < 0.5 * noise.variance().item)
        // A single bright pixel spreads symmetrically.
        let impulse = Tensor.zeros([1, 5, 5])
        impulse.storage.pointer[12] = 1
        let spread = GaussianBlur.blur(impulse, sigma: 0.8, kernelSize: 3)
        #expect(spread[element: 0, 2, 1] == spread[element: 0, 2, 3] && spread[element: 0, 1, 2] == spread[element: 0, 3, 2])
        #expect(abs(spread.sum().item - 1) < 1e-5)
    }

    @Test func patchMaskingCoversTheRequestedRatio() {
        var rng = RandomGenerator(seed: 6)
        let images = Self.randomImages([3, 2, 8, 8], seed: 7) + 1   // all pixels ≥ 1, so masked ones stand out
        let (masked, masks) = PatchMasking(patchSize: 2, maskRatio: 0.4, fillValue: 0).mask(images, generator: &rng)
        #expect(masks.shape == [3, 4, 4])
        for index in 0..<3 {
            #expect(masks.scalars[(index * 16)..<((index + 1) * 16)].reduce(0, +) == 6)   // round(0.4 × 16)
        }
        // Pixel (n, c, y, x) is zero exactly where its patch is masked, and unchanged elsewhere.
        for n in 0..<3 {
            for c in 0..<2 {
                for y in 0..<8 {
                    for x in 0..<8 {
                        let isMasked = masks[element: n, y / 2, x / 2] == 1
                        let value = masked[element: n, c, y, x]
                        #expect(isMasked ? value == 0 : value == images[element: n, c, y, x])
                    }
                }
            }
        }
        #expect(masks.scalars[0..<16] != masks.scalars[16..<32])
    }

    @Test func colorJitterStaysInUnitIntervalAndKeepsContrastOrder() {
        var rng = RandomGenerator(seed: 8)
        let image = Self.randomImages([1, 8, 8], seed: 9)
        let jitter = ColorJitter(brightness: 0.8, contrast: 0.8)
        for _ in 0..<20 {
            let output = jitter(image, generator: &rng)
            #expect(output.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
            // Both steps are increasing maps of the pixel value (before clamping), so order is kept.
            #expect(output[element: 0, 0, 0] <= output[element: 0, 0, 1] || image[element: 0, 0, 0] > image[element: 0, 0, 1])
        }
    }

    @Test func sameSeedGivesTheSameViewsAndViewsDiffer() {
        let pipeline = Compose([
            RandomResizedCrop(height: 8, width: 8, scale: 0.4...1),
            RandomHorizontalFlip(),
            RandomApply(ColorJitter(), probability: 0.8),
            RandomRotation(degrees: -20...20),
            GaussianBlur(sigma: 0.1...1),
            GaussianNoise(standardDeviation: 0.05),
        ])
        let batch = Self.randomImages([4, 1, 8, 8], seed: 10)
        var first = RandomGenerator(seed: 11), second = RandomGenerator(seed: 11), other = RandomGenerator(seed: 12)
        let (a1, b1) = TwoViews(pipeline)(batch, generator: &first)
        let (a2, b2) = TwoViews(pipeline)(batch, generator: &second)
        let (a3, _) = TwoViews(pipeline)(batch, generator: &other)
        #expect(a1.shape == [4, 1, 8, 8] && b1.shape == [4, 1, 8, 8])
        #expect(a1.scalars == a2.scalars && b1.scalars == b2.scalars)
        #expect(a1.scalars != b1.scalars)
        #expect(a1.scalars != a3.scalars)
    }
}
