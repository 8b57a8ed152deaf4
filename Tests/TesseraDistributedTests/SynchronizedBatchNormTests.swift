import Testing
import TesseraDistributed
import TesseraNN
import TesseraTensor

/// Batch norm whose statistics are summed over ranks (`BatchNorm.sumOverReplicas`): two ranks
/// holding the two halves of a batch compute what one process computes on the whole batch.
@Suite struct SynchronizedBatchNormTests {
    /// Output, input gradient, parameter gradients and running statistics of a batch norm over
    /// `input` (rows `rows` of the full batch), with the loss `Σ output · probe`.
    struct Pass {
        var output: [Float], inputGradient: [Float], weightGradient: [Float], biasGradient: [Float]
        var runningMean: [Float], runningVariance: [Float]
    }

    static let (batch, channels, height, width) = (6, 3, 2, 2)

    static func fullBatch() -> (input: Tensor, probe: Tensor) {
        var generator = RandomGenerator(seed: 21)
        let shape = [batch, channels, height, width]
        return (Tensor.randomNormal(shape, generator: &generator) * 2 + 0.5, Tensor.randomNormal(shape, generator: &generator))
    }

    static func pass(rows: Range<Int>, sumOverReplicas: ((UnsafeMutableBufferPointer<Float>) -> Void)?) -> Pass {
        let (full, fullProbe) = fullBatch()
        let input = full.slice(alongAxis: 0, start: rows.lowerBound, end: rows.upperBound).requiringGradient()
        let probe = fullProbe.slice(alongAxis: 0, start: rows.lowerBound, end: rows.upperBound)
        let norm = BatchNorm(featureCount: channels)
        norm.weight!.assign(Tensor([1.5, -0.5, 2]))
        norm.bias!.assign(Tensor([0.1, 0.2, -0.3]))
        norm.sumOverReplicas = sumOverReplicas
        let output = norm(input)
        (output * probe).sum().backward()
        return Pass(output: output.scalars, inputGradient: input.grad!.scalars, weightGradient: norm.weight!.grad!.scalars,
                    biasGradient: norm.bias!.grad!.scalars, runningMean: norm.runningMean.value.scalars,
                    runningVariance: norm.runningVariance.value.scalars)
    }

    static func expectClose(_ a: [Float], _ b: [Float], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.count == b.count, "\(what): \(a.count) vs \(b.count) values", sourceLocation: sourceLocation)
        for (x, y) in zip(a, b) where Swift.abs(x - y) > 1e-5 * Swift.max(1, Swift.abs(y)) {
            Issue.record("\(what): \(a) vs \(b)", sourceLocation: sourceLocation)
            return
        }
    }

    @Test func twoRanksWithHalfTheBatchEachMatchOneProcessWithAllOfIt() throws {
        let whole = Self.pass(rows: 0..<Self.batch, sumOverReplicas: nil)
        // Uneven shards (4 and 2 rows), as the last batch of an epoch can give.
        let shards = [0..<4, 4..<Self.batch]
        let outcomes = outcomesOfRanks(2) { communicator -> Pass in
            var failure: Error?
            let pass = Self.pass(rows: shards[communicator.rank]) { buffer in
                do { try communicator.allreduce(buffer, operation: .sum) } catch { failure = error }
            }
            if let failure { throw failure }
            return pass
        }
        let passes = try outcomes.map { try $0.get() }
        let area = Self.channels * Self.height * Self.width
        Self.expectClose(passes[0].output + passes[1].output, whole.output, "output")
        Self.expectClose(passes[0].inputGradient + passes[1].inputGradient, whole.inputGradient, "input gradient")
        #expect(passes[0].output.count == 4 * area)
        // Each rank's parameter gradient covers its own rows; their sum is the whole batch's
        // (what gradient averaging then divides by the number of ranks).
        Self.expectClose(zip(passes[0].weightGradient, passes[1].weightGradient).map { $0 + $1 }, whole.weightGradient,
                         "weight gradient")
        Self.expectClose(zip(passes[0].biasGradient, passes[1].biasGradient).map { $0 + $1 }, whole.biasGradient,
                         "bias gradient")
        for pass in passes {
            Self.expectClose(pass.runningMean, whole.runningMean, "running mean")
            Self.expectClose(pass.runningVariance, whole.runningVariance, "running variance")
        }
    }

    @Test func withoutSynchronizationEachRankUsesItsOwnStatistics() throws {
        let whole = Self.pass(rows: 0..<Self.batch, sumOverReplicas: nil)
        let shard = Self.pass(rows: 0..<4, sumOverReplicas: nil)
        let differences = zip(shard.runningMean, whole.runningMean).map { Swift.abs($0 - $1) }
        #expect(differences.max()! > 1e-3, "the shard's statistics should differ from the batch's: \(differences)")
    }
}
