import Foundation
import Testing

/// The `qac` and `offpac` recipes refuse bad settings before training, naming the key.
@Suite struct ActorCriticRecipeTests {
    static func refused(_ arguments: [String]) throws -> String {
        let directory = CommandLineTool.temporaryDirectory("refused")
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try CommandLineTool.run(["train"] + arguments + ["--quiet", "--run-dir", directory.path])
        #expect(result.status != 0, "accepted \(arguments)")
        return result.errorOutput
    }

    @Test func qacOnAContinuousActionEnvironmentIsRefusedNamingTaskAndEnvironment() throws {
        let message = try Self.refused(["configs/rl-qac-cartpole.yaml", "--set", "environment=Pendulum-v1",
                                        "--set", "algorithm.policy=gaussian"])
        #expect(message.contains("task: qac") && message.contains("discrete") && message.contains("Pendulum-v1"), "\(message)")
    }

    @Test func offpacRatioTruncationMustBePositive() throws {
        let message = try Self.refused(["configs/rl-offpac-cartpole.yaml", "--set", "algorithm.ratioTruncation=0"])
        #expect(message.contains("ratioTruncation") && message.contains("positive"), "\(message)")
    }

    @Test func offpacBehaviourEpsilonMustBeBelowOne() throws {
        let message = try Self.refused(["configs/rl-offpac-cartpole.yaml", "--set", "algorithm.behaviourEpsilon=1"])
        #expect(message.contains("behaviourEpsilon") && message.contains("[0, 1)"), "\(message)")
    }

    @Test func aKeyTheTaskDoesNotReadIsRefused() throws {
        let message = try Self.refused(["configs/rl-qac-cartpole.yaml", "--set", "algorithm.ratioTruncation=2"])
        #expect(message.contains("ratioTruncation") && message.contains("qac"), "\(message)")
    }

    @Test func unknownTaskListsTheActorCriticTasks() throws {
        let message = try Self.refused(["configs/rl-qac-cartpole.yaml", "--set", "task=qa"])
        #expect(message.contains("qac") && message.contains("offpac"), "\(message)")
    }
}
