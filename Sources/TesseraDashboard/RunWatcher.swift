import Foundation
import TesseraCheckpoint
import TesseraTraining

/// Reads one run directory as the trainer writes it, a little at a time: the lines appended to
/// `metrics.jsonl` and `ranks.jsonl` since the last look, the PNG images and checkpoints that are
/// new or rewritten, and whether `summary.json` says the run is over. Only files are read, never
/// the trainer's memory, so the dashboard can neither block nor change training.
final class RunWatcher {
    let directory: URL
    let name: String
    /// The resolved recipe (the trainer's canonical YAML), or the newest checkpoint's.
    private(set) var recipe: String?

    private var metricsReader: LineReader
    private var ranksReader: LineReader
    private var imageTimes: [String: Date] = [:]
    private var checkpointList: [CheckpointInfo] = []
    private var finished = false

    init(directory: URL, name: String? = nil, recipe: String? = nil) {
        self.directory = directory
        self.name = name ?? directory.lastPathComponent
        self.recipe = recipe
        metricsReader = LineReader(url: directory.appendingPathComponent("metrics.jsonl"))
        ranksReader = LineReader(url: directory.appendingPathComponent("ranks.jsonl"))
    }

    /// What changed since the last call (everything, the first time).
    func poll() -> RunChanges {
        var changes = RunChanges()
        let metrics = metricsReader.newLines()
        changes.restarted = metrics.restarted
        changes.metrics = metrics.lines.compactMap(RunRecord.parseMetricsLine)
        let ranks = ranksReader.newLines()
        changes.ranks = ranks.lines.compactMap(RankRecord.init(line:))
        changes.ranksRestarted = ranks.restarted

        let files = FileManager.default
        let names = (try? files.contentsOfDirectory(atPath: directory.path)) ?? []
        var images: [String: Date] = [:]
        for file in names where file.hasSuffix(".png") {
            images[file] = modified(directory.appendingPathComponent(file))
        }
        for (file, time) in images where imageTimes[file] != time {
            changes.images.append(ImageInfo(name: file, modified: time.timeIntervalSince1970))
        }
        changes.images.sort { $0.modified > $1.modified }
        imageTimes = images

        let checkpoints = readCheckpoints()
        if checkpoints != checkpointList {
            checkpointList = checkpoints
            changes.checkpoints = checkpoints
        }
        if recipe == nil, let newest = checkpoints.first {
            recipe = try? CheckpointSummary(path: directory.appendingPathComponent("checkpoints").appendingPathComponent(newest.name).path)
                .metadata["recipe"]
            changes.recipe = recipe
        }
        let summary = directory.appendingPathComponent("summary.json")
        let isFinished = modified(summary).map { written in
            [directory.appendingPathComponent("metrics.jsonl")].compactMap(modified).allSatisfy { $0 <= written }
        } ?? false
        if isFinished != finished {
            finished = isFinished
            changes.finished = isFinished
        }
        return changes
    }

    private func modified(_ url: URL) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date
    }

    /// The checkpoint files, newest step first, and which one `best.tsr` is (a hard link to a
    /// step file: the same file number).
    private func readCheckpoints() -> [CheckpointInfo] {
        let folder = directory.appendingPathComponent("checkpoints")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        func attributes(_ file: String) -> [FileAttributeKey: Any]? {
            try? FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(file).path)
        }
        let best = attributes("best.tsr")?[.systemFileNumber] as? NSNumber
        return names.compactMap { file -> CheckpointInfo? in
            guard let step = CheckpointDirectory.step(fromFileName: file) else { return nil }
            let attributes = attributes(file)
            return CheckpointInfo(name: file, step: step, bytes: (attributes?[.size] as? NSNumber)?.intValue ?? 0,
                                  modified: (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0,
                                  isBest: best != nil && attributes?[.systemFileNumber] as? NSNumber == best)
        }.sorted { $0.step > $1.step }
    }
}

/// What one look at a run directory found new.
struct RunChanges {
    /// `metrics.jsonl` was rewritten (a resume): `metrics` is the whole new history.
    var restarted = false
    var metrics: [MetricsRecord] = []
    var ranksRestarted = false
    var ranks: [RankRecord] = []
    /// New or rewritten images, newest first.
    var images: [ImageInfo] = []
    /// The whole checkpoint list when it changed.
    var checkpoints: [CheckpointInfo]?
    var recipe: String?
    var finished: Bool?

    var isEmpty: Bool {
        !restarted && metrics.isEmpty && !ranksRestarted && ranks.isEmpty && images.isEmpty && checkpoints == nil && recipe == nil
            && finished == nil
    }
}

/// One line of `ranks.jsonl`.
struct RankRecord: Equatable {
    var step: Int
    var timings: RankTimings

    init?(line: Substring) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let step = (object["step"] as? NSNumber)?.intValue,
              let steps = object["step_seconds"] as? [NSNumber], let allreduces = object["allreduce_seconds"] as? [NSNumber],
              steps.count == allreduces.count, !steps.isEmpty else { return nil }
        self.step = step
        timings = RankTimings(stepSeconds: steps.map(\.doubleValue), allreduceSeconds: allreduces.map(\.doubleValue))
    }
}

struct ImageInfo: Equatable {
    var name: String
    var modified: Double
}

struct CheckpointInfo: Equatable {
    var name: String
    var step: Int
    var bytes: Int
    var modified: Double
    var isBest: Bool
}

/// The complete lines appended to a file since the last call. A file that shrank was rewritten:
/// it is read again from the start. A last line without its newline is left for the next call
/// (the trainer may be writing it).
struct LineReader {
    let url: URL
    private var offset: UInt64 = 0
    /// The file number last read: an atomic rewrite (`RunDirectory.rewriteMetrics`) makes a new file.
    private var fileNumber: NSNumber?

    init(url: URL) { self.url = url }

    mutating func newLines() -> (lines: [Substring], restarted: Bool) {
        let number = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.systemFileNumber] as? NSNumber
        guard let handle = try? FileHandle(forReadingFrom: url) else { return ([], false) }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        var restarted = false
        if fileNumber != nil && number != fileNumber && offset > 0 {
            offset = 0
            restarted = true
        }
        fileNumber = number
        if size < offset {
            offset = 0
            restarted = true
        }
        guard size > offset else { return ([], restarted) }
        try? handle.seek(toOffset: offset)
        guard let data = try? handle.read(upToCount: Int(size - offset)), let lastNewline = data.lastIndex(of: UInt8(ascii: "\n")) else {
            return ([], restarted)
        }
        let complete = data[data.startIndex...lastNewline]
        offset += UInt64(complete.count)
        return (String(decoding: complete, as: UTF8.self).split(separator: "\n"), restarted)
    }
}
