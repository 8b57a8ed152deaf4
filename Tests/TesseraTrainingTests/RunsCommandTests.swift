import Foundation
import Testing

@testable import TesseraTraining

/// `tessera runs` and `tessera compare` on tiny karate runs (about a second each).
@Suite(.serialized) struct RunsCommandTests {
    static func train(_ directory: URL, steps: Int, learningRate: Double = 0.01) throws {
        let result = try CommandLineTool.run(["train", "configs/graph-karate.yaml", "--run-dir", directory.path, "--quiet",
                                              "--set", "training.steps=\(steps)", "--set", "training.logEvery=2",
                                              "--set", "optimizer.learningRate=\(learningRate)"])
        try #require(result.status == 0, "\(result.errorOutput)")
    }

    /// Makes every file of a run look untouched for two hours.
    static func age(_ directory: URL) throws {
        let old = Date().addingTimeInterval(-7200)
        let enumerator = FileManager.default.enumerator(atPath: directory.path)
        while let path = enumerator?.nextObject() as? String {
            try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: directory.appendingPathComponent(path).path)
        }
    }

    @Test func runsListsRecipeStatusStepsBestMetricAndWallTime() throws {
        let root = CommandLineTool.temporaryDirectory("runs")
        defer { try? FileManager.default.removeItem(at: root) }
        try Self.train(root.appendingPathComponent("done"), steps: 20)
        // The same run with its summary gone: running while its files are fresh, interrupted once
        // they are old (it has checkpoints), failed without checkpoints.
        for name in ["live", "stopped", "broken"] {
            try FileManager.default.copyItem(at: root.appendingPathComponent("done"), to: root.appendingPathComponent(name))
            try FileManager.default.removeItem(at: root.appendingPathComponent(name).appendingPathComponent("summary.json"))
        }
        try Self.age(root.appendingPathComponent("stopped"))
        try FileManager.default.removeItem(at: root.appendingPathComponent("broken/checkpoints"))
        try Self.age(root.appendingPathComponent("broken"))
        try FileManager.default.createDirectory(at: root.appendingPathComponent("not-a-run"), withIntermediateDirectories: true)

        let result = try CommandLineTool.run(["runs", root.path])
        #expect(result.status == 0, "\(result.errorOutput)")
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(lines.count == 5, "a header and four runs, not the empty folder: \(result.output)")
        #expect(lines.first?.hasPrefix("run ") == true && lines[0].contains("best metric") && lines[0].contains("wall time"))
        func row(_ name: String) -> String { lines.first { $0.hasPrefix(name + " ") } ?? "" }
        #expect(row("done").contains("graph-karate") && row("done").contains(" graph ") && row("done").contains("finished"))
        #expect(row("done").contains(" 20 ") && row("done").contains("test_accuracy") && row("done").contains(" s"))
        #expect(row("live").contains("running"))
        #expect(row("stopped").contains("interrupted"))
        #expect(row("broken").contains("failed"))

        let missing = try CommandLineTool.run(["runs", root.appendingPathComponent("nowhere").path])
        #expect(missing.status != 0 && missing.errorOutput.contains("no such directory"))
    }

    @Test func compareDrawsOneMetricOfSeveralRunsAndNamesWhatIsMissing() throws {
        let root = CommandLineTool.temporaryDirectory("compare")
        defer { try? FileManager.default.removeItem(at: root) }
        let slow = root.appendingPathComponent("slow"), fast = root.appendingPathComponent("fast")
        try Self.train(slow, steps: 20, learningRate: 0.002)
        try Self.train(fast, steps: 30, learningRate: 0.02)
        let plot = root.appendingPathComponent("loss.png")
        let result = try CommandLineTool.run(["compare", slow.path, fast.path, "--metric", "loss", "--output", plot.path, "--smooth", "0.6", "--log"])
        #expect(result.status == 0, "\(result.errorOutput)")
        #expect(result.output.contains("loss of 2 runs"))
        let png = [UInt8](try Data(contentsOf: plot))
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let width = png[16..<20].reduce(0) { $0 << 8 | Int($1) }, height = png[20..<24].reduce(0) { $0 << 8 | Int($1) }
        #expect(width == 900 && height == 300)

        let unknownMetric = try CommandLineTool.run(["compare", slow.path, "--metric", "bleu", "--output", plot.path])
        #expect(unknownMetric.status != 0)
        #expect(unknownMetric.errorOutput.contains("logged no 'bleu'") && unknownMetric.errorOutput.contains("loss")
                && unknownMetric.errorOutput.contains("test_accuracy"), "\(unknownMetric.errorOutput)")
        let unknownRun = try CommandLineTool.run(["compare", root.appendingPathComponent("nowhere").path, "--metric", "loss", "--output", plot.path])
        #expect(unknownRun.status != 0 && unknownRun.errorOutput.contains("no such run directory"))
        let notARun = try CommandLineTool.run(["compare", root.path, "--metric", "loss", "--output", plot.path])
        #expect(notARun.status != 0 && notARun.errorOutput.contains("is not a run directory"))
        let badSmoothing = try CommandLineTool.run(["compare", slow.path, "--metric", "loss", "--output", plot.path, "--smooth", "1"])
        #expect(badSmoothing.status != 0 && badSmoothing.errorOutput.contains("--smooth must be in [0, 1)"))
    }

    @Test func metricsLinesReadBackToTheExactDoublesWritten() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let value = Double.random(in: 0..<1, using: &generator) * pow(10, Double(Int.random(in: -8...6, using: &generator)))
            let record = MetricsRecord(step: Int.random(in: 0...1_000_000, using: &generator), values: ["loss": value, "test_accuracy": -value])
            #expect(RunRecord.parseMetricsLine(Substring(record.jsonLine)) == record, "\(record.jsonLine)")
        }
        let gap = try #require(RunRecord.parseMetricsLine(Substring(MetricsRecord(step: 3, values: ["loss": .nan]).jsonLine)))
        #expect(gap.step == 3 && gap.values["loss"]!.isNaN)
        #expect(RunRecord.parseMetricsLine("{\"step\":3,\"loss\":0.") == nil, "a line cut short by a kill")
    }

    @Test func aTrainedRunsEventFileHoldsItsMetricsAndCurves() throws {
        let run = CommandLineTool.temporaryDirectory("events-cli")
        defer { try? FileManager.default.removeItem(at: run) }
        try Self.train(run, steps: 10)
        let files = try RunDirectoryEventsTests.eventFiles(run)
        #expect(files.count == 1)
        let records = try RunDirectoryEventsTests.records(try #require(files.first))
        let metrics = try RunRecord.readMetrics(run.appendingPathComponent("metrics.jsonl"))
        // file_version, session start, one event a metrics line, the curves image.
        #expect(records.count == 2 + metrics.count + 1)
        for (record, event) in zip(metrics, records.dropFirst(2)) {
            #expect(event == RunDirectoryEventsTests.scalarRecord(record, wallTime: RunDirectoryEventsTests.wallTime(event)), "step \(record.step)")
        }
    }
}
