import Foundation
import TesseraDistributed
import TesseraTensor

/// Runs `body` once per rank of a fresh `LocalCommunicator` group, each on its own thread (as
/// ranks are), and returns every rank's outcome, indexed by rank.
func outcomesOfRanks<Value>(_ size: Int, defaultTimeout: Double = 10,
                            _ body: @escaping (LocalCommunicator) throws -> Value) -> [Result<Value, Error>] {
    let group = LocalCommunicator.group(size: size)
    for communicator in group { communicator.defaultTimeout = defaultTimeout }
    return RankThreads.run(size) { try body(group[$0]) }
}

/// Like `outcomesOfRanks`, rethrowing the first rank's error.
func runRanks<Value>(_ size: Int, _ body: @escaping (LocalCommunicator) throws -> Value) throws -> [Value] {
    try outcomesOfRanks(size, body).map { try $0.get() }
}

/// Rank `rank`'s inputs: distinct values with fractional bits, so the order of a sum matters.
func inputs(of rank: Int, count: Int) -> [Float] {
    (0..<count).map { Float(rank + 1) * 0.1 + Float($0) * 0.37 - Float(($0 * 7 + rank * 3) % 11) }
}

/// The reduction every `LocalCommunicator` promises: ranks folded in order, then `/ size` for mean.
func serialReduction(_ operation: ReductionOperation, size: Int, count: Int) -> [Float] {
    var result = inputs(of: 0, count: count)
    for rank in 1..<max(size, 1) {
        let values = inputs(of: rank, count: count)
        for index in result.indices {
            switch operation {
            case .sum, .mean: result[index] = result[index] + values[index]
            case .max: result[index] = max(result[index], values[index])
            case .min: result[index] = min(result[index], values[index])
            }
        }
    }
    return operation == .mean ? result.map { $0 / Float(size) } : result
}

/// Bit patterns, so comparisons are exact and NaN-safe.
func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

/// A two-layer network's named parameters (same initial values on every call) and a function
/// that runs backward on rank `rank`'s batch.
func tinyModel() -> (parameters: [(String, Tensor)], backward: (Int) -> Void) {
    var generator = RandomGenerator(seed: 42)
    let first = Tensor.randomNormal([6, 5], generator: &generator).requiringGradient()
    let bias = Tensor.randomNormal([5], generator: &generator).requiringGradient()
    let second = Tensor.randomNormal([5, 3], generator: &generator).requiringGradient()
    let unused = Tensor.randomNormal([4], generator: &generator).requiringGradient()
    let parameters = [("layer2.weight", second), ("layer1.bias", bias), ("unused.weight", unused), ("layer1.weight", first)]
    let backward = { (rank: Int) in
        for (_, tensor) in parameters { tensor.grad = nil }
        var dataGenerator = RandomGenerator(seed: UInt64(100 + rank))
        let batch = Tensor.randomNormal([4, 6], generator: &dataGenerator)
        let output = (batch.matmul(first) + bias).tanh().matmul(second)
        (output * output).mean().backward()
    }
    return (parameters, backward)
}
