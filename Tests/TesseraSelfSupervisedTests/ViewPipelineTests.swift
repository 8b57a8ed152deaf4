import Testing
import TesseraData
import TesseraSelfSupervised
import TesseraTensor

/// The two-view and multi-crop pipelines: a sample's views depend on (seed, epoch, sample, view)
/// only, have the documented shapes, and bad settings are refused by name.
struct ViewPipelineTests {
    static func images(_ count: Int, size: Int = 8, seed: UInt64 = 1) -> Tensor {
        var generator = RandomGenerator(seed: seed)
        return Tensor.randomUniform([count, 1, size, size], generator: &generator)
    }

    /// Every augmentation switched on, so each step's draws take part.
    static var everything: ViewSettings {
        var settings = ViewSettings.simCLR(size: 6)
        settings.rotationDegrees = 15
        settings.noiseStandardDeviation = 0.05
        settings.cutoutSize = 3
        return settings
    }

    func rows(_ batch: Tensor, _ row: Int) -> [Float] { batch.select(alongAxis: 0, index: row).scalars }

    @Test func aSamplesViewsAreTheSameBitForBitWhereverItSitsInTheBatch() throws {
        let pipeline = try TwoViewPipeline(Self.everything, seed: 11)
        let data = Self.images(6)
        // Samples 0…5 in order, then a batch of samples 4, 1 (as a second process or a resume would build).
        let whole = try pipeline.views(data, indices: Array(0..<6), epoch: 3)
        let part = try pipeline.views(data.indexSelect(alongAxis: 0, indices: Tensor([4, 1])), indices: [4, 1], epoch: 3)
        #expect(rows(part.first, 0) == rows(whole.first, 4))
        #expect(rows(part.second, 0) == rows(whole.second, 4))
        #expect(rows(part.first, 1) == rows(whole.first, 1))
        #expect(rows(part.second, 1) == rows(whole.second, 1))
        // A second pipeline with the same seed, built later, agrees too.
        let again = try TwoViewPipeline(Self.everything, seed: 11).views(data, indices: Array(0..<6), epoch: 3)
        #expect(again.first.scalars == whole.first.scalars && again.second.scalars == whole.second.scalars)
    }

    /// Two processes each augmenting their shard (interleaved, as a sharded loader hands them
    /// out) put together the views of one process augmenting the whole batch.
    @Test func twoProcessShardsConcatenateToTheOneProcessViews() throws {
        let pipeline = try MultiCropPipeline(global: Self.everything, local: .dinoLocal(size: 3), localCropCount: 2, seed: 5)
        let data = Self.images(6)
        let whole = try pipeline.crops(data, indices: Array(0..<6), epoch: 1)
        let shards = try [[0, 2, 4], [1, 3, 5]].map { indices in
            try pipeline.crops(data.indexSelect(alongAxis: 0, indices: Tensor(indices.map(Float.init))), indices: indices, epoch: 1)
        }
        for crop in 0..<4 {
            for sample in 0..<6 {
                #expect(rows(shards[sample % 2].all[crop], sample / 2) == rows(whole.all[crop], sample))
            }
        }
    }

    /// End to end with the loader: two ranks' shards of every batch of two epochs get the views
    /// the one-process run gives the same samples, and a loader resumed mid-run continues them.
    @Test func shardedAndResumedLoadersSeeTheOneProcessViews() throws {
        let data = TensorDataset(inputs: Self.images(10), labels: Tensor.zeros([10]))
        let pipeline = try TwoViewPipeline(Self.everything, seed: 3)
        func viewsBySample(_ loader: inout DataLoader, batches: Int) throws -> [Int: [Float]] {
            var seen: [Int: [Float]] = [:]
            for _ in 0..<batches {
                let (batch, indices, epoch) = loader.nextIndexedBatch()
                let views = try pipeline.views(batch.inputs, indices: indices, epoch: epoch)
                for (row, sample) in indices.enumerated() { seen[epoch * 100 + sample] = rows(views.first, row) + rows(views.second, row) }
            }
            return seen
        }
        var single = DataLoader(dataset: data, batchSize: 4, seed: 8)
        let expected = try viewsBySample(&single, batches: 6)   // 3 batches per epoch (4, 4, 2), two epochs
        #expect(expected.count == 20)
        var merged: [Int: [Float]] = [:]
        for rank in 0..<2 {
            var shard = DataLoader(dataset: data, batchSize: 4, seed: 8, rank: rank, worldSize: 2)
            merged.merge(try viewsBySample(&shard, batches: 6)) { first, _ in first }
        }
        #expect(merged == expected)
        var interrupted = DataLoader(dataset: data, batchSize: 4, seed: 8)
        _ = try viewsBySample(&interrupted, batches: 4)
        var resumed = DataLoader(dataset: data, batchSize: 4, seed: 0)
        try resumed.resume(from: interrupted.position)
        let rest = try viewsBySample(&resumed, batches: 2)
        #expect(rest.count == 6 && rest.allSatisfy { expected[$0.key] == $0.value })
    }

    @Test func viewsDifferAcrossViewsEpochsSamplesAndSeeds() throws {
        let pipeline = try TwoViewPipeline(Self.everything, seed: 11)
        let image = Self.images(1)
        let views = try pipeline.views(image, indices: [0], epoch: 0)
        #expect(views.first.scalars != views.second.scalars)
        #expect(try pipeline.views(image, indices: [0], epoch: 1).first.scalars != views.first.scalars)
        #expect(try pipeline.views(image, indices: [1], epoch: 0).first.scalars != views.first.scalars)
        #expect(try TwoViewPipeline(Self.everything, seed: 12).views(image, indices: [0], epoch: 0).first.scalars != views.first.scalars)
        // The keys are not interchangeable: (epoch 1, sample 2) is not (epoch 2, sample 1).
        let seeds = SampleSeeds(seed: 11)
        #expect(seeds.generator(epoch: 1, sample: 2, view: 0) != seeds.generator(epoch: 2, sample: 1, view: 0))
    }

    @Test func twoViewsHaveTheCropSizeOfEachViewsSettings() throws {
        var small = ViewSettings.simCLR(size: 4)
        small.width = 5
        let pipeline = try TwoViewPipeline(first: .simCLR(size: 8), second: small, seed: 2)
        let views = try pipeline.views(Self.images(3, seed: 4).repeated([1, 3, 1, 1]), indices: [7, 8, 9], epoch: 0)
        #expect(views.first.shape == [3, 3, 8, 8])
        #expect(views.second.shape == [3, 3, 4, 5])
    }

    @Test func multiCropGivesTwoGlobalAndMLocalCropsEachItsOwnViewOfTheSample() throws {
        let pipeline = try MultiCropPipeline(global: .dinoGlobal(size: 8), local: .dinoLocal(size: 4), localCropCount: 5, seed: 9)
        let data = Self.images(4)
        let crops = try pipeline.crops(data, indices: [10, 11, 12, 13], epoch: 2)
        #expect(crops.global.count == 2 && crops.local.count == 5 && crops.all.count == 7)
        #expect(crops.global.allSatisfy { $0.shape == [4, 1, 8, 8] })
        #expect(crops.local.allSatisfy { $0.shape == [4, 1, 4, 4] })
        // Every crop of a sample is its own view: all seven differ.
        let firstSample = crops.all.map { rows($0, 0) }
        for a in 0..<7 { for b in (a + 1)..<7 where firstSample[a].count == firstSample[b].count { #expect(firstSample[a] != firstSample[b]) } }
        // Sample 12 alone gets the same crops as at position 2 of the batch.
        let alone = try pipeline.crops(data.slice(alongAxis: 0, start: 2, end: 3), indices: [12], epoch: 2)
        for (single, batched) in zip(alone.all, crops.all) { #expect(rows(single, 0) == rows(batched, 2)) }
    }

    @Test func localCropsCoverLessOfTheImageThanGlobalOnes() throws {
        // On a horizontal ramp, a crop's spread of values tracks the width it covers.
        let ramp = Tensor(shape: [1, 1, 16, 16], scalars: (0..<256).map { Float($0 % 16) / 15 })
        var global = ViewSettings(height: 8, width: 8, scale: 0.4...1), local = ViewSettings(height: 8, width: 8, scale: 0.05...0.4)
        global.flipProbability = 0; global.jitterProbability = 0
        local.flipProbability = 0; local.jitterProbability = 0
        let pipeline = try MultiCropPipeline(global: global, local: local, localCropCount: 2, seed: 1)
        var globalSpread: Float = 0, localSpread: Float = 0
        for sample in 0..<40 {
            let crops = try pipeline.crops(ramp, indices: [sample], epoch: 0)
            for crop in crops.global { globalSpread += crop.scalars.max()! - crop.scalars.min()! }
            for crop in crops.local { localSpread += crop.scalars.max()! - crop.scalars.min()! }
        }
        #expect(localSpread < 0.75 * globalSpread, "local \(localSpread), global \(globalSpread)")
    }

    @Test func badSettingsThrowNamingTheSetting() throws {
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch { return "\(error)" }
        }
        let data = Self.images(2)
        let tooLarge = try TwoViewPipeline(.simCLR(size: 10), seed: 0)
        #expect(message { _ = try tooLarge.views(data, indices: [0, 1], epoch: 0) }.contains("larger than the 8×8 image"))
        var settings = ViewSettings.simCLR(size: 8)
        settings.scale = 0.5...1.5
        #expect(message { _ = try TwoViewPipeline(settings, seed: 0) }.contains("scale must lie in (0, 1]"))
        settings.scale = 0...1
        #expect(message { _ = try TwoViewPipeline(settings, seed: 0) }.contains("scale"))
        settings = .simCLR(size: 8)
        settings.noiseStandardDeviation = -0.1
        #expect(message { _ = try TwoViewPipeline(settings, seed: 0) }.contains("noiseStandardDeviation must be a non-negative"))
        settings = .simCLR(size: 8)
        settings.flipProbability = 2
        #expect(message { _ = try TwoViewPipeline(settings, seed: 0) }.contains("flipProbability"))
        #expect(message { _ = try MultiCropPipeline(global: .dinoGlobal(size: 8), local: .dinoLocal(size: 4), localCropCount: -1, seed: 0) }
            .contains("localCropCount"))
        let pipeline = try TwoViewPipeline(.simCLR(size: 8), seed: 0)
        #expect(message { _ = try pipeline.views(data, indices: [0], epoch: 0) }.contains("1 sample indices for a batch of 2"))
    }

    @Test func cutoutHidesTheSquareAroundItsCentreClippedAtTheEdges() {
        let image = Tensor.ones([2, 5, 5])
        let cut = Cutout.cut(image, centerRow: 2, centerColumn: 2, size: 3)
        #expect(cut.scalars.filter { $0 == 0 }.count == 2 * 9)
        #expect(cut[element: 1, 1, 1] == 0 && cut[element: 1, 3, 3] == 0 && cut[element: 1, 0, 2] == 1 && cut[element: 0, 4, 2] == 1)
        let corner = Cutout.cut(image, centerRow: 0, centerColumn: 4, size: 4)
        #expect(corner.scalars.filter { $0 == 0 }.count == 2 * 2 * 3)   // rows 0…1, columns 2…4
        #expect(corner[element: 0, 0, 2] == 0 && corner[element: 0, 1, 4] == 0 && corner[element: 0, 2, 4] == 1)
    }
}
