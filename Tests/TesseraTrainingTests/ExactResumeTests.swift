import Foundation
import Testing
import TesseraCheckpoint

/// A run killed at a random moment and resumed ends bit-for-bit where an uninterrupted run ends.
@Suite(.serialized) struct ExactResumeTests {
    /// A short version of the default recipe: 4 epochs (92 steps), a checkpoint every 7 steps,
    /// dropout on, so model, optimizer, data order and dropout streams all have to resume exactly.
    static let shortRun = ["--set", "training.epochs=4", "--set", "training.checkpointEvery=7",
                           "--set", "training.evaluateEvery=23", "--set", "training.keepCheckpoints=2", "--quiet"]

    static func modelEntries(_ path: String) throws -> [String: [UInt8]] {
        let checkpoint = try Checkpoint.read(from: path)
        var result: [String: [UInt8]] = [:]
        for entry in checkpoint.entries { result[entry.name] = entry.bytes }
        return result
    }

    @Test func killedRunResumedWithAutoMatchesUninterruptedRunBitForBit() throws {
        let workspace = CommandLineTool.temporaryDirectory("killed")
        defer { try? FileManager.default.removeItem(at: workspace) }
        let (reference, interrupted) = try RunComparisons.expectKilledRunResumesBitForBit(
            recipe: "configs/mlp-digits.yaml", settings: Self.shortRun, lastCheckpoint: "checkpoints/step-00000092.tsr",
            maximumDelay: 400_000, in: workspace)
        // The resumed run's metrics file holds each logged step once.
        let lines = try String(contentsOf: interrupted.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n")
        let referenceLines = try String(contentsOf: reference.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n")
        #expect(lines.count == referenceLines.count)
    }

    @Test func sigtermWritesACheckpointThenExitsNonZero() throws {
        let directory = CommandLineTool.temporaryDirectory("sigterm")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (process, output, _) = try CommandLineTool.start(
            ["train", "configs/mlp-digits.yaml", "--run-dir", directory.path, "--set", "training.checkpointEvery=0"])
        // Wait for training to be under way (its first progress line), then pre-empt it.
        let handle = output.fileHandleForReading
        var seen = ""
        while !seen.contains("step ") {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        kill(process.processIdentifier, SIGTERM)
        let rest = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 143)
        #expect(rest.contains("SIGTERM: saved"))
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("checkpoints").path)
        let saved = try #require(files.first { $0.hasPrefix("step-") })
        _ = try Checkpoint.verify(directory.appendingPathComponent("checkpoints").appendingPathComponent(saved).path)
    }
}
