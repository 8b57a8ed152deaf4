import Foundation
import Testing

/// `tessera train` runs the reinforcement-learning recipes and writes their summaries.
@Suite struct ReinforcementCommandTests {
    /// Trains `recipe` (with `options`) into `directory` and returns the summary's metrics.
    static func train(_ recipe: String, into directory: URL, _ options: [String] = [],
                      sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Double] {
        let result = try CommandLineTool.run(["train", recipe, "--run-dir", directory.path, "--quiet"] + options)
        #expect(result.status == 0, "\(result.errorOutput)", sourceLocation: sourceLocation)
        let summary = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: directory.appendingPathComponent("summary.json"))) as? [String: Any], sourceLocation: sourceLocation)
        return try #require(summary["metrics"] as? [String: Double], sourceLocation: sourceLocation)
    }

    /// Sutton & Barto's Example 6.6: Q-learning's greedy path runs along the cliff (return −13),
    /// SARSA's keeps away from it and earns more online.
    @Test func cliffWalkingRecipeReproducesExample6_6() throws {
        let directory = CommandLineTool.temporaryDirectory("cliff")
        defer { try? FileManager.default.removeItem(at: directory) }
        let metrics = try Self.train("configs/rl-cliff-walking.yaml", into: directory)
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
        let metrics = try Self.train("configs/rl-frozen-lake.yaml", into: directory)
        for method in ["qLearning", "sarsa", "monteCarloFirstVisit"] {
            #expect(metrics["\(method)_greedy_return"] == 1, "\(method): \(metrics)")
            #expect(metrics["\(method)_greedy_length"] == 6, "\(method): \(metrics)")
        }
    }

    /// `evaluation.target`: the greedy policy is checked at every log line until its mean return
    /// reaches the target; the summary reports the environment steps and wall time that took.
    @Test func summaryReportsEnvironmentStepsAndWallTimeToTheTarget() throws {
        func run(target: Double) throws -> (metrics: [String: Double], checks: [(step: Int, mean: Double)]) {
            let directory = CommandLineTool.temporaryDirectory("target")
            defer { try? FileManager.default.removeItem(at: directory) }
            let metrics = try Self.train("configs/rl-ppo-cartpole.yaml", into: directory, [
                "--set", "algorithm.totalSteps=10240", "--set", "training.logEvery=2",
                "--set", "evaluation.episodes=10", "--set", "evaluation.target=\(target)"])
            let lines = try String(contentsOf: directory.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
            let checks = try lines.compactMap { line -> (Int, Double)? in
                let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                guard let mean = record["eval_return_mean"] as? Double else { return nil }
                return (try #require(record["step"] as? Int), mean)
            }
            return (metrics, checks)
        }
        // A target the first checks miss and a later one meets.
        let reachable = try run(target: 105)
        let steps = try #require(reachable.metrics["environment_steps_to_target"], "\(reachable.metrics)")
        let firstMet = try #require(reachable.checks.first { $0.mean >= 105 }, "checks \(reachable.checks)")
        #expect(Int(steps) == firstMet.step)
        #expect(reachable.checks.last!.step == firstMet.step, "checks stop once the target is met: \(reachable.checks)")
        #expect(reachable.checks.count > 1, "the first check should miss a return of 105: \(reachable.checks)")
        #expect(reachable.metrics["eval_target"] == 105 && (reachable.metrics["wall_seconds_to_target"] ?? -1) > 0)
        // An unreachable one: checked at every log line, and never reported as reached.
        let unreachable = try run(target: 1e6)
        #expect(unreachable.metrics["environment_steps_to_target"] == nil && unreachable.metrics["eval_target"] == 1e6)
        #expect(unreachable.checks.count == 10240 / 512 / 2)
    }

    @Test func gaussianPolicyOnDiscreteCartPoleIsRefusedNamingTheActionSpace() throws {
        let result = try CommandLineTool.run(["train", "configs/rl-ppo-cartpole.yaml", "--set", "algorithm.policy=gaussian", "--quiet",
                                              "--run-dir", CommandLineTool.temporaryDirectory("refused").path])
        #expect(result.status != 0)
        #expect(result.errorOutput.lowercased().contains("discrete"), "\(result.errorOutput)")
    }
}
