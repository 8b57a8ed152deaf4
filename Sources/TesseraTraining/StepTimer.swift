import Foundation

/// Each rank's time per training step and the part of it spent waiting for the gradient
/// allreduce, for `ranks.jsonl` (and the dashboard's per-rank panel).
///
/// With synchronous data parallelism every rank leaves the allreduce together, so the whole
/// step takes about as long on every rank; what tells the ranks apart is the compute before it:
/// the slowest rank waits least, the others wait for it. So a rank's record holds both, and its
/// compute time is `step − allreduce`. With gradient buckets that start during backward
/// (`distributed.overlap`) the allreduce time is what is left to wait for after backward.
///
/// The trainer brackets each step with ``startStep()`` and ``endStep()`` and calls the
/// collective's `averageGradients` through ``allreduce(_:)``, so the collective stays visible in
/// the step. At a log line every rank calls ``collect(_:)`` (one sum over the ranks).
public struct StepTimer {
    private var stepStart: UInt64 = 0
    private var stepSeconds = 0.0, allreduceSeconds = 0.0, steps = 0

    public init() {}

    public mutating func startStep() { stepStart = DispatchTime.now().uptimeNanoseconds }

    public mutating func endStep() {
        stepSeconds += Double(DispatchTime.now().uptimeNanoseconds - stepStart) / 1e9
        steps += 1
    }

    /// Runs `averageGradients` (or any wait for the other ranks) and counts its time.
    public mutating func allreduce(_ averageGradients: () throws -> Void) rethrows {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { allreduceSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        try averageGradients()
    }

    /// Every rank's mean step and allreduce seconds over the steps since the last call, indexed
    /// by rank (on every rank: rank r fills slots r and W + r of one sum over the ranks). Every
    /// rank must call it at the same step; `nil` when no step was timed since the last call.
    public mutating func collect(_ collective: (any TrainingCollective)?) throws -> RankTimings? {
        let worldSize = collective?.worldSize ?? 1, rank = collective?.rank ?? 0
        var local = [Double](repeating: 0, count: 2 * worldSize + 1)
        if steps > 0 {
            local[rank] = stepSeconds / Double(steps)
            local[worldSize + rank] = allreduceSeconds / Double(steps)
        }
        local[2 * worldSize] = steps > 0 ? 1 : 0
        (stepSeconds, allreduceSeconds, steps) = (0, 0, 0)
        let totals = try collective?.sum(local) ?? local
        guard totals[2 * worldSize] == Double(worldSize) else { return nil }
        return RankTimings(stepSeconds: Array(totals[0..<worldSize]), allreduceSeconds: Array(totals[worldSize..<2 * worldSize]))
    }
}

/// One line of `ranks.jsonl`: each rank's mean seconds per step and in the allreduce since the
/// previous line, indexed by rank.
public struct RankTimings: Equatable, Sendable {
    public var stepSeconds: [Double]
    public var allreduceSeconds: [Double]

    public init(stepSeconds: [Double], allreduceSeconds: [Double]) {
        self.stepSeconds = stepSeconds
        self.allreduceSeconds = allreduceSeconds
    }

    /// The rank the others wait for: the longest compute (step less allreduce).
    public var slowestRank: Int {
        zip(stepSeconds, allreduceSeconds).map { $0 - $1 }.enumerated().max { $0.element < $1.element }?.offset ?? 0
    }

    /// `{"step":20,"step_seconds":[…],"allreduce_seconds":[…]}`.
    public func jsonLine(step: Int) -> String {
        func list(_ values: [Double]) -> String { "[" + values.map(jsonNumber).joined(separator: ",") + "]" }
        return "{\"step\":\(step),\"step_seconds\":\(list(stepSeconds)),\"allreduce_seconds\":\(list(allreduceSeconds))}"
    }
}

extension RunDirectory {
    /// Per-rank step timings, one line per log line (see `StepTimer`).
    public var ranksURL: URL { url.appendingPathComponent("ranks.jsonl") }

    /// Appends one line to `ranks.jsonl`.
    public func appendRankTimings(_ timings: RankTimings, step: Int) throws {
        let line = Data((timings.jsonLine(step: step) + "\n").utf8)
        if let handle = try? FileHandle(forWritingTo: ranksURL) {
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: line)
        } else {
            try line.write(to: ranksURL)
        }
    }

    /// Drops the lines of `ranks.jsonl` after `step` (a resumed run continues from there).
    func truncateRankTimings(after step: Int) throws {
        guard let data = try? Data(contentsOf: ranksURL) else { return }
        let kept = String(decoding: data, as: UTF8.self).split(separator: "\n").filter { line in
            guard let range = line.range(of: "\"step\":"),
                  let value = Int(line[range.upperBound...].prefix { $0.isNumber }) else { return false }
            return value <= step
        }
        try Data(kept.map { $0 + "\n" }.joined().utf8).write(to: ranksURL, options: .atomic)
    }
}
