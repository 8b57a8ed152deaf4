import Foundation
import TesseraTensor

/// Checks every operation of `MPICommunicator` under a real `mpirun` job, then (optionally)
/// measures its overheads. Throws `MPISelfTestFailure` on the first mismatch; the
/// `tessera-mpi-selftest` executable turns that into a non-zero exit, which makes `mpirun` fail.
///
///     OPENBLAS_NUM_THREADS=1 mpirun --allow-run-as-root --oversubscribe -np 3 .build/debug/tessera-mpi-selftest
///
/// Expected values are computed serially from each rank's inputs (which every rank can
/// regenerate); reductions are compared with a relative tolerance, since MPI's summation order
/// is its own, and additionally checked to be bit-identical across ranks.
public func runMPISelfTest(measure: Bool = true) throws {
    let communicator = try MPICommunicator.world()
    communicator.defaultTimeout = 60
    let test = MPISelfTest(communicator: communicator)
    try test.collectives()
    try test.pointToPoint()
    try test.timeoutNamesMissingRank()
    try test.training()
    if measure { try measureMPIOverheads(communicator) }
    try communicator.barrier()
    print("rank \(communicator.rank)/\(communicator.size): all MPI checks passed")
    try communicator.finalize()
}

/// A failed self-test check, naming the rank and what differed.
public struct MPISelfTestFailure: Error, CustomStringConvertible {
    public let description: String
}

private struct MPISelfTest {
    let communicator: MPICommunicator
    var rank: Int { communicator.rank }
    var size: Int { communicator.size }

    func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw MPISelfTestFailure(description: "rank \(rank): \(message())") }
    }

    /// Rank `rank`'s `count` inputs: distinct, non-round values so reductions exercise rounding.
    func inputs(of rank: Int, count: Int) -> [Float] {
        (0..<count).map { Float(rank + 1) * 0.1 + Float($0) * 0.37 - Float(($0 * 7 + rank * 3) % 11) }
    }

    /// Every rank's copy of `values` is the same bits.
    func expectIdenticalAcrossRanks(_ values: [Float], _ what: String) throws {
        var all = [Float](repeating: 0, count: values.count * size)
        try values.withUnsafeBufferPointer { input in
            try all.withUnsafeMutableBufferPointer { try communicator.allgather(input, into: $0) }
        }
        for other in 0..<size {
            let theirs = all[other * values.count..<(other + 1) * values.count]
            try expect(zip(theirs, values).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(what) differs between rank \(rank) and rank \(other)")
        }
    }

    func expectClose(_ actual: [Float], _ expected: [Float], _ what: String) throws {
        try expect(actual.count == expected.count, "\(what): \(actual.count) values, expected \(expected.count)")
        for (index, (a, e)) in zip(actual, expected).enumerated() {
            try expect(abs(a - e) <= 1e-5 * max(1, abs(e)), "\(what)[\(index)] = \(a), expected \(e)")
        }
    }

    func collectives() throws {
        try communicator.barrier()

        var broadcastValues = inputs(of: rank, count: 5)
        try communicator.broadcast(&broadcastValues, root: size - 1)
        try expect(broadcastValues == inputs(of: size - 1, count: 5), "broadcast from the last rank: got \(broadcastValues)")
        let recipe = try communicator.broadcast(string: rank == 0 ? "model: mlp\nlearningRate: 0.001\n" : "", root: 0)
        try expect(recipe == "model: mlp\nlearningRate: 0.001\n", "broadcast(string:) of unknown size: got \(recipe)")

        for operation in ReductionOperation.allCases {
            var values = inputs(of: rank, count: 1000)
            try communicator.allreduce(&values, operation: operation)
            try expectClose(values, serialReduction(operation, count: 1000), "allreduce(\(operation))")
            try expectIdenticalAcrossRanks(values, "allreduce(\(operation))")
        }

        let gathered = try communicator.allgather(Tensor((0..<4).map { Float(rank * 10 + $0) }))
        try expect(gathered.scalars == (0..<size).flatMap { r in (0..<4).map { Float(r * 10 + $0) } }, "allgather: got \(gathered.scalars)")

        let variable = try communicator.allgatherVariable(Tensor(shape: [rank + 1, 2], scalars: Array(repeating: Float(rank), count: 2 * (rank + 1))))
        try expect(variable.shape == [size * (size + 1) / 2, 2], "allgatherVariable: shape \(variable.shape)")
        try expect(variable.scalars == (0..<size).flatMap { r in Array(repeating: Float(r), count: 2 * (r + 1)) },
                   "allgatherVariable: got \(variable.scalars)")

        let input = inputs(of: rank, count: 3 * size)
        var block = [Float](repeating: 0, count: 3)
        try input.withUnsafeBufferPointer { input in
            try block.withUnsafeMutableBufferPointer { try communicator.reduceScatter(input, into: $0, operation: .sum) }
        }
        try expectClose(block, Array(serialReduction(.sum, count: 3 * size)[3 * rank..<3 * rank + 3]), "reduceScatter")

        var pending = inputs(of: rank, count: 257)
        try pending.withUnsafeMutableBufferPointer { buffer in
            let request = try communicator.iallreduce(buffer, operation: .max)
            while try !request.test() { usleep(50) }
        }
        try expectClose(pending, serialReduction(.max, count: 257), "iallreduce(max) completed by test()")
    }

    func serialReduction(_ operation: ReductionOperation, count: Int) -> [Float] {
        var result = inputs(of: 0, count: count)
        for other in 1..<size {
            let values = inputs(of: other, count: count)
            for index in result.indices { result[index] = operation.combine(result[index], values[index]) }
        }
        return operation == .mean ? result.map { $0 / Float(size) } : result
    }

    func pointToPoint() throws {
        let next = (rank + 1) % size, previous = (rank + size - 1) % size
        try communicator.send("hello from \(rank)", to: next, tag: 7)
        try communicator.send(inputs(of: rank, count: 3 + rank), to: next, tag: 9)
        // Tag 9 first although tag 7 was sent first: matching is by tag, not arrival.
        let floats = try communicator.receive(from: MessageMatching.anySource, tag: 9)
        try expect(floats.source == previous && floats.tag == 9 && floats.floats == inputs(of: previous, count: 3 + previous),
                   "receive(anySource, tag 9): got \(floats.source), \(floats.tag), \(floats.floats)")
        let text = try communicator.receive(from: previous, tag: MessageMatching.anyTag)
        try expect(text.string == "hello from \(previous)" && text.tag == 7, "receive(anyTag): got \(text.string), tag \(text.tag)")
        try communicator.barrier()
    }

    /// The last rank arrives 1 s late at a barrier that the others wait on for 0.3 s: they time
    /// out, rank 0 names the late rank, and everyone completes the same barrier afterwards.
    func timeoutNamesMissingRank() throws {
        guard size >= 2 else { return }
        let late = size - 1
        if rank == late { usleep(1_000_000) }
        let request = try communicator.ibarrier()
        if rank != late {
            do {
                try request.wait(timeout: 0.3)
                try expect(false, "barrier did not time out although rank \(late) was 1 s late")
            } catch let CommunicatorError.timeout(operation, waited, missing) {
                try expect(waited >= 0.3 && waited < 0.6, "\(operation) waited \(waited) s, deadline was 0.3 s")
                try expect(rank == 0 ? missing == [late] : missing == nil, "timeout reported missing ranks \(String(describing: missing))")
            }
        }
        try request.wait(timeout: 10)
    }

    /// Bucketed averaging equals one flat allreduce, gives the same bits on every rank, and
    /// parameter broadcast makes replicas equal.
    func training() throws {
        var generator = RandomGenerator(seed: 42)
        let named = ["layer1.weight": [8, 16], "layer1.bias": [16], "layer2.weight": [16, 4], "unused.weight": [3]]
            .sorted { $0.key < $1.key }
            .map { ($0.key, Tensor.randomNormal($0.value, generator: &generator).requiringGradient()) }
        let parameters = Dictionary(uniqueKeysWithValues: named)
        var dataGenerator = RandomGenerator(seed: UInt64(100 + rank))
        let batch = Tensor.randomNormal([5, 8], generator: &dataGenerator)
        func backward() {
            for (_, tensor) in named { tensor.grad = nil }
            let hidden = (batch.matmul(parameters["layer1.weight"]!) + parameters["layer1.bias"]!).tanh()
            let output = hidden.matmul(parameters["layer2.weight"]!)
            (output * output).mean().backward()
        }
        let bucketer = GradientBucketer(parameters: named, communicator: communicator, bucketBytes: 256)
        backward()
        try bucketer.finish()
        let bucketed = named.map { $0.1.grad!.scalars }
        try expect(bucketer.lastLaunchOrder == Array(bucketer.buckets.indices), "buckets started in order \(bucketer.lastLaunchOrder)")
        bucketer.detach()
        backward()
        try communicator.averageGradients(parameters: named)
        for (index, (name, tensor)) in named.enumerated() {
            try expectClose(bucketed[index], tensor.grad!.scalars, "bucketed gradient of \(name)")
            try expectIdenticalAcrossRanks(bucketed[index], "bucketed gradient of \(name)")
        }
        try expect(named.last!.1.grad!.scalars == [0, 0, 0], "a parameter no rank used must average to zeros")

        var ownGenerator = RandomGenerator(seed: UInt64(7 + rank))
        for (_, tensor) in named { tensor.assign(Tensor.randomNormal(tensor.shape, generator: &ownGenerator)) }
        try communicator.broadcastParameters(named, root: 0)
        for (name, tensor) in named { try expectIdenticalAcrossRanks(tensor.scalars, "\(name) after broadcastParameters") }

        let statistics = try communicator.allreduceStatistics(sum: Tensor([Float(rank), 1]), sumOfSquares: Tensor([Float(rank * rank), 1]), count: 1)
        let expectedMean = Float((0..<size).reduce(0, +)) / Float(size)
        try expectClose(statistics.mean.scalars, [expectedMean, 1], "allreduceStatistics mean")
        try expect(statistics.count == size, "allreduceStatistics count \(statistics.count)")
    }
}
