import Foundation
import Testing
import TesseraTensor
@testable import TesseraReinforcement

/// A snapshot taken mid-episode and restored into a fresh environment continues exactly as the
/// original: the same observations and rewards to the end of the episode and through the next
/// (unseeded) reset, which draws from the restored random stream.
@Suite struct EnvironmentSnapshotTests {
    static func action(_ space: Space, _ step: Int) -> Action {
        if let count = space.count { return .discrete(step % count) }
        return .continuous([Float(step % 5) * 0.8 - 1.6])
    }

    /// Observations and rewards of `steps` steps, resetting (unseeded) after each episode.
    static func trajectory(_ environment: Environment, from step: Int, steps: Int) -> [[Float]] {
        (step..<(step + steps)).map { t in
            let result = environment.step(action(environment.actionSpace, t))
            let next = result.isDone ? environment.reset(seed: nil) : result.observation
            return result.observation + [Float(result.reward), result.terminated ? 1 : 0, result.truncated ? 1 : 0] + next
        }
    }

    @Test(arguments: Environments.names)
    func restoredEnvironmentContinuesExactly(_ name: String) throws {
        let original = try #require(Environments.make(name) as? RestorableEnvironment)
        _ = original.reset(seed: 7)
        _ = Self.trajectory(original, from: 0, steps: 37)
        // Through JSON, as a checkpoint stores it.
        let saved = try JSONDecoder().decode(EnvironmentSnapshot.self, from: try JSONEncoder().encode(try original.snapshot()))
        let copy = try #require(Environments.make(name) as? RestorableEnvironment)
        try copy.restore(saved)
        let expected = Self.trajectory(original, from: 37, steps: 300)
        let actual = Self.trajectory(copy, from: 37, steps: 300)
        #expect(expected == actual, "\(name) diverged after restore")
    }

    @Test func snapshotOfAnotherEnvironmentIsRefused() throws {
        let cartPole = try #require(Environments.make("CartPole-v1") as? RestorableEnvironment)
        let acrobot = try #require(Environments.make("Acrobot-v1") as? RestorableEnvironment)
        #expect(throws: EnvironmentSnapshotError.self) { try acrobot.restore(try cartPole.snapshot()) }
    }

    @Test func vectorEnvironmentRestoresObservationsAndRunningEpisodes() throws {
        let original = VectorEnvironment(count: 3) { Environments.make("CartPole-v1")! }
        original.reset(seed: 5)
        func run(_ environments: VectorEnvironment, steps: Int) -> [Double] {
            (0..<steps).flatMap { t in
                let outcome = environments.step((0..<3).map { .discrete(($0 + t / 3) % 2) })
                return outcome.finishedEpisodes.map(\.return) + outcome.observations.flatMap { $0.map(Double.init) }
            }
        }
        _ = run(original, steps: 25)
        let snapshot = try original.snapshot()
        let copy = VectorEnvironment(count: 3) { Environments.make("CartPole-v1")! }
        try copy.restore(snapshot)
        #expect(copy.observations == original.observations)
        // Episode returns include the steps before the snapshot, so they match only if the
        // running returns were restored too.
        #expect(run(original, steps: 200) == run(copy, steps: 200))
        let two = VectorEnvironment(count: 2) { Environments.make("CartPole-v1")! }
        #expect(throws: EnvironmentSnapshotError.self) { try two.restore(snapshot) }
    }
}
