import ArgumentParser
import Foundation
import TesseraPicture
import TesseraTraining

/// `tessera compare RUN RUN… --metric NAME --output plot.png`: one metric of several runs in one chart.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare", abstract: "Draw one metric of several runs in one PNG (the same chart code as curves.png).")

    @Argument(help: "Run directories (e.g. runs/mlp-digits runs/cnn-digits).")
    var runs: [String]

    @Option(help: "The metric to draw, a key of metrics.jsonl (loss, test_accuracy, eval_return_mean, …).")
    var metric: String

    @Option(help: "Where to write the PNG.")
    var output: String

    @Option(help: "TensorBoard's smoothing weight in [0, 1): the moving average over a faint raw curve.")
    var smooth = 0.0

    @Flag(help: "A logarithmic y axis (values ≤ 0 are left out).")
    var log = false

    func validate() throws {
        guard !runs.isEmpty else { throw ValidationError("name at least one run directory") }
        guard smooth >= 0 && smooth < 1 else { throw ValidationError("--smooth must be in [0, 1), got \(smooth)") }
    }

    func run() throws {
        var series: [LineChart.Series] = []
        var leftOut = 0
        let names = runs.map { URL(fileURLWithPath: $0).standardizedFileURL.lastPathComponent }
        for (index, path) in runs.enumerated() {
            let run = try RunRecord(url: URL(fileURLWithPath: path, isDirectory: true))
            let points = run.series(metric)
            guard !points.isEmpty else {
                throw ValidationError("\(path) logged no '\(metric)'; its metrics: \(run.metricNames.joined(separator: ", "))")
            }
            if log { leftOut += points.filter { !($0.y > 0) }.count }
            // Two runs with the same folder name (runs/a/mlp, runs/b/mlp) are told apart by their path.
            let name = names.filter { $0 == names[index] }.count > 1 ? path : names[index]
            series.append(.init(name: name, points: points))
        }
        let chart = LineChart(panels: [.init(title: metric, series: series, logarithmic: log)], smoothing: smooth)
        do {
            try chart.render().writePNG(to: URL(fileURLWithPath: output))
        } catch {
            throw ValidationError("cannot write \(output): \(error.localizedDescription)")
        }
        print("wrote \(output): \(metric) of \(runs.count) run\(runs.count == 1 ? "" : "s")"
              + (smooth > 0 ? ", smoothed \(smooth)" : "") + (log ? ", log scale" : ""))
        if leftOut > 0 { print("left out \(leftOut) value\(leftOut == 1 ? "" : "s") ≤ 0 that a log axis cannot show") }
    }
}
