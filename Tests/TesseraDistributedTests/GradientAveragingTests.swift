import Foundation
import Testing
import TesseraDistributed
import TesseraTensor

/// `GradientBucketer`, `averageGradients`, `broadcastParameters` and `allreduceStatistics` over
/// `LocalCommunicator` threads.
@Suite struct GradientAveragingTests {
    /// Each rank's gradients, computed serially, folded in rank order and divided: what both
    /// averaging paths must produce exactly (LocalCommunicator's documented reduction).
    private func averageByHand(size: Int) -> [String: [Float]] {
        var sums: [String: [Float]] = [:]
        for rank in 0..<size {
            let model = tinyModel()
            model.backward(rank)
            for (name, tensor) in model.parameters {
                let gradient = tensor.grad?.scalars ?? [Float](repeating: 0, count: tensor.count)
                sums[name] = sums[name].map { zip($0, gradient).map { $0 + $1 } } ?? gradient
            }
        }
        return sums.mapValues { $0.map { $0 / Float(size) } }
    }

    @Test(arguments: [1, 2, 3])
    func bucketedAverageEqualsHandAverageAndFlatAllreduce(size: Int) throws {
        let results = try runRanks(size) { communicator -> ([String: [Float]], [String: [Float]]) in
            let model = tinyModel()
            // 64 bytes = 16 floats: four buckets; layer1.weight (30 floats) exceeds the budget alone.
            let bucketer = GradientBucketer(parameters: model.parameters, communicator: communicator, bucketBytes: 64)
            model.backward(communicator.rank)
            try bucketer.finish()
            let bucketed = Dictionary(uniqueKeysWithValues: model.parameters.map { ($0.0, $0.1.grad!.scalars) })
            bucketer.detach()
            model.backward(communicator.rank)
            try communicator.averageGradients(parameters: model.parameters)
            let flat = Dictionary(uniqueKeysWithValues: model.parameters.map { ($0.0, $0.1.grad!.scalars) })
            return (bucketed, flat)
        }
        let expected = averageByHand(size: size)
        for (bucketed, flat) in results {
            for (name, values) in expected {
                #expect(bits(bucketed[name]!) == bits(values), "bucketed \(name)")
                #expect(bits(flat[name]!) == bits(values), "flat \(name)")
            }
        }
        #expect(expected["unused.weight"] == [0, 0, 0, 0])
    }

    @Test func bucketsArePackedInSortedNameOrderUpToTheByteBudget() {
        let communicator = LocalCommunicator.group(size: 1)[0]
        let bucketer = GradientBucketer(parameters: tinyModel().parameters, communicator: communicator, bucketBytes: 64)
        #expect(bucketer.buckets.map(\.parameterNames) == [["layer1.bias"], ["layer1.weight"], ["layer2.weight"], ["unused.weight"]])
        #expect(bucketer.buckets.map(\.elementCount) == [5, 30, 15, 4])
    }

    @Test func readyBucketWaitsForEarlierBucketsSoEveryRankStartsThemInOrder() throws {
        let communicator = LocalCommunicator.group(size: 1)[0]
        let a = Tensor.zeros([4]).requiringGradient(), b = Tensor.zeros([4]).requiringGradient()
        let bucketer = GradientBucketer(parameters: [("b", b), ("a", a)], communicator: communicator, bucketBytes: 16)
        #expect(bucketer.buckets.map(\.parameterNames) == [["a"], ["b"]])
        b.grad = Tensor.full([4], 2)
        b.gradientReadyHook?(b)
        #expect(bucketer.launchedBucketCount == 0)
        a.grad = Tensor.full([4], 1)
        a.gradientReadyHook?(a)
        #expect(bucketer.launchedBucketCount == 2)
        try bucketer.finish()
        #expect(bucketer.lastLaunchOrder == [0, 1])
        #expect(a.grad!.scalars == [1, 1, 1, 1] && b.grad!.scalars == [2, 2, 2, 2])
    }

    @Test func backwardStartsBucketsBeforeFinish() throws {
        let results = try runRanks(2) { communicator -> Int in
            let model = tinyModel()
            let bucketer = GradientBucketer(parameters: model.parameters, communicator: communicator, bucketBytes: 64)
            model.backward(communicator.rank)
            let startedDuringBackward = bucketer.launchedBucketCount
            try bucketer.finish()
            return startedDuringBackward
        }
        // The last bucket holds unused.weight, which never becomes ready: finish() starts it.
        #expect(results == [3, 3])
    }

    @Test func gradientReadyTwiceBeforeFinishIsReported() throws {
        let communicator = LocalCommunicator.group(size: 1)[0]
        let model = tinyModel()
        let bucketer = GradientBucketer(parameters: model.parameters, communicator: communicator)
        model.backward(0)
        model.backward(0)
        #expect(throws: CommunicatorError.self) { try bucketer.finish() }
        model.backward(0)
        try bucketer.finish()  // the next step is clean again
    }

    @Test func broadcastParametersMakesReplicasEqualToRoot() throws {
        let results = try runRanks(3) { communicator -> [[Float]] in
            var generator = RandomGenerator(seed: UInt64(communicator.rank))
            let named = [("b", Tensor.randomNormal([3], generator: &generator)), ("a", Tensor.randomNormal([2, 2], generator: &generator))]
            try communicator.broadcastParameters(named, root: 1)
            return named.map(\.1.scalars)
        }
        var rootGenerator = RandomGenerator(seed: 1)
        let expected = [Tensor.randomNormal([3], generator: &rootGenerator).scalars, Tensor.randomNormal([2, 2], generator: &rootGenerator).scalars]
        for values in results { #expect(values == expected) }
    }

    @Test func broadcastParametersWithDifferentShapesFailsOnEveryRank() {
        let outcomes = outcomesOfRanks(3, defaultTimeout: 2) { communicator in
            let shape = communicator.rank == 2 ? [5] : [4]
            try communicator.broadcastParameters([("weight", Tensor.zeros(shape))], root: 0)
        }
        for outcome in outcomes {
            guard case .failure(CommunicatorError.mismatch(let message)) = outcome else {
                Issue.record("expected a mismatch, got \(outcome)")
                continue
            }
            #expect(message.contains("broadcastParameters"))
        }
    }

    @Test func allreduceStatisticsEqualsStatisticsOfTheWholeBatch() throws {
        // Rank r holds samples r, r + 3, r + 6 of channel 0 and twice that in channel 1.
        let samples = (0..<3).map { rank in (0..<3).map { Float(rank + 3 * $0) } }
        let results = try runRanks(3) { communicator in
            let mine = samples[communicator.rank]
            return try communicator.allreduceStatistics(
                sum: Tensor([mine.reduce(0, +), 2 * mine.reduce(0, +)]),
                sumOfSquares: Tensor([mine.map { $0 * $0 }.reduce(0, +), mine.map { 4 * $0 * $0 }.reduce(0, +)]),
                count: mine.count)
        }
        let all = samples.flatMap { $0 }
        let mean = all.reduce(0, +) / 9
        let variance = all.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 9
        for statistics in results {
            #expect(statistics.count == 9)
            #expect(statistics.mean.scalars == [mean, 2 * mean])
            #expect(abs(statistics.variance.scalars[0] - variance) < 1e-5)
            #expect(abs(statistics.variance.scalars[1] - 4 * variance) < 1e-4)
        }
    }
}
