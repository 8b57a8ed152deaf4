/// A run's `checkpoints/` directory: numbered step files with rotation, a best checkpoint kept out
/// of rotation, and the search behind `--resume auto`.
///
///     let directory = CheckpointDirectory(path: "runs/mnist/checkpoints", keepLast: 3)
///     try directory.save(checkpoint, step: 100, isBest: validationLoss < bestLoss)
///     let search = try directory.latestValid()
///     for skipped in search.skipped { print("skipped \(skipped.fileName): \(skipped.reason)") }
public struct CheckpointDirectory: Sendable {
    public let path: String
    /// How many step files survive rotation (at least 1). `best.tsr` is kept regardless.
    public let keepLast: Int

    public init(path: String, keepLast: Int = 3) {
        precondition(keepLast >= 1, "keepLast must be at least 1, or resuming would find nothing")
        self.path = path
        self.keepLast = keepLast
    }

    /// `step-00000100.tsr`: eight digits keep `ls` in step order for any run shorter than 10^8 steps.
    public static func fileName(step: Int) -> String {
        let digits = String(step)
        return "step-" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits + ".tsr"
    }

    /// The step a file name stands for, or nil if it is not a step file.
    public static func step(fromFileName name: String) -> Int? {
        guard name.hasPrefix("step-"), name.hasSuffix(".tsr") else { return nil }
        let digits = name.dropFirst(5).dropLast(4)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(digits)
    }

    /// The best checkpoint so far, a hard link to (or copy of) the step file saved with `isBest`.
    public var bestPath: String { path + "/best.tsr" }

    public func path(step: Int) -> String { path + "/" + Self.fileName(step: step) }

    /// Saves `checkpoint` as the file for `step` (atomically), links it as `best.tsr` when
    /// `isBest`, then deletes the oldest step files so that `keepLast` remain up to this step.
    /// Returns the file's path.
    ///
    /// Files for later steps are left alone: they come from a run that was resumed from an earlier
    /// checkpoint (or are damaged leftovers `latestValid` skipped), and counting them would let
    /// rotation delete the file just written.
    @discardableResult
    public func save(_ checkpoint: Checkpoint, step: Int, isBest: Bool = false, compressionLevel: Int = Zstd.defaultLevel) throws -> String {
        precondition(step >= 0, "steps count from 0")
        try FileIO.createDirectory(path)
        let stepPath = path(step: step)
        try checkpoint.write(to: stepPath, compressionLevel: compressionLevel)
        if isBest { try FileIO.replaceWithLink(to: stepPath, at: bestPath) }
        let upToThisStep = try stepFiles().filter { $0.step <= step }
        for file in upToThisStep.dropLast(keepLast) { try FileIO.removeFile(file.path) }
        if upToThisStep.count > keepLast { try FileIO.syncDirectory(path) }
        return stepPath
    }

    /// The step files present, oldest first. A missing directory has none.
    public func stepFiles() throws -> [StepFile] {
        try FileIO.listDirectory(path)
            .compactMap { name in Self.step(fromFileName: name).map { StepFile(step: $0, path: path + "/" + name) } }
            .sorted { $0.step < $1.step }
    }

    /// The newest step file that fully verifies, loaded, plus every newer file that did not and
    /// why (so the CLI can say "skipped step-00000300.tsr: truncated: …").
    public func latestValid() throws -> ResumeSearch {
        var skipped: [SkippedCheckpoint] = []
        for file in try stepFiles().reversed() {
            do {
                let checkpoint = try Checkpoint.read(from: file.path)
                return ResumeSearch(latest: ResumePoint(step: file.step, path: file.path, checkpoint: checkpoint), skipped: skipped)
            } catch let error as CheckpointError {
                skipped.append(SkippedCheckpoint(path: file.path, error: error))
            }
        }
        return ResumeSearch(latest: nil, skipped: skipped)
    }
}

/// A step file in a checkpoint directory.
public struct StepFile: Equatable, Sendable {
    public let step: Int
    public let path: String
}

/// The checkpoint to resume from.
public struct ResumePoint: Sendable {
    public let step: Int
    public let path: String
    public let checkpoint: Checkpoint
}

/// A step file passed over because it failed verification.
public struct SkippedCheckpoint: Sendable {
    public let path: String
    public let error: CheckpointError

    public var fileName: String { FileIO.fileNameOf(path) }
    /// The problem without the path, e.g. "truncated: the file is 1,024 bytes but …".
    public var reason: String { error.problem }
}

/// The outcome of `CheckpointDirectory.latestValid()`.
public struct ResumeSearch: Sendable {
    /// Nil when no step file verifies (or there are none): start from scratch.
    public let latest: ResumePoint?
    /// Newer files that were skipped, newest first.
    public let skipped: [SkippedCheckpoint]
}
