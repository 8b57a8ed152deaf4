import Foundation
import TesseraDistributed
import TesseraNN
import TesseraTensor

/// `allreduce` (run under mpirun; every rank runs it, rank 0 prints):
/// 1. averaging the reference CNN's gradients (1.7 MB) through Tessera's communicator — one flat
///    allreduce and the bucketed path — against a raw `MPI_Allreduce` of the same bytes;
/// 2. a data-parallel training step of the reference CNN (global batch 64 split over the ranks):
///    step time, and the share of it spent waiting for gradients, with buckets overlapping
///    backward and with one flat allreduce after backward;
/// 3. throughput (samples/s) of that step, from which BENCHMARKS.md derives scaling efficiency.
func allreduceBenchmark(json: Bool) {
    do {
        let communicator = try MPICommunicator.world()
        try runAllreduceBenchmark(communicator, json: json)
        try communicator.finalize()
    } catch {
        FileHandle.standardError.write(Data("tessera-bench allreduce: \(error)\n".utf8))
        exit(1)
    }
}

private func runAllreduceBenchmark(_ communicator: MPICommunicator, json: Bool) throws {
    let ranks = communicator.size
    var generator = RandomGenerator(seed: 0)
    let model = ReferenceCNN(generator: &generator)
    let globalBatch = 64
    let shard = globalBatch / ranks
    var shardGenerator = RandomGenerator(seed: 1).derived(stream: UInt64(communicator.rank))
    let inputs = Tensor.randomNormal([shard, 1, 28, 28], generator: &shardGenerator)
    let labels = Tensor(shape: [shard]) { _ in Float(shardGenerator.nextInt(below: 10)) }
    let parameters = model.namedParameters().sorted { $0.name < $1.name }.map { ($0.name, $0.parameter) }
    try communicator.broadcastParameters(parameters)
    crossEntropy(logits: model(inputs), targets: labels).backward()
    let elementCount = parameters.reduce(0) { $0 + $1.1.count }
    let bucketBytes = 2 << 20

    // 1. Averaging the same bytes: ours (flat), raw MPI_Allreduce.
    let flat = UnsafeMutableBufferPointer<Float>.allocate(capacity: elementCount)
    let output = UnsafeMutableBufferPointer<Float>.allocate(capacity: elementCount)
    defer { flat.deallocate(); output.deallocate() }
    _ = flat.initialize(repeating: 1)
    let oursTiming = try synchronizedTiming(communicator) { try communicator.averageGradients(parameters: parameters) }
    let inPlaceTiming = try synchronizedTiming(communicator) {
        try communicator.allreduce(flat, operation: .mean)
    }
    let rawNonBlockingTiming = try synchronizedTiming(communicator) {
        try communicator.rawIallreduce(UnsafeBufferPointer(flat), into: output)
    }
    let rawTiming = try synchronizedTiming(communicator) {
        try communicator.rawAllreduce(UnsafeBufferPointer(flat), into: output)
        for i in 0..<elementCount { output[i] /= Float(ranks) }
    }

    // 2. Training steps with and without overlap.
    func step(_ average: () throws -> Void) throws -> (total: Double, waiting: Double) {
        model.zeroGradients()
        let start = Timing.now()
        crossEntropy(logits: model(inputs), targets: labels).backward()
        let beforeWait = Timing.now()
        try average()
        let end = Timing.now()
        return (end - start, end - beforeWait)
    }
    var overlapped: [(Double, Double)] = [], flatSteps: [(Double, Double)] = []
    for iteration in 0..<40 {
        try communicator.barrier()
        let bucketer = GradientBucketer(parameters: parameters, communicator: communicator, bucketBytes: bucketBytes)
        let withBuckets = try step { try bucketer.finish() }
        bucketer.detach()
        try communicator.barrier()
        let withFlat = try step { try communicator.averageGradients(parameters: parameters) }
        if iteration >= 5 { overlapped.append(withBuckets); flatSteps.append(withFlat) }
    }
    guard communicator.rank == 0 else { return }
    var averaging = BenchmarkRecord("allreduce", [("ranks", ranks), ("bytes", elementCount * 4), ("bucket_bytes", bucketBytes)])
    averaging.fields += [("median_ms", rounded(oursTiming * 1e3)), ("raw_mpi_allreduce_ms", rounded(rawTiming * 1e3)),
                         ("communicator_allreduce_ms", rounded(inPlaceTiming * 1e3)),
                         ("raw_mpi_iallreduce_ms", rounded(rawNonBlockingTiming * 1e3)),
                         ("ratio_to_raw", rounded(oursTiming / rawTiming, digits: 3))]
    averaging.emit(json: json)
    for (name, steps) in [("buckets-overlapping-backward", overlapped), ("flat-after-backward", flatSteps)] {
        let total = median(steps.map(\.0)), waiting = median(steps.map(\.1))
        var record = BenchmarkRecord("allreduce-step", [("ranks", ranks), ("mode", name), ("global_batch", globalBatch)])
        record.fields += [("median_ms", rounded(total * 1e3)), ("waiting_ms", rounded(waiting * 1e3)),
                          ("waiting_share", rounded(waiting / total, digits: 3)),
                          ("samples_per_s", rounded(Double(globalBatch) / total, digits: 1))]
        record.emit(json: json)
    }
}

/// Median seconds of `body` over 30 runs, each started together on all ranks after a barrier.
private func synchronizedTiming(_ communicator: Communicator, _ body: () throws -> Void) throws -> Double {
    var samples: [Double] = []
    for iteration in 0..<35 {
        try communicator.barrier()
        let start = Timing.now()
        try body()
        if iteration >= 5 { samples.append(Timing.now() - start) }
    }
    return median(samples)
}

private func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
}
