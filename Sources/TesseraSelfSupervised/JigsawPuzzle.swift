import TesseraNN
import TesseraTensor

/// Jigsaw puzzles (Noroozi & Favaro, "Unsupervised Learning of Visual Representations by
/// Solving Jigsaw Puzzles", ECCV 2016): the image is cut into a `grid × grid` array of tiles,
/// the tiles are shuffled by one permutation of a fixed set, and the network predicts which
/// permutation it was. Putting the tiles back needs to know what parts objects have and where
/// they go.
///
/// The set is chosen greedily for large Hamming distance (the paper's §3.2 and Algorithm 1): the
/// more the permutations differ, the less a network can tell them apart by a single tile's
/// position, and the paper's transfer accuracy rose with the distance. Algorithm 1 adds the
/// candidate with the largest *summed* distance to the chosen set; here each step adds the
/// candidate with the largest *minimum* distance (farthest-point selection), so the set's
/// minimum distance, ``minimumHammingDistance``, is as large as the greedy order allows. The
/// first permutation is the identity and ties go to the lexicographically first candidate, so
/// the set is a fixed function of `(grid, permutationCount)`. Measured minimum distances are in
/// ``documentedMinimumDistances``: on the 2 × 2 grid of 8×8 digits (24 candidates) 4
/// permutations move every tile (distance 4) and 12 keep distance 3; on the paper's 3 × 3 grid
/// 30 keep 7 and 100 keep 6 (1.0 s and 3.0 s to choose in a debug build).
///
/// ```swift
/// let jigsaw = try JigsawPuzzle(imageHeight: 8, imageWidth: 8, grid: 2, permutationCount: 12)
/// let task = jigsaw.batch(batch.inputs, indices: indices, epoch: epoch, seeds: SampleSeeds(seed: 3))
/// let loss = JigsawPuzzle.loss(logits: model(task.inputs), labels: task.labels)
/// ```
public struct JigsawPuzzle {
    /// Tiles per side.
    public let grid: Int
    public let imageHeight: Int
    public let imageWidth: Int
    /// The fixed set: `permutations[k][p]` is the input tile shown at position `p` under label k.
    public let permutations: [[Int]]
    /// The smallest Hamming distance between two permutations of the set.
    public let minimumHammingDistance: Int

    /// Measured minimum Hamming distances of sets by grid and permutation count, for choosing a
    /// count (the tests hold the sets to them): up to 4 permutations of 2 × 2 tiles are pairwise
    /// derangements.
    public static let documentedMinimumDistances: [(grid: Int, permutationCount: Int, distance: Int)] = [
        (2, 4, 4), (2, 12, 3), (2, 24, 2), (3, 30, 7),
    ]

    /// Throws unless the grid divides the image and `2 ≤ permutationCount ≤ (grid²)!`.
    /// Enumerates all `(grid²)!` permutations, so grids above 3 are refused (16! candidates).
    public init(imageHeight: Int, imageWidth: Int, grid: Int, permutationCount: Int) throws {
        guard grid >= 2 && grid <= 3 else { throw SelfSupervisedError("jigsaw: grid must be 2 or 3, got \(grid)") }
        guard imageHeight > 0 && imageWidth > 0 && imageHeight % grid == 0 && imageWidth % grid == 0 else {
            throw SelfSupervisedError("jigsaw: grid \(grid) does not divide the \(imageHeight)×\(imageWidth) image")
        }
        let tiles = grid * grid
        let candidates = Self.allPermutations(tiles)
        let candidateCount = candidates.count / tiles
        guard permutationCount >= 2 && permutationCount <= candidateCount else {
            throw SelfSupervisedError("jigsaw: permutationCount must be in 2...\(candidateCount) for a \(grid)×\(grid) grid, got \(permutationCount)")
        }
        self.grid = grid
        self.imageHeight = imageHeight
        self.imageWidth = imageWidth
        (permutations, minimumHammingDistance) = Self.farthestPermutations(candidates, length: tiles, count: permutationCount)
    }

    /// Number of classes.
    public var classCount: Int { permutations.count }

    /// Every permutation of `0..<length` in lexicographic order (the identity first), flat:
    /// permutation k is `[k·length, (k+1)·length)`. Bytes, and one flat array, because the 3 × 3
    /// grid has 9! = 362,880 candidates: as that many small arrays, choosing 30 permutations took
    /// 56 s in a debug build, flat 1.0 s.
    static func allPermutations(_ length: Int) -> [UInt8] {
        var current = (0..<length).map(UInt8.init), flat: [UInt8] = []
        while true {
            flat += current
            // The next permutation in lexicographic order (Narayana Pandita's rule).
            guard let pivot = (0..<(length - 1)).last(where: { current[$0] < current[$0 + 1] }) else { return flat }
            let successor = ((pivot + 1)..<length).last { current[$0] > current[pivot] }!
            current.swapAt(pivot, successor)
            current[(pivot + 1)...].reverse()
        }
    }

    /// Greedy farthest-point selection from the identity over the flat `candidates`; returns the
    /// set and its minimum distance.
    static func farthestPermutations(_ candidates: [UInt8], length: Int, count: Int) -> ([[Int]], Int) {
        let candidateCount = candidates.count / length
        func permutation(_ index: Int) -> [Int] { candidates[(index * length)..<((index + 1) * length)].map(Int.init) }
        // Each candidate's distance to the nearest chosen permutation; the identity is chosen first.
        var nearest = [Int](repeating: Int.max, count: candidateCount)
        var chosen: [Int] = [], minimum = Int.max
        var next = 0
        while true {
            chosen.append(next)
            if chosen.count == count { break }
            candidates.withUnsafeBufferPointer { flat in
                nearest.withUnsafeMutableBufferPointer { nearest in
                    let picked = flat.baseAddress! + next * length
                    var best = 0
                    for index in 0..<candidateCount {
                        let candidate = flat.baseAddress! + index * length
                        var distance = 0
                        for position in 0..<length where candidate[position] != picked[position] { distance += 1 }
                        if distance < nearest[index] { nearest[index] = distance }
                        if nearest[index] > nearest[best] { best = index }
                    }
                    next = best
                }
            }
            minimum = Swift.min(minimum, nearest[next])
        }
        return (chosen.map(permutation), minimum)
    }

    /// `image` `[C, H, W]` with its tiles rearranged so that position `p` shows tile `order[p]`.
    func arrange(_ image: Tensor, _ order: [Int]) -> Tensor {
        let channels = image.shape[0]
        let tileHeight = imageHeight / grid, tileWidth = imageWidth / grid
        let output = Tensor.zeros(image.shape)
        for (position, tile) in order.enumerated() {
            let targetTop = (position / grid) * tileHeight, targetLeft = (position % grid) * tileWidth
            let sourceTop = (tile / grid) * tileHeight, sourceLeft = (tile % grid) * tileWidth
            for channel in 0..<channels {
                for row in 0..<tileHeight {
                    let plane = channel * imageHeight * imageWidth
                    (output.storage.pointer + plane + (targetTop + row) * imageWidth + targetLeft)
                        .update(from: image.storage.pointer + plane + (sourceTop + row) * imageWidth + sourceLeft, count: tileWidth)
                }
            }
        }
        return output
    }

    /// One image `[C, H, W]` shuffled by permutation `label`.
    public func shuffle(_ image: Tensor, label: Int) -> Tensor {
        precondition(image.rank == 3 && image.shape[1] == imageHeight && image.shape[2] == imageWidth,
                     "JigsawPuzzle: expected an image [C, \(imageHeight), \(imageWidth)], got \(image.shape)")
        return arrange(image, permutations[label])
    }

    /// The image a shuffled one came from: tile `permutations[label][p]` goes back from position p.
    public func restore(_ shuffled: Tensor, label: Int) -> Tensor {
        var inverse = [Int](repeating: 0, count: grid * grid)
        for (position, tile) in permutations[label].enumerated() { inverse[tile] = position }
        return arrange(shuffled, inverse)
    }

    /// The pretext batch of `images` `[N, C, H, W]` (rows are the samples `indices`): each image
    /// shuffled by a permutation drawn uniformly from the set with the stream of
    /// `(epoch, indices[n], view 0)`; `labels` `[N]` are the permutation indices.
    public func batch(_ images: Tensor, indices: [Int], epoch: Int, seeds: SampleSeeds) -> (inputs: Tensor, labels: Tensor) {
        precondition(images.rank == 4 && indices.count == images.shape[0],
                     "JigsawPuzzle: expected [N, C, H, W] images and N indices, got \(images.shape) and \(indices.count)")
        var labels: [Float] = []
        let inputs = Tensor.stack((0..<images.shape[0]).map { position in
            var generator = seeds.generator(epoch: epoch, sample: indices[position], view: 0)
            let label = generator.nextInt(below: classCount)
            labels.append(Float(label))
            return shuffle(images.select(alongAxis: 0, index: position), label: label)
        })
        return (inputs, Tensor(labels))
    }

    /// The tiles of images `[N, C, H, W]` in position order, `[N, grid², C, H/grid, W/grid]`: the
    /// paper's context-free network embeds each tile with one shared trunk and classifies the
    /// concatenated embeddings, so no layer sees across a tile border.
    public func tiles(_ images: Tensor) -> Tensor {
        precondition(images.rank == 4 && images.shape[2] == imageHeight && images.shape[3] == imageWidth,
                     "JigsawPuzzle.tiles: expected [N, C, \(imageHeight), \(imageWidth)], got \(images.shape)")
        let (count, channels) = (images.shape[0], images.shape[1])
        return images.reshape([count, channels, grid, imageHeight / grid, grid, imageWidth / grid])
            .permuted([0, 2, 4, 1, 3, 5])
            .reshape([count, grid * grid, channels, imageHeight / grid, imageWidth / grid])
    }

    /// Cross entropy of the permutation logits `[N, permutationCount]` against the labels `[N]`.
    public static func loss(logits: Tensor, labels: Tensor) -> Tensor {
        crossEntropy(logits: logits, targets: labels)
    }
}
