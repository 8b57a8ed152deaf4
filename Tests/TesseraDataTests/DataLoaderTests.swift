import Foundation
import Testing
import TesseraTensor
@testable import TesseraData

@Suite("DataLoader")
struct DataLoaderTests {
    /// Example i has input [i, -i] and label i, so a batch's labels name its examples.
    static func numbered(_ count: Int) -> TensorDataset {
        TensorDataset(inputs: Tensor(shape: [count, 2]) { $0 % 2 == 0 ? Float($0 / 2) : -Float($0 / 2) },
                      labels: Tensor((0..<count).map(Float.init)))
    }

    static func ids(_ batch: Batch) -> [Int] { batch.labels.scalars.map { Int($0) } }

    static func epoch(_ loader: inout DataLoader) -> [[Int]] {
        var batches: [[Int]] = []
        while let batch = loader.next() { batches.append(ids(batch)) }
        return batches
    }

    @Test func everyExampleAppearsExactlyOncePerEpoch() {
        var loader = DataLoader(dataset: Self.numbered(50), batchSize: 7, seed: 3)
        for _ in 0..<3 {
            let batches = Self.epoch(&loader)
            #expect(batches.map(\.count) == [7, 7, 7, 7, 7, 7, 7, 1])
            #expect(batches.flatMap { $0 }.sorted() == Array(0..<50))
        }
        #expect(loader.position.epoch == 3)
    }

    @Test func batchesCarryTheRowsOfTheirExamples() throws {
        var loader = DataLoader(dataset: Self.numbered(20), batchSize: 6, seed: 9)
        let next = loader.next()
        let batch = try #require(next)
        #expect(batch.inputs.shape == [6, 2])
        for (row, id) in Self.ids(batch).enumerated() {
            #expect(batch.inputs[element: row, 0] == Float(id))
            #expect(batch.inputs[element: row, 1] == -Float(id))
        }
    }

    @Test func dropLastSkipsThePartialBatch() {
        var loader = DataLoader(dataset: Self.numbered(50), batchSize: 7, dropLast: true, seed: 3)
        let batches = Self.epoch(&loader)
        #expect(loader.batchesPerEpoch == 7)
        #expect(batches.map(\.count) == Array(repeating: 7, count: 7))
        #expect(Set(batches.flatMap { $0 }).count == 49)
    }

    @Test func epochsAreReshuffledAndSeedsDiffer() {
        var loader = DataLoader(dataset: Self.numbered(40), batchSize: 40, seed: 1)
        let first = Self.epoch(&loader), second = Self.epoch(&loader)
        #expect(first != second)
        var sameSeed = DataLoader(dataset: Self.numbered(40), batchSize: 40, seed: 1)
        #expect(Self.epoch(&sameSeed) == first)
        var otherSeed = DataLoader(dataset: Self.numbered(40), batchSize: 40, seed: 2)
        #expect(Self.epoch(&otherSeed) != first)
        var ordered = DataLoader(dataset: Self.numbered(40), batchSize: 40, shuffle: false)
        #expect(Self.epoch(&ordered) == [Array(0..<40)])
    }

    @Test func resumingFromAnEncodedPositionContinuesTheSameStream() throws {
        var uninterrupted = DataLoader(dataset: Self.numbered(23), batchSize: 5, seed: 11)
        var stream: [[Int]] = []
        var saved: Data?
        for step in 0..<17 {  // 5 batches per epoch: crosses three epoch boundaries
            if step == 7 { saved = try JSONEncoder().encode(uninterrupted.position) }
            stream.append(Self.ids(uninterrupted.nextBatch()))
        }
        var resumed = DataLoader(dataset: Self.numbered(23), batchSize: 5, seed: 0)
        try resumed.resume(from: JSONDecoder().decode(DataLoaderPosition.self, from: try #require(saved)))
        #expect(resumed.position == DataLoaderPosition(epoch: 1, batchIndexInEpoch: 2, seed: 11))
        let continued = (7..<17).map { _ in Self.ids(resumed.nextBatch()) }
        #expect(continued == Array(stream[7...]))
    }

    @Test func resumingAtTheEndOfAnEpochFirstClosesIt() throws {
        var loader = DataLoader(dataset: Self.numbered(10), batchSize: 5, seed: 4)
        _ = Self.epoch(&loader)
        var resumed = DataLoader(dataset: Self.numbered(10), batchSize: 5)
        try resumed.resume(from: DataLoaderPosition(epoch: 0, batchIndexInEpoch: 2, seed: 4))
        #expect(resumed.next() == nil)
        #expect(Self.epoch(&resumed) == Self.epoch(&loader))
    }

    @Test func positionsThatDoNotFitTheDataAreRejected() {
        var loader = DataLoader(dataset: Self.numbered(10), batchSize: 5)
        #expect(throws: DataError.self) {
            try loader.resume(from: DataLoaderPosition(epoch: 0, batchIndexInEpoch: 3, seed: 0))
        }
        #expect(loader.position == DataLoaderPosition(seed: 0))
    }

    @Test(arguments: [1, 2, 3])
    func shardsOfEachStepUniteToTheSingleProcessBatch(worldSize: Int) {
        let data = Self.numbered(50)
        var single = DataLoader(dataset: data, batchSize: 8, seed: 21)
        var ranks = (0..<worldSize).map { DataLoader(dataset: data, batchSize: 8, seed: 21, rank: $0, worldSize: worldSize) }
        for _ in 0..<(2 * single.batchesPerEpoch) {  // two epochs, last batch of each has 2 examples
            let global = Self.ids(single.nextBatch())
            let shards = ranks.indices.map { Self.ids(ranks[$0].nextBatch()) }
            #expect(shards.flatMap { $0 } == global)
            #expect(Set(shards.flatMap { $0 }).count == global.count)
            #expect(shards.map(\.count).max()! - shards.map(\.count).min()! <= 1)
        }
    }

    @Test func resumedShardContinuesItsRanksStream() throws {
        var rank1 = DataLoader(dataset: Self.numbered(30), batchSize: 6, seed: 2, rank: 1, worldSize: 3)
        for _ in 0..<4 { _ = rank1.nextBatch() }
        let saved = try JSONEncoder().encode(rank1.position)
        let expected = (0..<6).map { _ in Self.ids(rank1.nextBatch()) }
        var resumed = DataLoader(dataset: Self.numbered(30), batchSize: 6, rank: 1, worldSize: 3)
        try resumed.resume(from: JSONDecoder().decode(DataLoaderPosition.self, from: saved))
        #expect((0..<6).map { _ in Self.ids(resumed.nextBatch()) } == expected)
    }

    /// Speed is measured by benchmarks, not here; this pins that batching copies the right rows.
    @Test func batchOfDigitImagesHoldsTheSelectedRows() throws {
        let digits = try Digits.load()
        let indices = Array((0..<128).map { $0 * 13 % 1797 })
        let batch = digits.batch(at: indices)
        #expect(batch.inputs.shape == [128, 1, 8, 8])
        #expect(batch.inputs.scalars[64..<128] == digits.example(at: 13).input.scalars[...])
    }
}
