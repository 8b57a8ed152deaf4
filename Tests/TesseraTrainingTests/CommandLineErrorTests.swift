import Foundation
import TesseraCheckpoint
import Testing

/// Bad input stops `tessera` with a message naming the file, key or value, and a non-zero exit.
@Suite struct CommandLineErrorTests {
    func writeRecipe(_ text: String) throws -> URL {
        let directory = CommandLineTool.temporaryDirectory("recipe")
        let url = directory.appendingPathComponent("bad.yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test func misspelledKeyNamesFileLineAndClosestKey() throws {
        let url = try writeRecipe("""
        task: classification
        name: typo
        data: {dataset: digits}
        model: {kind: mlp}
        optimizer:
          kind: adam
          learningRat: 0.01
        training: {epochs: 1}
        """)
        let result = try CommandLineTool.run(["train", url.path, "--quiet"])
        #expect(result.status != 0)
        #expect(result.errorOutput.contains("bad.yaml:7"))
        #expect(result.errorOutput.contains("learningRate"))
    }

    @Test func outOfRangeOverrideIsRejectedBeforeTraining() throws {
        let result = try CommandLineTool.run(["train", "configs/mlp-digits.yaml", "--set", "data.batchSize=0", "--quiet",
                                              "--run-dir", CommandLineTool.temporaryDirectory("range").path])
        #expect(result.status != 0)
        #expect(result.errorOutput.contains("data.batchSize"))
        #expect(result.errorOutput.contains("positive"))
    }

    @Test func missingRecipeFileIsNamed() throws {
        let result = try CommandLineTool.run(["train", "configs/does-not-exist.yaml"])
        #expect(result.status != 0)
        #expect(result.errorOutput.contains("does-not-exist.yaml"))
    }

    @Test func corruptCheckpointGivesClearErrorOnInspect() throws {
        let directory = CommandLineTool.temporaryDirectory("corrupt")
        let url = directory.appendingPathComponent("broken.tsr")
        try Data("TESSERA-but-not-really".utf8).write(to: url)
        let result = try CommandLineTool.run(["inspect", url.path])
        #expect(result.status != 0)
        #expect(result.errorOutput.contains("broken.tsr"))
    }

    /// `--resume auto` in a run directory without checkpoints (a typo in `--run-dir`, a first run)
    /// says in one line that it starts fresh, in the classification, step and RL trainers alike.
    @Test(arguments: [
        ["configs/mlp-digits.yaml", "--set", "training.epochs=1", "--set", "schedule.warmupSteps=5"],
        ["configs/graph-karate.yaml", "--set", "training.steps=3"],
        ["configs/rl-ppo-cartpole.yaml", "--set", "algorithm.totalSteps=2048"],
    ])
    func resumeAutoWithoutCheckpointsSaysItStartsFresh(_ arguments: [String]) throws {
        let directory = CommandLineTool.temporaryDirectory("fresh")
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try CommandLineTool.run(["train"] + arguments + ["--run-dir", directory.path, "--resume", "auto"])
        #expect(result.status == 0, "\(result.errorOutput)")
        let lines = result.output.split(separator: "\n").filter { $0.contains("no checkpoint to resume from") }
        #expect(lines.count == 1 && lines[0].contains("starting fresh"), "\(result.output)")
    }

    /// A flipped byte inside a payload passes the header-only inspection, which says it did not
    /// look; `--verify` decompresses every entry and names the bad one.
    @Test func inspectVerifyNamesTheEntryWhosePayloadIsDamaged() throws {
        let directory = CommandLineTool.temporaryDirectory("flipped")
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("flipped.tsr")
        let values = (0..<1000).map { Float(sin(Double($0) * 0.7)) }
        let entries = [CheckpointEntry(name: "first", dtype: .float32, shape: [4], bytes: [Float](repeating: 1, count: 4).withUnsafeBytes { Array($0) }),
                       CheckpointEntry(name: "last.weight", dtype: .float32, shape: [1000], bytes: values.withUnsafeBytes { Array($0) })]
        try Checkpoint(metadata: [:], entries: entries).write(to: url.path)
        var bytes = [UInt8](try Data(contentsOf: url))
        bytes[bytes.count - 24 - 40] ^= 0x10          // inside the last payload, before the 24-byte trailer
        try Data(bytes).write(to: url)

        let plain = try CommandLineTool.run(["inspect", url.path])
        #expect(plain.status == 0, "\(plain.errorOutput)")
        #expect(plain.output.contains("payloads not verified"))
        let verified = try CommandLineTool.run(["inspect", url.path, "--verify"])
        #expect(verified.status != 0)
        #expect(verified.errorOutput.contains("flipped.tsr") && verified.errorOutput.contains("last.weight"), "\(verified.errorOutput)")
    }
}

/// Weights move to and from the Python world through safetensors.
@Suite struct InterchangeTests {
    @Test func exportedSafetensorsWeightsEvaluateLikeTheCheckpoint() throws {
        let directory = CommandLineTool.temporaryDirectory("interchange")
        defer { try? FileManager.default.removeItem(at: directory) }
        let short = ["--set", "training.epochs=2", "--set", "schedule.warmupSteps=5", "--quiet"]
        let trained = try CommandLineTool.run(["train", "configs/mlp-digits.yaml", "--run-dir", directory.path] + short)
        #expect(trained.status == 0, "\(trained.errorOutput)")
        let checkpoint = directory.appendingPathComponent("checkpoints/step-00000046.tsr").path
        let weights = directory.appendingPathComponent("weights.safetensors").path
        let exported = try CommandLineTool.run(["export", checkpoint, "--format", "safetensors", "--output", weights])
        #expect(exported.status == 0, "\(exported.errorOutput)")
        let fromCheckpoint = try CommandLineTool.run(["eval", "configs/mlp-digits.yaml", "--checkpoint", checkpoint])
        let fromWeights = try CommandLineTool.run(["eval", "configs/mlp-digits.yaml", "--weights", weights])
        func accuracy(_ output: String) -> String { output.components(separatedBy: "\"test_accuracy\":").last?.components(separatedBy: ",").first ?? "" }
        #expect(!accuracy(fromCheckpoint.output).isEmpty)
        #expect(accuracy(fromCheckpoint.output) == accuracy(fromWeights.output), "\(fromCheckpoint.output) vs \(fromWeights.output)")

        // Weights of another architecture are refused with the file and the mismatch named.
        let refused = try CommandLineTool.run(["eval", "configs/mlp-digits.yaml", "--weights", weights,
                                               "--set", "model.hiddenSizes=[128]"])
        #expect(refused.status != 0)
        #expect(refused.errorOutput.contains("weights.safetensors"))
        #expect(refused.errorOutput.contains("layers.0.weight"))
    }
}
