import Foundation
import Testing
import TesseraData
import TesseraSelfSupervised
import TesseraTensor

/// Jigsaw puzzles (Noroozi & Favaro, 2016): the permutation set is distinct and far apart, and a label undoes its shuffle.
struct JigsawPuzzleTests {
    static func images(_ shape: [Int], seed: UInt64 = 1) -> Tensor {
        var generator = RandomGenerator(seed: seed)
        return Tensor.randomUniform(shape, generator: &generator)
    }

    @Test func jigsawPermutationsAreDistinctAndAtLeastTheDocumentedDistanceApart() throws {
        for (grid, count, documented) in JigsawPuzzle.documentedMinimumDistances {
            let jigsaw = try JigsawPuzzle(imageHeight: 6, imageWidth: 6, grid: grid, permutationCount: count)
            #expect(jigsaw.permutations.count == count)
            #expect(Set(jigsaw.permutations).count == count)
            #expect(jigsaw.permutations.allSatisfy { $0.sorted() == Array(0..<(grid * grid)) })
            var minimum = Int.max
            for a in 0..<count {
                for b in (a + 1)..<count {
                    minimum = min(minimum, zip(jigsaw.permutations[a], jigsaw.permutations[b]).filter { $0 != $1 }.count)
                }
            }
            #expect(minimum >= documented, "\(count) permutations of \(grid)×\(grid): minimum distance \(minimum)")
            #expect(jigsaw.minimumHammingDistance == minimum)
        }
    }

    @Test func unshufflingWithTheLabelRestoresTheImage() throws {
        let jigsaw = try JigsawPuzzle(imageHeight: 8, imageWidth: 8, grid: 2, permutationCount: 12)
        let images = Self.images([5, 2, 8, 8])
        let task = jigsaw.batch(images, indices: [0, 1, 2, 3, 4], epoch: 0, seeds: SampleSeeds(seed: 4))
        #expect(task.inputs.shape == images.shape)
        #expect(Set(task.labels.scalars).count > 1)
        for row in 0..<5 {
            let label = Int(task.labels.scalars[row])
            let shuffled = task.inputs.select(alongAxis: 0, index: row), original = images.select(alongAxis: 0, index: row)
            #expect(jigsaw.restore(shuffled, label: label).scalars == original.scalars)
            if label != 0 { #expect(shuffled.scalars != original.scalars) }
        }
        // On a 3 × 3 grid too: the second permutation moves every tile and is undone exactly.
        let nine = try JigsawPuzzle(imageHeight: 9, imageWidth: 9, grid: 3, permutationCount: 2)
        let image = Self.images([1, 9, 9], seed: 2)
        let shuffledNine = nine.shuffle(image, label: 1)
        #expect(nine.minimumHammingDistance == 9)
        #expect(nine.restore(shuffledNine, label: 1).scalars == image.scalars)
        let tileShown = nine.permutations[1][0]
        #expect(shuffledNine[element: 0, 0, 0] == image[element: 0, (tileShown / 3) * 3, (tileShown % 3) * 3])
        // Tile 3 (bottom right) shown at position 0 under a permutation starting with 3.
        let label = jigsaw.permutations.firstIndex { $0[0] == 3 }!
        let shuffled = jigsaw.shuffle(images.select(alongAxis: 0, index: 0), label: label)
        #expect(shuffled[element: 1, 0, 0] == images[element: 0, 1, 4, 4])
    }

    @Test func tilesComeInPositionOrderSoAShuffleReordersThem() throws {
        let jigsaw = try JigsawPuzzle(imageHeight: 8, imageWidth: 8, grid: 2, permutationCount: 12)
        let images = Self.images([2, 3, 8, 8], seed: 5)
        let tiles = jigsaw.tiles(images)
        #expect(tiles.shape == [2, 4, 3, 4, 4])
        // Tile 1 is the top-right quarter.
        #expect(tiles[element: 1, 1, 2, 0, 0] == images[element: 1, 2, 0, 4])
        let label = 5
        let shuffledTiles = jigsaw.tiles(jigsaw.shuffle(images.select(alongAxis: 0, index: 0), label: label).unsqueezed(axis: 0))
        for (position, tile) in jigsaw.permutations[label].enumerated() {
            #expect(shuffledTiles.select(alongAxis: 1, index: position).scalars
                == tiles.select(alongAxis: 0, index: 0).select(alongAxis: 0, index: tile).scalars)
        }
    }

    @Test func jigsawRefusesAGridThatDoesNotDivideTheImage() {
        #expect(throws: SelfSupervisedError.self) { try JigsawPuzzle(imageHeight: 8, imageWidth: 8, grid: 3, permutationCount: 10) }
        #expect(throws: SelfSupervisedError.self) { try JigsawPuzzle(imageHeight: 8, imageWidth: 8, grid: 2, permutationCount: 25) }
    }
}
