import ArgumentParser
import Foundation
import TesseraTraining

/// `tessera runs [DIR]`: a table of the runs in a directory.
struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "List the runs in a directory: recipe, status, steps, best metric, wall time.",
        discussion: """
        Status: finished (summary.json written after the last metrics and checkpoint), running (no \
        newer summary; files changed in the last minute), interrupted (quiet, with a checkpoint: \
        --resume auto continues it), failed (nothing to resume from, or a last value that is not finite).
        """)

    @Argument(help: "The directory holding run directories.")
    var directory = "runs"

    func run() throws {
        let runs = try RunRecord.runs(in: URL(fileURLWithPath: directory, isDirectory: true))
        guard !runs.isEmpty else {
            print("no runs in \(directory) (a run directory holds metrics.jsonl or summary.json)")
            return
        }
        var rows = [["run", "recipe", "task", "status", "steps", "best metric", "wall time"]]
        for run in runs {
            let best = run.bestMetric.map { "\($0.name) \(Self.format($0.value)) @ \($0.step)" } ?? "-"
            rows.append([run.name, run.recipe ?? "-", run.task ?? "-", run.status.rawValue, run.steps.map(String.init) ?? "-",
                         best, run.wallSeconds.map(Self.duration) ?? "-"])
        }
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max()! }
        for row in rows {
            print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces))
        }
    }

    static func format(_ value: Double) -> String {
        abs(value) >= 1000 || (abs(value) < 1e-3 && value != 0) ? String(format: "%.3g", value) : String(format: "%.4g", value)
    }

    static func duration(_ seconds: Double) -> String {
        seconds < 60 ? String(format: "%.1f s", seconds)
            : seconds < 3600 ? String(format: "%dm %02ds", Int(seconds) / 60, Int(seconds) % 60)
            : String(format: "%dh %02dm", Int(seconds) / 3600, Int(seconds) % 3600 / 60)
    }
}
