import Foundation
import Testing

/// `tessera train` runs the multi-process RL recipes through `mpirun` (`--np`): IMPALA's learner
/// and actors as separate processes, DD-PPO's ranks, resume, and the errors for bad input.
@Suite(.serialized) struct ActorLearnerCommandTests {
    static func summary(_ directory: URL) throws -> [String: Double] {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("summary.json")))
        return try #require((object as? [String: Any])?["metrics"] as? [String: Double])
    }

    /// 40 updates of 256 steps with a learner and 2 actor processes, then 40 more after `--resume auto`.
    @Test func impalaTrainsUnderMPIWithALearnerAndTwoActorsAndResumes() throws {
        let directory = CommandLineTool.temporaryDirectory("impala")
        defer { try? FileManager.default.removeItem(at: directory) }
        let common = ["train", "configs/rl-impala-cartpole.yaml", "--np", "3", "--run-dir", directory.path, "--quiet",
                      "--set", "algorithm.rolloutSteps=32", "--set", "evaluation.episodes=5"]
        let first = try CommandLineTool.run(common + ["--set", "algorithm.totalSteps=10240"])
        #expect(first.status == 0, "\(first.errorOutput)")
        #expect(first.output.contains("on 3 processes"), "\(first.output)")
        let metrics = try Self.summary(directory)
        #expect(metrics["learner_updates"] == 40)
        #expect(metrics["actors"] == 2)
        #expect(metrics["environment_steps"] == 10240)
        #expect((metrics["trained_trajectories_rank_1"] ?? 0) + (metrics["trained_trajectories_rank_2"] ?? 0) == 40)
        #expect(metrics["policy_lag_mean"] != nil && metrics["dropped_trajectories"] != nil && metrics["eval_return_mean"] != nil)
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("checkpoints/step-00000040.tsr").path))

        let resumed = try CommandLineTool.run(common + ["--set", "algorithm.totalSteps=20480", "--resume", "auto"])
        #expect(resumed.status == 0, "\(resumed.errorOutput)")
        #expect(try Self.summary(directory)["learner_updates"] == 80, "the resumed learner continues its version")
    }

    @Test func ddppoTrainsUnderMPIWithTwoProcesses() throws {
        let directory = CommandLineTool.temporaryDirectory("ddppo")
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try CommandLineTool.run(["train", "configs/rl-ddppo-cartpole.yaml", "--np", "2", "--run-dir", directory.path, "--quiet",
                                              "--set", "algorithm.totalSteps=2048", "--set", "evaluation.episodes=5"])
        #expect(result.status == 0, "\(result.errorOutput)")
        let metrics = try Self.summary(directory)
        #expect(metrics["processes"] == 2)
        #expect(metrics["environment_steps"] == 2048)
        // Both ranks' iteration and allreduce times, at the log steps of metrics.jsonl.
        let lines = try String(contentsOf: directory.appendingPathComponent("ranks.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            let record = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            let steps = record?["step_seconds"] as? [Double] ?? [], waits = record?["allreduce_seconds"] as? [Double] ?? []
            #expect(steps.count == 2 && steps.allSatisfy { $0 > 0 }, "\(line)")
            #expect(waits.count == 2 && zip(waits, steps).allSatisfy { $0 >= 0 && $0 <= $1 }, "\(line)")
        }
        #expect(lines.last?.contains("\"step\":2048") == true, "\(lines.last ?? "")")
    }

    @Test func impalaWithoutActorsOrWithANegativeLagIsRefusedNamingTheCause() throws {
        let directory = CommandLineTool.temporaryDirectory("impala-refused")
        defer { try? FileManager.default.removeItem(at: directory) }
        let alone = try CommandLineTool.run(["train", "configs/rl-impala-cartpole.yaml", "--np", "1", "--run-dir", directory.path, "--quiet"])
        #expect(alone.status != 0)
        #expect(alone.errorOutput.contains("--np 2 or more"), "\(alone.errorOutput)")
        let negative = try CommandLineTool.run(["train", "configs/rl-impala-cartpole.yaml", "--np", "3", "--run-dir", directory.path, "--quiet",
                                                "--set", "actorLearner.maximumPolicyLag=-1"])
        #expect(negative.status != 0)
        #expect(negative.errorOutput.contains("actorLearner.maximumPolicyLag: must be 0 or more"), "\(negative.errorOutput)")
        let misplaced = try CommandLineTool.run(["train", "configs/rl-ppo-cartpole.yaml", "--np", "2", "--run-dir", directory.path, "--quiet"])
        #expect(misplaced.status != 0)
        #expect(misplaced.errorOutput.contains("without --np") || misplaced.errorOutput.contains("drop --np"), "\(misplaced.errorOutput)")
    }
}
