import Foundation
import Testing
import TesseraCheckpoint

/// A reinforcement run resumed from a mid-run checkpoint in a fresh process ends bit for bit
/// where the uninterrupted run ends: same parameters, optimizer slots, learner state (replay
/// buffer, environments, sampling stream) and the same logged metrics.
@Suite(.serialized) struct ReinforcementResumeTests {
    /// Trains `recipe` with `settings` twice: once straight through (saving a checkpoint every
    /// `checkpointEvery` iterations), once from that run's checkpoint at `resumeAt` in a new run
    /// directory and a new process; then compares the final checkpoints, metrics and evaluations.
    static func trainStraightAndResumed(_ recipe: String, settings: [String], checkpointEvery: Int, resumeAt: Int,
                                        finalIteration: Int) throws {
        let straight = CommandLineTool.temporaryDirectory("rl-straight")
        let resumed = CommandLineTool.temporaryDirectory("rl-resumed")
        defer {
            try? FileManager.default.removeItem(at: straight)
            try? FileManager.default.removeItem(at: resumed)
        }
        let common = ["train", recipe, "--quiet", "--set", "training.checkpointEvery=\(checkpointEvery)",
                      "--set", "training.keepCheckpoints=100", "--set", "evaluation.episodes=5"]
            + settings.flatMap { ["--set", $0] }
        let first = try CommandLineTool.run(common + ["--run-dir", straight.path])
        try #require(first.status == 0, "\(first.errorOutput)")

        // The second run starts from the first's mid-run checkpoint with nothing else in memory.
        let middle = straight.appendingPathComponent(String(format: "checkpoints/step-%08d.tsr", resumeAt))
        let second = try CommandLineTool.run(common + ["--run-dir", resumed.path, "--resume", middle.path])
        try #require(second.status == 0, "\(second.errorOutput)")

        let name = String(format: "checkpoints/step-%08d.tsr", finalIteration)
        let expected = try Checkpoint.read(from: straight.appendingPathComponent(name).path)
        let actual = try Checkpoint.read(from: resumed.appendingPathComponent(name).path)
        #expect(expected.entries.map(\.name) == actual.entries.map(\.name))
        #expect(expected.metadata["learner"] != nil, "\(recipe): the checkpoint holds no learner state")
        let actualEntries = Dictionary(uniqueKeysWithValues: actual.entries.map { ($0.name, $0.bytes) })
        for entry in expected.entries {
            #expect(actualEntries[entry.name] == entry.bytes, "\(recipe): \(entry.name) differs after resume")
        }
        #expect(expected.metadata["learner"] == actual.metadata["learner"], "\(recipe): environments or sampling stream differ")

        // Every logged value matches except the throughput, which measures the machine.
        func records(_ directory: URL) throws -> [[String: Double]] {
            let text = try String(contentsOf: directory.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
            return try text.split(separator: "\n").map { line in
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                return object.compactMapValues { $0 as? Double }.filter { $0.key != "steps_per_second" }
            }
        }
        let straightRecords = try records(straight), resumedRecords = try records(resumed)
        #expect(straightRecords.count > 2)
        #expect(straightRecords == resumedRecords, "\(recipe): logged metrics differ after resume")
        func evaluation(_ directory: URL) throws -> Double? {
            let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("summary.json"))) as? [String: Any]
            return (summary?["metrics"] as? [String: Any])?["eval_return_mean"] as? Double
        }
        #expect(try evaluation(straight) == evaluation(resumed))
    }

    /// DQN: the replay buffer, the target network (which lags the online one), the ε schedule's
    /// position and the single environment mid-episode all have to come back. 16 iterations of
    /// 256 steps; learning starts at step 1000, inside the first half; the checkpoint at
    /// iteration 6 is between two log lines (every 4), so the pending metrics are restored too.
    @Test func dqnResumedFromAMidRunCheckpointMatchesTheUninterruptedRun() throws {
        try Self.trainStraightAndResumed("configs/rl-dqn-cartpole.yaml",
                                         settings: ["algorithm.totalSteps=4096", "algorithm.gradientSteps=16",
                                                    "algorithm.hiddenSizes=[64,64]", "training.logEvery=4"],
                                         checkpointEvery: 6, resumeAt: 6, finalIteration: 16)
    }

    /// PPO: four environment copies mid-episode, the sampling stream and Adam's slots.
    @Test func ppoResumedFromAMidRunCheckpointMatchesTheUninterruptedRun() throws {
        try Self.trainStraightAndResumed("configs/rl-ppo-cartpole.yaml",
                                         settings: ["algorithm.totalSteps=4096", "algorithm.rolloutSteps=64", "training.logEvery=4"],
                                         checkpointEvery: 6, resumeAt: 6, finalIteration: 16)
    }

    /// Off-PAC: besides the environments, the lagged behaviour actor (copied every 4 iterations,
    /// so at iteration 6 it differs from the actor).
    @Test func offPolicyActorCriticResumedFromAMidRunCheckpointMatchesTheUninterruptedRun() throws {
        try Self.trainStraightAndResumed("configs/rl-offpac-cartpole.yaml",
                                         settings: ["algorithm.totalSteps=1024", "algorithm.environmentCount=4", "algorithm.rolloutSteps=16",
                                                    "training.logEvery=4"],
                                         checkpointEvery: 6, resumeAt: 6, finalIteration: 16)
    }
}
