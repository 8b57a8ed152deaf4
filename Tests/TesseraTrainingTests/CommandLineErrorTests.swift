import Foundation
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
