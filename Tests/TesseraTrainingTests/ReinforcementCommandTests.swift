import Foundation
import Testing

/// `tessera train` runs the reinforcement-learning recipes and writes their summaries.
@Suite struct ReinforcementCommandTests {
    /// Sutton & Barto's Example 6.6: Q-learning's greedy path runs along the cliff (return −13),
    /// SARSA's keeps away from it and earns more online.
    @Test func cliffWalkingRecipeReproducesExample6_6() throws {
        let directory = CommandLineTool.temporaryDirectory("cliff")
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try CommandLineTool.run(["train", "configs/rl-cliff-walking.yaml", "--run-dir", directory.path, "--quiet"])
        #expect(result.status == 0, "\(result.errorOutput)")
        let summary = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: directory.appendingPathComponent("summary.json"))) as? [String: Any])
        let metrics = try #require(summary["metrics"] as? [String: Double])
        #expect(metrics["qLearning_greedy_return"] == -13)
        #expect((metrics["sarsa_greedy_return"] ?? 0) < -13)
        #expect((metrics["sarsa_online_return_mean"] ?? -1e9) > (metrics["qLearning_online_return_mean"] ?? 0))
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("returns.png").path))
        let records = try String(contentsOf: directory.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(records.count == 500)
        #expect(records.first?.contains("\"qLearning_return\"") == true && records.first?.contains("\"sarsa_return\"") == true)
    }

    /// The shipped FrozenLake recipe (4×4, not slippery): Q-learning, SARSA and first-visit Monte
    /// Carlo control each end with a greedy policy that reaches the goal in the optimal 6 steps.
    @Test func frozenLakeRecipeFindsTheOptimalPolicyWithEveryMethod() throws {
        let directory = CommandLineTool.temporaryDirectory("frozen-lake")
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try CommandLineTool.run(["train", "configs/rl-frozen-lake.yaml", "--run-dir", directory.path, "--quiet"])
        #expect(result.status == 0, "\(result.errorOutput)")
        let summary = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: directory.appendingPathComponent("summary.json"))) as? [String: Any])
        let metrics = try #require(summary["metrics"] as? [String: Double])
        for method in ["qLearning", "sarsa", "monteCarloFirstVisit"] {
            #expect(metrics["\(method)_greedy_return"] == 1, "\(method): \(metrics)")
            #expect(metrics["\(method)_greedy_length"] == 6, "\(method): \(metrics)")
        }
    }

    @Test func gaussianPolicyOnDiscreteCartPoleIsRefusedNamingTheActionSpace() throws {
        let result = try CommandLineTool.run(["train", "configs/rl-ppo-cartpole.yaml", "--set", "algorithm.policy=gaussian", "--quiet",
                                              "--run-dir", CommandLineTool.temporaryDirectory("refused").path])
        #expect(result.status != 0)
        #expect(result.errorOutput.lowercased().contains("discrete"), "\(result.errorOutput)")
    }
}
