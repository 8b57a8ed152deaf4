import Foundation
import Testing
import TesseraCheckpoint
import TesseraConfig
import TesseraDistributed
import TesseraReinforcement
@testable import TesseraTraining

/// A DD-PPO run over 2 `LocalCommunicator` threads, resumed from a mid-run checkpoint with every
/// object built afresh, ends bit for bit where the uninterrupted run ends: each rank's
/// environments and sampling stream come back from the checkpoint, not only rank 0's weights.
@Suite(.serialized) struct DDPPOResumeTests {
    /// 2048 steps over 2 ranks of 4 copies × 32 steps: 8 iterations. The checkpoint at iteration 3
    /// falls between two log lines (every 2), so the pending metrics have to come back too.
    static let yaml = """
        task: ddppo
        name: ddppo-resume
        seed: 1
        environment: CartPole-v1
        algorithm: {policy: categorical, totalSteps: 2048, environmentCount: 4, rolloutSteps: 32}
        evaluation: {episodes: 3}
        training: {logEvery: 2, checkpointEvery: 3, keepCheckpoints: 100}
        """

    /// Trains every rank of a `size`-rank group in `directory` (rank 0's run directory); returns
    /// rank 0's result.
    static func train(size: Int, directory: URL, resume: ResumeRequest) throws -> TrainingResult {
        let recipe = try Recipe(yaml: yaml, file: "ddppo-resume.yaml").decode(ReinforcementRecipe.self)
        let results = try ranks(size) { communicator in
            // Only rank 0 writes; the others get a directory of their own, as under MPI.
            let path = communicator.rank == 0 ? directory.path : directory.appendingPathComponent("rank-\(communicator.rank)").path
            return try ActorLearnerRun.train(recipe: recipe, recipeYAML: yaml, recipeFile: "ddppo-resume.yaml",
                                             communicator: communicator, runDirectory: try RunDirectory(path: path),
                                             resume: resume, showProgress: false)
        }
        return results[0]
    }

    static func checkpoint(_ directory: URL, iteration: Int) -> String {
        directory.appendingPathComponent(String(format: "checkpoints/step-%08d.tsr", iteration)).path
    }

    /// Every logged value except the throughput, which measures the machine.
    static func metrics(_ directory: URL) throws -> [[String: Double]] {
        let text = try String(contentsOf: directory.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return object.compactMapValues { $0 as? Double }.filter { $0.key != "steps_per_second" }
        }
    }

    @Test func resumedTwoRankRunMatchesTheUninterruptedRun() throws {
        let straight = CommandLineTool.temporaryDirectory("ddppo-straight")
        let resumed = CommandLineTool.temporaryDirectory("ddppo-resumed")
        defer {
            try? FileManager.default.removeItem(at: straight)
            try? FileManager.default.removeItem(at: resumed)
        }
        let first = try Self.train(size: 2, directory: straight, resume: .none)
        #expect(first.steps == 2048)

        let middle = try Checkpoint.read(from: Self.checkpoint(straight, iteration: 3))
        let saved = try JSONDecoder().decode([LearnerRecord].self, from: Data(try #require(middle.metadata["learner_ranks"]).utf8))
        #expect(saved.count == 2)
        #expect(saved.map(\.iteration) == [3, 3])
        #expect(saved[0].environments != saved[1].environments, "each rank's environments are its own")

        _ = try Self.train(size: 2, directory: resumed, resume: .path(Self.checkpoint(straight, iteration: 3)))

        let expected = try Checkpoint.read(from: Self.checkpoint(straight, iteration: 8))
        let actual = try Checkpoint.read(from: Self.checkpoint(resumed, iteration: 8))
        #expect(expected.entries.map(\.name) == actual.entries.map(\.name))
        let actualEntries = Dictionary(uniqueKeysWithValues: actual.entries.map { ($0.name, $0.bytes) })
        for entry in expected.entries {
            let identical = actualEntries[entry.name] == entry.bytes
            #expect(identical, "\(entry.name) differs after resume")
        }
        #expect(expected.metadata["learner_ranks"] == actual.metadata["learner_ranks"], "environments or sampling streams differ")

        let straightRecords = try Self.metrics(straight), resumedRecords = try Self.metrics(resumed)
        #expect(straightRecords.count == 4)
        #expect(straightRecords == resumedRecords, "logged metrics differ after resume")
    }

    @Test func checkpointOfAnotherWorldSizeIsRefusedNamingBoth() throws {
        let written = CommandLineTool.temporaryDirectory("ddppo-two")
        let refused = CommandLineTool.temporaryDirectory("ddppo-one")
        defer {
            try? FileManager.default.removeItem(at: written)
            try? FileManager.default.removeItem(at: refused)
        }
        _ = try Self.train(size: 2, directory: written, resume: .none)
        #expect {
            try Self.train(size: 1, directory: refused, resume: .path(Self.checkpoint(written, iteration: 3)))
        } throws: { error in
            "\(error)".contains("written by 2 processes, but this run has 1")
        }
    }

    @Test func checkpointWithoutPerRankStatesIsRefused() throws {
        let written = CommandLineTool.temporaryDirectory("ddppo-old")
        let refused = CommandLineTool.temporaryDirectory("ddppo-old-resumed")
        defer {
            try? FileManager.default.removeItem(at: written)
            try? FileManager.default.removeItem(at: refused)
        }
        _ = try Self.train(size: 2, directory: written, resume: .none)
        // What a checkpoint written before DD-PPO stored every rank's state looks like.
        let path = Self.checkpoint(written, iteration: 3)
        var old = try Checkpoint.read(from: path)
        old.metadata["learner_ranks"] = nil
        try old.write(to: path)
        let failures = outcomesOfResuming(path, directory: refused)
        #expect(failures.count == 2, "every rank fails, none waits for the others")
        for failure in failures {
            #expect(failure.contains("holds no per-rank learner state"), "\(failure)")
        }
    }

    /// Every rank's error text after resuming a 2-rank run from `path`.
    private func outcomesOfResuming(_ path: String, directory: URL) -> [String] {
        let recipe = try! Recipe(yaml: Self.yaml, file: "ddppo-resume.yaml").decode(ReinforcementRecipe.self)
        return outcomes(2) { communicator in
            let runPath = communicator.rank == 0 ? directory.path : directory.appendingPathComponent("rank-1").path
            return try ActorLearnerRun.train(recipe: recipe, recipeYAML: Self.yaml, recipeFile: "ddppo-resume.yaml",
                                             communicator: communicator, runDirectory: try RunDirectory(path: runPath),
                                             resume: .path(path), showProgress: false)
        }.compactMap { outcome in
            if case .failure(let error) = outcome { return "\(error)" }
            return nil
        }
    }
}
