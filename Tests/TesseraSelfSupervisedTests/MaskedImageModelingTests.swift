import Foundation
import Testing
import TesseraData
import TesseraSelfSupervised
import TesseraTensor

/// Masked image modelling with pixel targets: the mask, the targets, and a loss that sees masked patches only.
struct MaskedImageModelingTests {
    static func images(_ shape: [Int], seed: UInt64 = 1) -> Tensor {
        var generator = RandomGenerator(seed: seed)
        return Tensor.randomUniform(shape, generator: &generator)
    }

    @Test func maskedImageModelingMasksTheRatioAndTargetsEveryPatchsPixels() throws {
        let mim = try MaskedImageModeling(patchSize: 2, maskRatio: 0.5)
        let images = Self.images([3, 2, 8, 8])
        let task = try mim.batch(images, indices: [5, 6, 7], epoch: 1, seeds: SampleSeeds(seed: 3))
        #expect(task.mask.shape == [3, 16] && task.targets.shape == [3, 16, 8])
        #expect(task.mask.scalars.reduce(0, +) == 24)
        // Patch 5 (row 1, column 1) of image 0: channel 0 then 1, each 2×2 row by row.
        let expected = (0..<2).flatMap { channel in [(2, 2), (2, 3), (3, 2), (3, 3)].map { images[element: 0, channel, $0.0, $0.1] } }
        #expect(task.targets.select(alongAxis: 0, index: 0).select(alongAxis: 0, index: 5).scalars == expected)
        // Masked patches are zero in the input, visible ones untouched.
        let inputPatches = try mim.patches(task.inputs)
        for image in 0..<3 {
            for patch in 0..<16 {
                let row = inputPatches.select(alongAxis: 0, index: image).select(alongAxis: 0, index: patch).scalars
                let target = task.targets.select(alongAxis: 0, index: image).select(alongAxis: 0, index: patch).scalars
                #expect(row == (task.mask[element: image, patch] == 1 ? [Float](repeating: 0, count: 8) : target))
            }
        }
    }

    @Test func maskedImageModelingLossIgnoresVisiblePatchesAndEqualsTheHandValue() throws {
        let mim = try MaskedImageModeling(patchSize: 1, maskRatio: 0.5)
        // One image, 2 patches of 2 values; patch 1 masked.
        let targets = Tensor(shape: [1, 2, 2], scalars: [0, 0, 1, 2])
        let mask = Tensor(shape: [1, 2], scalars: [0, 1])
        let predictions = Tensor(shape: [1, 2, 2], scalars: [5, -5, 2, 0])
        // Masked patch: ((2 − 1)² + (0 − 2)²) / 2 = 2.5, over one masked patch.
        #expect(mim.loss(predictions: predictions, targets: targets, mask: mask).item == 2.5)
        let changed = Tensor(shape: [1, 2, 2], scalars: [100, 7, 2, 0])
        #expect(mim.loss(predictions: changed, targets: targets, mask: mask).item == 2.5)
        // And no gradient reaches the visible patch.
        let leaf = predictions.copy().requiringGradient()
        mim.loss(predictions: leaf, targets: targets, mask: mask).backward()
        #expect(leaf.grad!.scalars == [0, 0, 1, -2])
    }

    @Test func normalizedTargetsHaveZeroMeanAndUnitVariancePerPatch() throws {
        let mim = try MaskedImageModeling(patchSize: 2, maskRatio: 0.25, normalizeTargets: true)
        let task = try mim.batch(Self.images([2, 1, 4, 4]), indices: [0, 1], epoch: 0, seeds: SampleSeeds(seed: 1))
        for image in 0..<2 {
            for patch in 0..<4 {
                let values = task.targets.select(alongAxis: 0, index: image).select(alongAxis: 0, index: patch).scalars
                let mean = values.reduce(0, +) / 4, variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 4
                #expect(abs(mean) < 1e-5 && abs(variance - 1) < 1e-3, "patch \(patch): mean \(mean), variance \(variance)")
            }
        }
    }

    @Test func maskedImageModelingRefusesAMaskRatioOutsideZeroToOne() {
        for ratio: Float in [1, 1.5, -0.1] {
            do {
                _ = try MaskedImageModeling(patchSize: 2, maskRatio: ratio)
                Issue.record("maskRatio \(ratio) was accepted")
            } catch {
                #expect("\(error)".contains("maskRatio must be in [0, 1)"))
            }
        }
    }
}
