import TesseraCheckpoint

// What every trainer takes and returns, whatever the family.

/// Where a run starts from.
public enum ResumeRequest: Equatable {
    /// A fresh run (existing checkpoints in the run directory are left alone and overwritten by step).
    case none
    /// The newest checkpoint in the run directory that verifies; a fresh run when there is none.
    case automatic
    /// This checkpoint file.
    case path(String)
}

/// What a finished (or interrupted) run reports.
public struct TrainingResult {
    public let steps: Int
    public let wallSeconds: Double
    public let finalMetrics: [String: Double]
    /// Set when the run stopped early on SIGINT/SIGTERM (after saving a checkpoint).
    public let interruptedBy: String?
    public let checkpointPath: String?

    /// Every final metric on one line, by name (`test_accuracy 0.97, test_loss 0.1`): the headline
    /// of the families whose metrics differ by task (graphs, neural ODEs).
    public var metricsLine: String {
        finalMetrics.keys.sorted().map { "\($0) \(finalMetrics[$0]!)" }.joined(separator: ", ")
    }
}

/// The `derived(stream:)` numbers of the run's random streams, so each use of the recipe's seed
/// draws from its own stream and adding one never shifts another.
public enum RandomStreams {
    public static let data: UInt64 = 1
    public static let initialization: UInt64 = 2
    public static let shuffling: UInt64 = 3
    public static let dropout: UInt64 = 4
}

extension CheckpointDirectory {
    /// What `--resume auto` continues from: the newest checkpoint here that verifies. Every family
    /// says the same things on the way: which newer files it skipped and why, and — when there is
    /// none — that the run starts fresh (a typo in `--run-dir` would otherwise go unnoticed).
    func newestForResume(_ reporter: inout ProgressReporter) throws -> ResumePoint? {
        let search = try latestValid()
        for skipped in search.skipped { reporter.log("skipped \(skipped.fileName): \(skipped.reason)") }
        if search.latest == nil { reporter.log("no checkpoint to resume from in \(path); starting fresh") }
        return search.latest
    }
}
