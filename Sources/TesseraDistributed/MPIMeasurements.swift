import Foundation
import TesseraTensor

/// Prints, on rank 0, what our layer costs on top of raw MPI:
/// - a 4 MB allreduce through `Communicator.allreduce` (copy to a send buffer, polling with
///   backoff, arrival tracking) against a blocking `MPI_Allreduce` and against a bare
///   `MPI_Iallreduce` completed by a tight `MPI_Test` loop;
/// - a one-float allreduce with and without arrival tracking (the stall check's overhead);
/// - gradient averaging of 4 MB in 2 MiB buckets against one flat allreduce (no backward to
///   overlap with here: this is the cost of bucketing alone).
func measureMPIOverheads(_ communicator: MPICommunicator) throws {
    let largeCount = 1 << 20  // 4 MB of floats: a small model's gradients
    var input = [Float](repeating: 1, count: largeCount)
    var output = [Float](repeating: 0, count: largeCount)
    let (raw, ours) = try timeAlternately(communicator, repetitions: 30, {
        try input.withUnsafeBufferPointer { source in
            try output.withUnsafeMutableBufferPointer { try communicator.rawAllreduce(source, into: $0) }
        }
    }, { try communicator.allreduce(&input, operation: .sum) })
    let (rawNonBlocking, _) = try timeAlternately(communicator, repetitions: 30, {
        try input.withUnsafeBufferPointer { source in
            try output.withUnsafeMutableBufferPointer { try communicator.rawIallreduce(source, into: $0) }
        }
    }, {})
    report(communicator, "allreduce 4 MB: MPI_Allreduce \(milliseconds(raw)), MPI_Iallreduce+MPI_Test \(milliseconds(rawNonBlocking)), Communicator.allreduce \(milliseconds(ours))")

    let untracked = try MPICommunicator.world(tracksArrivals: false)
    var one: [Float] = [1]
    var result: [Float] = [0]
    let (rawSmall, _) = try timeAlternately(communicator, repetitions: 2000, {
        try one.withUnsafeBufferPointer { source in
            try result.withUnsafeMutableBufferPointer { try communicator.rawAllreduce(source, into: $0) }
        }
    }, {})
    let (tracked, plain) = try timeAlternately(communicator, repetitions: 2000,
                                               { try communicator.allreduce(&one, operation: .max) },
                                               { try untracked.allreduce(&one, operation: .max) })
    report(communicator, "allreduce 1 float: MPI_Allreduce \(microseconds(rawSmall)), Communicator.allreduce with arrival tracking \(microseconds(tracked)), without \(microseconds(plain))")
    try untracked.close()

    let gradients = (0..<16).map { index -> (String, Tensor) in
        let parameter = Tensor.zeros([largeCount / 16]).requiringGradient()
        parameter.grad = Tensor.ones(parameter.shape)
        return (String(format: "layer%02d.weight", index), parameter)
    }
    let bucketer = GradientBucketer(parameters: gradients, communicator: communicator)
    let (bucketed, flat) = try timeAlternately(communicator, repetitions: 30,
                                               { try bucketer.finish() },
                                               { try communicator.averageGradients(parameters: gradients) })
    bucketer.detach()
    report(communicator, "average 4 MB of gradients: \(bucketer.buckets.count) buckets \(milliseconds(bucketed)), one flat allreduce \(milliseconds(flat))")
}

/// Median seconds of `first` and of `second`, run alternately (so a busy machine slows both
/// alike), each run started together on all ranks after a barrier.
private func timeAlternately(_ communicator: Communicator, repetitions: Int,
                             _ first: () throws -> Void, _ second: () throws -> Void) throws -> (Double, Double) {
    try first()  // warm-up: connections, buffers
    try second()
    var times: ([Double], [Double]) = ([], [])
    for _ in 0..<repetitions {
        try communicator.barrier()
        var start = monotonicSeconds()
        try first()
        times.0.append(monotonicSeconds() - start)
        try communicator.barrier()
        start = monotonicSeconds()
        try second()
        times.1.append(monotonicSeconds() - start)
    }
    return (times.0.sorted()[repetitions / 2], times.1.sorted()[repetitions / 2])
}

private func report(_ communicator: Communicator, _ line: String) {
    if communicator.rank == 0 { print("[\(communicator.size) ranks] \(line)") }
}

private func milliseconds(_ seconds: Double) -> String { String(format: "%.3f ms", seconds * 1e3) }
private func microseconds(_ seconds: Double) -> String { String(format: "%.1f µs", seconds * 1e6) }
