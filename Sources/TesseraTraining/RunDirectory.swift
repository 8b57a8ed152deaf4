import Foundation
import TesseraPicture

/// One metrics record: the step and named values (`loss`, `test_accuracy`, …).
public struct MetricsRecord: Codable, Equatable, Sendable {
    public var step: Int
    public var values: [String: Double]

    public init(step: Int, values: [String: Double]) {
        self.step = step
        self.values = values
    }

    /// One line of `metrics.jsonl`: `{"step": 20, "loss": 0.41, …}` with keys sorted.
    public var jsonLine: String {
        let fields = values.keys.sorted().map { "\"\($0)\":\(jsonNumber(values[$0]!))" }
        return "{\"step\":\(step)\(fields.isEmpty ? "" : ",")\(fields.joined(separator: ","))}"
    }
}

/// JSON has no NaN or infinity; they are written as null.
func jsonNumber(_ value: Double) -> String {
    value.isFinite ? "\(value)" : "null"
}

/// What a run writes: `metrics.jsonl`, `summary.json`, `curves.png`, `checkpoints/` and a
/// TensorBoard event file. Every family logs through ``rewriteMetrics(_:)``,
/// ``appendMetrics(_:)`` and ``writeCurves(_:)``, and only rank 0 calls them, so these three
/// are where every run's metrics reach both `metrics.jsonl` and TensorBoard.
public struct RunDirectory {
    public let url: URL
    /// This process's TensorBoard event file, `events.out.tfevents.<seconds>.<host>` (a `.N`
    /// suffix when that name is taken: a resume within the same second). Created by the first
    /// metrics call; a resumed run gets a new file and leaves the old one as it was.
    public let eventsURL: URL

    public init(path: String) throws {
        url = URL(fileURLWithPath: path, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: url.appendingPathComponent("checkpoints", isDirectory: true), withIntermediateDirectories: true)
        } catch {
            throw TrainingError("cannot create the run directory \(path): \(error.localizedDescription)")
        }
        let host = ProcessInfo.processInfo.hostName.replacingOccurrences(of: "/", with: "_")
        let base = "events.out.tfevents.\(Int(Date().timeIntervalSince1970)).\(host)"
        var name = base, suffix = 0
        while FileManager.default.fileExists(atPath: url.appendingPathComponent(name).path) {
            suffix += 1
            name = "\(base).\(suffix)"
        }
        eventsURL = url.appendingPathComponent(name)
    }

    public var metricsURL: URL { url.appendingPathComponent("metrics.jsonl") }
    public var summaryURL: URL { url.appendingPathComponent("summary.json") }
    public var curvesURL: URL { url.appendingPathComponent("curves.png") }
    public var checkpointsURL: URL { url.appendingPathComponent("checkpoints", isDirectory: true) }

    /// Rewrites `metrics.jsonl` to hold exactly `records` (used when a run resumes: lines written
    /// after the checkpoint it resumes from are dropped, so the file matches the resumed history).
    ///
    /// It also starts this process's event file: the file version, a session start at step 0 and
    /// the whole of `records`. TensorBoard reads a directory's files in name order; the session
    /// start makes it drop what older files said (EventAccumulator purges from the start's step;
    /// the data server drops points when a step comes again), so it shows `metrics.jsonl`'s
    /// history, not lines a resumed run dropped.
    public func rewriteMetrics(_ records: [MetricsRecord]) throws {
        let text = records.map { $0.jsonLine + "\n" }.joined()
        try Data(text.utf8).write(to: metricsURL, options: .atomic)
        try truncateRankTimings(after: records.last?.step ?? 0)
        let now = Date().timeIntervalSince1970
        let start = [TensorBoardEvent(wallTime: now, step: 0, content: .fileVersion("brain.Event:2")),
                     TensorBoardEvent(wallTime: now, step: 0, content: .sessionStart)]
        let events = start + records.map(scalarEvent)
        do {
            try Data(events.flatMap(\.record)).write(to: eventsURL, options: .atomic)
        } catch {
            throw TrainingError("cannot write the TensorBoard event file \(eventsURL.path): \(error.localizedDescription)")
        }
    }

    /// Appends one record to `metrics.jsonl`.
    public func appendMetrics(_ record: MetricsRecord) throws {
        try append(Data((record.jsonLine + "\n").utf8), to: metricsURL)
        try appendEvent(scalarEvent(record))
    }

    private func append(_ data: Data, to file: URL) throws {
        if let handle = try? FileHandle(forWritingTo: file) {
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: data)
        } else {
            try data.write(to: file)
        }
    }

    /// Appends one record to the event file, starting it with the file version if no metrics
    /// call has yet.
    private func appendEvent(_ event: TensorBoardEvent) throws {
        var events = [event]
        if !FileManager.default.fileExists(atPath: eventsURL.path) {
            events.insert(TensorBoardEvent(wallTime: event.wallTime, step: 0, content: .fileVersion("brain.Event:2")), at: 0)
        }
        do {
            try append(Data(events.flatMap(\.record)), to: eventsURL)
        } catch {
            throw TrainingError("cannot write the TensorBoard event file \(eventsURL.path): \(error.localizedDescription)")
        }
    }

    /// One event with every value of `record` as a scalar under its `metrics.jsonl` key.
    private func scalarEvent(_ record: MetricsRecord) -> TensorBoardEvent {
        let scalars = record.values.keys.sorted().map { (tag: $0, value: Float(record.values[$0]!)) }
        return TensorBoardEvent(wallTime: Date().timeIntervalSince1970, step: Int64(record.step), content: .scalars(scalars))
    }

    /// Writes `summary.json`: `steps`, `wall_seconds`, the final `metrics`, and extra fields.
    public func writeSummary(steps: Int, wallSeconds: Double, metrics: [String: Double], extra: [String: String] = [:]) throws {
        var lines = ["  \"steps\": \(steps)", "  \"wall_seconds\": \(jsonNumber(wallSeconds))"]
        let metricFields = metrics.keys.sorted().map { "    \"\($0)\": \(jsonNumber(metrics[$0]!))" }
        lines.append("  \"metrics\": {\n\(metricFields.joined(separator: ",\n"))\n  }")
        for key in extra.keys.sorted() {
            let escaped = extra[key]!.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            lines.append("  \"\(key)\": \"\(escaped)\"")
        }
        try Data("{\n\(lines.joined(separator: ",\n"))\n}\n".utf8).write(to: summaryURL, options: .atomic)
    }

    /// Draws every metric's curve into `curves.png`: losses in one panel, the rest in another.
    public func writeCurves(_ records: [MetricsRecord]) throws {
        var byName: [String: [(x: Double, y: Double)]] = [:]
        for record in records {
            for (name, value) in record.values where name != "learning_rate" && name != "samples_per_second" {
                byName[name, default: []].append((Double(record.step), value))
            }
        }
        let lossNames = byName.keys.filter { $0.contains("loss") }.sorted()
        let otherNames = byName.keys.filter { !$0.contains("loss") }.sorted()
        var panels: [LineChart.Panel] = []
        if !lossNames.isEmpty {
            panels.append(.init(title: "loss", series: lossNames.map { .init(name: $0, points: byName[$0]!) }))
        }
        if !otherNames.isEmpty {
            panels.append(.init(title: "metrics", series: otherNames.map { .init(name: $0, points: byName[$0]!) }))
        }
        let image = LineChart(panels: panels).render(), png = image.pngData()
        try png.write(to: curvesURL, options: .atomic)
        // The same picture in TensorBoard's images tab, at the last logged step.
        try appendEvent(TensorBoardEvent(wallTime: Date().timeIntervalSince1970, step: Int64(records.last?.step ?? 0),
                                         content: .image(tag: "curves", height: image.height, width: image.width, colorspace: 3,
                                                         encoded: Array(png))))
    }
}

/// A problem that stops a run, with a message for the user.
public struct TrainingError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
