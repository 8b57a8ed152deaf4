import Foundation

/// A run directory read back for `tessera runs` and `tessera compare`: its metrics history, its
/// summary, and what state the run was left in.
public struct RunRecord {
    /// How a run ended, decided from the files alone (nothing records a process id):
    public enum Status: String {
        /// `summary.json` was written after the last metrics and checkpoint (a run writes it last).
        case finished
        /// No newer summary, and metrics, events or checkpoints changed in the last minute.
        case running
        /// No newer summary, quiet for a minute, and a checkpoint to continue from (SIGINT, SIGTERM,
        /// SIGKILL, a lost machine): `--resume auto` continues it.
        case interrupted
        /// No newer summary and nothing to resume from, or a last logged value that is not finite
        /// (a run that diverged).
        case failed
    }

    public let url: URL
    public var name: String { url.lastPathComponent }
    public let metrics: [MetricsRecord]
    /// `summary.json`'s fields: `steps`, `wall_seconds`, `recipe`, `task`, …; empty without one.
    public let summary: [String: Any]
    public let status: Status

    /// Reads the run at `url`; a directory without `metrics.jsonl` or `summary.json` is not a run.
    public init(url: URL, now: Date = Date()) throws {
        self.url = url
        let files = FileManager.default
        var isDirectory: ObjCBool = false
        guard files.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TrainingError("\(url.path): no such run directory")
        }
        let metricsURL = url.appendingPathComponent("metrics.jsonl"), summaryURL = url.appendingPathComponent("summary.json")
        guard files.fileExists(atPath: metricsURL.path) || files.fileExists(atPath: summaryURL.path) else {
            throw TrainingError("\(url.path) is not a run directory (it has no metrics.jsonl or summary.json)")
        }
        metrics = try Self.readMetrics(metricsURL)
        summary = (try? Data(contentsOf: summaryURL)).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? [:]

        func modified(_ file: URL) -> Date? { (try? files.attributesOfItem(atPath: file.path))?[.modificationDate] as? Date }
        let checkpoints = ((try? files.contentsOfDirectory(atPath: url.appendingPathComponent("checkpoints").path)) ?? [])
            .filter { $0.hasSuffix(".tsr") }.map { url.appendingPathComponent("checkpoints").appendingPathComponent($0) }
        let events = ((try? files.contentsOfDirectory(atPath: url.path)) ?? []).filter { $0.hasPrefix("events.out.tfevents.") }.map { url.appendingPathComponent($0) }
        // The curves image reaches the event file after the summary, so events do not count here.
        let progress = ([metricsURL] + checkpoints).compactMap(modified).max()
        let activity = ([metricsURL] + checkpoints + events).compactMap(modified).max()
        if let written = modified(summaryURL), progress.map({ written >= $0 }) ?? true {
            status = .finished
        } else if let activity, now.timeIntervalSince(activity) < 60 {
            status = .running
        } else if checkpoints.isEmpty || metrics.last?.values.values.contains(where: { !$0.isFinite }) == true {
            status = .failed
        } else {
            status = .interrupted
        }
    }

    /// The records of `metrics.jsonl` (null, JSON's stand-in for NaN and infinity, reads as NaN).
    /// The lines are flat objects of numbers that ``MetricsRecord/jsonLine`` wrote, parsed here
    /// with `Double(_:)`: Foundation's JSONSerialization on Linux is off by an ulp on some values.
    static func readMetrics(_ url: URL) throws -> [MetricsRecord] {
        guard let data = try? Data(contentsOf: url) else { return [] }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        var records: [MetricsRecord] = []
        for (index, line) in lines.enumerated() {
            guard let record = parseMetricsLine(line) else {
                // A run killed mid-write can leave a partial last line; anything else is damage.
                if index == lines.count - 1 { break }
                throw TrainingError("\(url.path):\(index + 1): not a metrics record")
            }
            records.append(record)
        }
        return records
    }

    /// One line of `metrics.jsonl`, or nil if it is not a metrics record.
    public static func parseMetricsLine(_ line: Substring) -> MetricsRecord? {
        let body = line.trimmingCharacters(in: .whitespaces)
        guard body.hasPrefix("{"), body.hasSuffix("}") else { return nil }
        var step: Int?, values: [String: Double] = [:]
        for field in body.dropFirst().dropLast().split(separator: ",") {
            guard let colon = field.lastIndex(of: ":") else { return nil }
            let key = field[..<colon].trimmingCharacters(in: .whitespaces), text = field[field.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            guard key.count >= 2, key.hasPrefix("\""), key.hasSuffix("\"") else { return nil }
            let name = String(key.dropFirst().dropLast())
            if name == "step" {
                guard let value = Int(text) else { return nil }
                step = value
            } else if text == "null" {
                values[name] = .nan
            } else {
                guard let value = Double(text) else { return nil }
                values[name] = value
            }
        }
        return step.map { MetricsRecord(step: $0, values: values) }
    }

    /// Every metric name the run logged, sorted.
    public var metricNames: [String] { Set(metrics.flatMap(\.values.keys)).sorted() }

    /// The (step, value) points of one metric.
    public func series(_ metric: String) -> [(x: Double, y: Double)] {
        metrics.compactMap { record in record.values[metric].map { (Double(record.step), $0) } }
    }

    /// The steps the summary reports (environment steps for RL), else the last logged step.
    public var steps: Int? { (summary["steps"] as? NSNumber)?.intValue ?? metrics.last?.step }
    public var wallSeconds: Double? { (summary["wall_seconds"] as? NSNumber)?.doubleValue }
    public var recipe: String? { summary["recipe"] as? String }
    /// The recipe's task; classification runs' summaries name none, and it is their default.
    public var task: String? { summary["task"] as? String ?? (summary["recipe"] != nil ? "classification" : nil) }

    /// The run's headline metric and its best logged value with the step: the first of
    /// test accuracy, evaluation return, any accuracy or return (highest is best), test loss,
    /// any loss (lowest is best).
    public var bestMetric: (name: String, value: Double, step: Int)? {
        let names = metricNames
        let higher = ["test_accuracy", "eval_return_mean"] + names.filter { $0.contains("accuracy") || $0.contains("return") || $0.contains("exact_match") }
        let lower = ["test_loss"] + names.filter { $0.contains("loss") }
        for (candidates, isHigherBetter) in [(higher, true), (lower, false)] {
            for name in candidates where names.contains(name) {
                let points = metrics.compactMap { record in record.values[name].flatMap { $0.isFinite ? (record.step, $0) : nil } }
                guard let best = isHigherBetter ? points.max(by: { $0.1 < $1.1 }) : points.min(by: { $0.1 < $1.1 }) else { continue }
                return (name, best.1, best.0)
            }
        }
        return nil
    }

    /// The runs directly inside `directory` (sub-directories that are runs), sorted by name.
    public static func runs(in directory: URL, now: Date = Date()) throws -> [RunRecord] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TrainingError("\(directory.path): no such directory")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        return names.compactMap { try? RunRecord(url: directory.appendingPathComponent($0), now: now) }
    }
}
