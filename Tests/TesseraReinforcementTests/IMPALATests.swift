import Testing
import TesseraReinforcement
import TesseraTensor

/// The IMPALA pieces that run without communication: an actor's trajectory and one learner step.
@Suite struct IMPALATests {
    static func learner(_ environment: String, seed: UInt64 = 1) -> (IMPALALearner, VectorEnvironment) {
        var config = IMPALAConfig()
        config.environmentCount = 2
        config.rolloutSteps = 16
        config.hiddenSizes = [16]
        config.seed = seed
        let environments = VectorEnvironment(count: config.environmentCount) { Environments.make(environment)! }
        environments.reset(seed: seed)
        return (IMPALALearner(config: config, observationSpace: environments.observationSpace, actionSpace: environments.actionSpace),
                environments)
    }

    /// Data from the learner's own current policy is on-policy: every importance weight is 1.
    @Test(arguments: ["CartPole-v1", "Pendulum-v1"])
    func onPolicyTrajectoriesHaveUnitImportanceWeights(_ environment: String) {
        let (learner, environments) = Self.learner(environment)
        var generator = RandomGenerator(seed: 5)
        let trajectory = collectTrajectory(environments, network: learner.network, steps: 16, policyVersion: 0, generator: &generator)
        #expect(trajectory.actions.count == trajectory.count * trajectory.actionSize)
        let before = learner.network.actor.layers[0].weight.scalars
        let metrics = learner.update(trajectory)
        #expect(abs(metrics["importance_weight_mean"]! - 1) < 1e-5, "\(environment): \(metrics)")
        #expect(learner.version == 1 && learner.environmentSteps == trajectory.count)
        #expect(learner.network.actor.layers[0].weight.scalars != before)
    }

    /// MountainCar never reaches the goal under a random policy, so the 200-step limit truncates
    /// both copies after step 199: the trajectory keeps the final observation to bootstrap from,
    /// and the next step already belongs to the new episode.
    @Test func truncatedEpisodesKeepTheirFinalObservation() {
        let (learner, environments) = Self.learner("MountainCar-v0")
        var generator = RandomGenerator(seed: 5)
        let trajectory = collectTrajectory(environments, network: learner.network, steps: 210, policyVersion: 0, generator: &generator)
        let copies = trajectory.copies, size = trajectory.observationSize
        #expect(trajectory.truncationObservations.keys.sorted() == [199 * copies, 199 * copies + 1])
        for index in [199 * copies, 199 * copies + 1] {
            #expect(trajectory.truncated[index] && !trajectory.terminated[index])
            let next = Array(trajectory.observations[(index + copies) * size..<(index + copies + 1) * size])
            #expect(trajectory.truncationObservations[index] != next, "the copy was reset after the time limit")
        }
        #expect(trajectory.finishedEpisodes.map(\.length) == [200, 200])
        _ = learner.update(trajectory)
    }
}
