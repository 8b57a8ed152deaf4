import TesseraTensor

/// Where a `DataLoader` is in its stream of batches. A checkpoint stores this value (it is
/// `Codable`); a loader resumed from it yields exactly the batches the uninterrupted run would
/// have yielded next, because each epoch's order is recomputed from `(seed, epoch)` alone.
public struct DataLoaderPosition: Codable, Equatable, Hashable, Sendable {
    /// The epoch being read, from 0.
    public var epoch: Int
    /// How many batches of this epoch have been handed out (the next batch's index).
    public var batchIndexInEpoch: Int
    /// The shuffling seed: epoch `e` is ordered by `RandomGenerator(seed: seed).derived(stream: e)`.
    public var seed: UInt64

    public init(epoch: Int = 0, batchIndexInEpoch: Int = 0, seed: UInt64) {
        self.epoch = epoch
        self.batchIndexInEpoch = batchIndexInEpoch
        self.seed = seed
    }
}

/// Cuts a data set into batches, epoch after epoch, reproducibly and shardable across ranks.
///
/// **Order.** Epoch `e` visits the examples in the *global order*
/// `RandomGenerator(seed: seed).derived(stream: UInt64(e)).permutation(count)` (or `0..<count`
/// without shuffling). It depends only on `(seed, epoch, count)` — not on the rank, the world
/// size, or how many batches were read before — so any position can be recomputed from scratch.
///
/// **Global batches.** Global batch `b` of an epoch is positions `b·batchSize ..< (b+1)·batchSize`
/// of the global order. With `dropLast` the final partial batch is skipped, so an epoch has
/// `count / batchSize` batches; otherwise `ceil(count / batchSize)` and the last may be smaller.
/// `batchSize` is the *global* batch size: the same for every world size.
///
/// **Sharding.** Rank `r` of `worldSize` takes the contiguous slice
/// `⌊r·n/W⌋ ..< ⌊(r+1)·n/W⌋` of each global batch of `n` examples. The slices are disjoint and
/// their union, in rank order, is the global batch — so at every step the ranks together see
/// exactly what a single process would see, for any world size. Shard sizes differ by at most
/// one; for data-parallel training with averaged gradients choose `batchSize` divisible by
/// `worldSize` and `dropLast: true` so every rank gets `batchSize / worldSize` examples (a
/// partial last batch smaller than `worldSize` gives some ranks an empty shard).
///
/// **Epochs.** `next()` returns `nil` once after an epoch's last batch and moves to the next
/// epoch, so `while let batch = loader.next() { … }` reads one epoch. `nextBatch()` never stops:
/// it steps over epoch boundaries, for step-counted training.
///
/// ```swift
/// var loader = DataLoader(dataset: train, batchSize: 128, seed: 7, rank: rank, worldSize: worldSize)
/// for _ in 0..<epochs {
///     while let batch = loader.next() { train(batch) }
/// }
/// checkpoint.loaderPosition = loader.position   // later: try loader.resume(from: saved)
/// ```
public struct DataLoader {
    public let dataset: any Dataset
    /// Examples per global batch (summed over ranks).
    public let batchSize: Int
    /// Whether each epoch is a fresh permutation (otherwise examples come in index order).
    public let shuffle: Bool
    /// Whether a final batch smaller than `batchSize` is skipped.
    public let dropLast: Bool
    /// This process's shard index, `0 ..< worldSize`.
    public let rank: Int
    /// Number of shards each global batch is cut into.
    public let worldSize: Int
    /// The next batch to hand out.
    public private(set) var position: DataLoaderPosition

    /// The current epoch's global order, computed once per epoch by `next()` so a batch costs no
    /// permutation (2,000 examples: ~8,000 random draws).
    private var cachedOrder: (seed: UInt64, epoch: Int, order: [Int])?

    public init(dataset: any Dataset, batchSize: Int, shuffle: Bool = true, dropLast: Bool = false,
                seed: UInt64 = 0, rank: Int = 0, worldSize: Int = 1) {
        precondition(batchSize > 0, "Tessera DataLoader: batchSize must be positive, got \(batchSize)")
        precondition(worldSize > 0 && rank >= 0 && rank < worldSize,
                     "Tessera DataLoader: rank \(rank) is not in 0..<worldSize (\(worldSize))")
        self.dataset = dataset
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.rank = rank
        self.worldSize = worldSize
        self.position = DataLoaderPosition(seed: seed)
    }

    /// Global batches per epoch.
    public var batchesPerEpoch: Int {
        dropLast ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize
    }

    /// Continues from a saved position (which carries its own seed). Throws if the position does
    /// not fit this loader's data set and batch size.
    public mutating func resume(from saved: DataLoaderPosition) throws {
        guard saved.epoch >= 0, saved.batchIndexInEpoch >= 0, saved.batchIndexInEpoch <= batchesPerEpoch else {
            throw DataError(.invalidArgument, file: "DataLoaderPosition",
                            reason: "position epoch \(saved.epoch), batch \(saved.batchIndexInEpoch) does not fit "
                                + "\(batchesPerEpoch) batches per epoch (\(dataset.count) examples, batch size \(batchSize))")
        }
        position = saved
    }

    // MARK: - Reading

    /// This rank's shard of the next batch of the current epoch, or `nil` (once) at the end of an
    /// epoch, after which the position is at the start of the next epoch.
    public mutating func next() -> Batch? {
        guard position.batchIndexInEpoch < batchesPerEpoch else {
            position.epoch += 1
            position.batchIndexInEpoch = 0
            return nil
        }
        if cachedOrder?.seed != position.seed || cachedOrder?.epoch != position.epoch {
            cachedOrder = (position.seed, position.epoch, globalOrder(epoch: position.epoch))
        }
        let indices = shardIndices(epoch: position.epoch, batch: position.batchIndexInEpoch)
        position.batchIndexInEpoch += 1
        return dataset.batch(at: indices)
    }

    /// This rank's shard of the next batch, moving into the next epoch as needed.
    public mutating func nextBatch() -> Batch {
        precondition(batchesPerEpoch > 0, "Tessera DataLoader: \(dataset.count) examples make no batch of \(batchSize) with dropLast")
        if let batch = next() { return batch }
        return next()!
    }

    /// Like ``nextBatch()``, with the epoch and the data-set indices of the batch's examples:
    /// per-sample augmentation (TesseraSelfSupervised's view pipelines) keys each example's
    /// random stream by them, so its views do not depend on the batch or the rank.
    public mutating func nextIndexedBatch() -> (batch: Batch, indices: [Int], epoch: Int) {
        precondition(batchesPerEpoch > 0, "Tessera DataLoader: \(dataset.count) examples make no batch of \(batchSize) with dropLast")
        if position.batchIndexInEpoch >= batchesPerEpoch {
            position.epoch += 1
            position.batchIndexInEpoch = 0
        }
        let epoch = position.epoch
        let indices = shardIndices(epoch: epoch, batch: position.batchIndexInEpoch)
        return (nextBatch(), indices, epoch)
    }

    // MARK: - Indices (pure functions of the settings)

    /// The order in which epoch `epoch` visits the examples, the same on every rank.
    public func globalOrder(epoch: Int) -> [Int] {
        guard shuffle else { return Array(0..<dataset.count) }
        var generator = RandomGenerator(seed: position.seed).derived(stream: UInt64(epoch))
        return generator.permutation(dataset.count)
    }

    /// Example indices of global batch `batch` of epoch `epoch` (all ranks together).
    public func globalBatchIndices(epoch: Int, batch: Int) -> [Int] {
        precondition(batch >= 0 && batch < batchesPerEpoch,
                     "Tessera DataLoader: batch \(batch) is out of range 0..<\(batchesPerEpoch)")
        let order: [Int]
        if let cached = cachedOrder, cached.seed == position.seed, cached.epoch == epoch {
            order = cached.order
        } else {
            order = globalOrder(epoch: epoch)
        }
        let start = batch * batchSize, end = Swift.min(start + batchSize, dataset.count)
        return Array(order[start..<end])
    }

    /// Example indices of this rank's shard of global batch `batch` of epoch `epoch`.
    public func shardIndices(epoch: Int, batch: Int) -> [Int] {
        let global = globalBatchIndices(epoch: epoch, batch: batch)
        let bounds = Self.shardBounds(count: global.count, rank: rank, worldSize: worldSize)
        return Array(global[bounds])
    }

    /// Rank `rank`'s slice `⌊r·n/W⌋ ..< ⌊(r+1)·n/W⌋` of a global batch of `count` examples.
    public static func shardBounds(count: Int, rank: Int, worldSize: Int) -> Range<Int> {
        (rank * count / worldSize)..<((rank + 1) * count / worldSize)
    }
}
