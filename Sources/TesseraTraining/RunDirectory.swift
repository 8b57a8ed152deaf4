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

/// What a run writes: `metrics.jsonl`, `summary.json`, `curves.png` and `checkpoints/`.
public struct RunDirectory {
    public let url: URL

    public init(path: String) throws {
        url = URL(fileURLWithPath: path, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: checkpointsURL, withIntermediateDirectories: true)
        } catch {
            throw TrainingError("cannot create the run directory \(path): \(error.localizedDescription)")
        }
    }

    public var metricsURL: URL { url.appendingPathComponent("metrics.jsonl") }
    public var summaryURL: URL { url.appendingPathComponent("summary.json") }
    public var curvesURL: URL { url.appendingPathComponent("curves.png") }
    public var checkpointsURL: URL { url.appendingPathComponent("checkpoints", isDirectory: true) }

    /// Rewrites `metrics.jsonl` to hold exactly `records` (used when a run resumes: lines written
    /// after the checkpoint it resumes from are dropped, so the file matches the resumed history).
    public func rewriteMetrics(_ records: [MetricsRecord]) throws {
        let text = records.map { $0.jsonLine + "\n" }.joined()
        try Data(text.utf8).write(to: metricsURL, options: .atomic)
    }

    /// Appends one record to `metrics.jsonl`.
    public func appendMetrics(_ record: MetricsRecord) throws {
        let line = Data((record.jsonLine + "\n").utf8)
        if let handle = try? FileHandle(forWritingTo: metricsURL) {
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: line)
        } else {
            try line.write(to: metricsURL)
        }
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
        try LineChart(panels: panels).render().writePNG(to: curvesURL)
    }
}

/// A problem that stops a run, with a message for the user.
public struct TrainingError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
