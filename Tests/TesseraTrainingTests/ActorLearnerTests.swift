import Foundation
import Testing
import TesseraDistributed
import TesseraReinforcement
import TesseraTensor
@testable import TesseraTraining

/// The asynchronous actor–learner (IMPALA) and DD-PPO over `LocalCommunicator` threads, one per
/// rank, as the MPI processes would run them.
@Suite struct ActorLearnerTests {
    /// A small IMPALA setting: 2 CartPole copies × 16 steps per trajectory.
    static func smallConfig(totalSteps: Int = 3200) -> IMPALAConfig {
        var config = IMPALAConfig()
        config.environmentCount = 2
        config.rolloutSteps = 16
        config.totalSteps = totalSteps
        config.hiddenSizes = [32, 32]
        return config
    }

    static func settings(timeout: Double = 30, maximumPolicyLag: Int = 16) -> ActorLearnerSettings {
        var settings = ActorLearnerSettings()
        settings.timeoutSeconds = timeout
        settings.maximumPolicyLag = maximumPolicyLag
        return settings
    }

    static func cartPole() -> Environment { Environments.make("CartPole-v1")! }

    /// Runs a learner on rank 0 and CartPole actors on ranks 1 and 2; `learn` drives the
    /// learner's loop (and stops the actors) and returns what the test inspects.
    static func learnerWithTwoActors<Value>(config: IMPALAConfig, settings: ActorLearnerSettings,
                                            _ learn: @escaping (IMPALALearner, LearnerLoop) throws -> Value) throws -> Value {
        let results = try ranks(3) { communicator -> Value? in
            if communicator.rank != 0 {
                try ActorLoop(config: config, settings: settings, communicator: communicator, makeEnvironment: Self.cartPole).run()
                return nil
            }
            let learner = IMPALALearner(config: config, observationSpace: Self.cartPole().observationSpace,
                                        actionSpace: Self.cartPole().actionSpace)
            return try learn(learner, try LearnerLoop(learner: learner, communicator: communicator, settings: settings))
        }
        return try #require(results[0])
    }

    /// Every trajectory an actor reports having sent was trained on, dropped or discarded at the stop.
    static func expectEveryTrajectoryAccountedFor(_ statistics: ActorLearnerStatistics, sourceLocation: SourceLocation = #_sourceLocation) throws {
        for rank in [1, 2] {
            let report = try #require(statistics.actorReports[rank], "rank \(rank) confirmed the stop", sourceLocation: sourceLocation)
            #expect(report.trajectoriesSent == statistics.trained[rank, default: 0] + statistics.dropped[rank, default: 0]
                    + statistics.discardedAtStop[rank, default: 0], "rank \(rank): \(report) vs \(statistics)",
                    sourceLocation: sourceLocation)
        }
    }

    static func trajectory(version: Int, seed: UInt64 = 3, copies: Int = 2) -> Trajectory {
        var config = smallConfig()
        config.environmentCount = copies
        let environments = VectorEnvironment(count: config.environmentCount, cartPole)
        environments.reset(seed: seed)
        var generator = RandomGenerator(seed: seed)
        let network = ActorCritic(observationSpace: environments.observationSpace, actionSpace: environments.actionSpace,
                                  hiddenSizes: config.hiddenSizes, generator: &generator)
        return collectTrajectory(environments, network: network, steps: config.rolloutSteps, policyVersion: version, generator: &generator)
    }

    // MARK: Messages

    @Test func trajectoryRoundTripsThroughTheCommunicator() throws {
        var sent = Self.trajectory(version: 7)
        sent.truncated[5] = true
        sent.truncationObservations[5] = [0.5, -0.25, 0.125, 1]
        sent.finishedEpisodes.append(EpisodeOutcome(totalReward: 500, length: 500))
        let received = try ranks(2) { communicator -> Trajectory? in
            if communicator.rank == 1 {
                try communicator.send(sent.encoded(), to: 0, tag: ActorLearnerTag.trajectory)
                return nil
            }
            let message = try communicator.receive(from: MessageMatching.anySource, tag: ActorLearnerTag.trajectory)
            return try Trajectory(message: message.bytes, source: message.source)
        }
        #expect(received[0] == sent)
        #expect(sent.observations.count == 2 * 16 * 4)
    }

    /// A learner batch puts the parts' copies side by side at every step; each copy's column
    /// (what V-trace works on) is the part's column unchanged.
    @Test func mergedTrajectoryPlacesEveryPartsCopiesSideBySide() {
        var a = Self.trajectory(version: 5, seed: 3, copies: 2), b = Self.trajectory(version: 3, seed: 4, copies: 3)
        a.truncated[3] = true  // step 1, copy 1
        a.truncationObservations[3] = [1, 2, 3, 4]
        b.truncated[7] = true  // step 2, copy 1
        b.truncationObservations[7] = [5, 6, 7, 8]
        b.finishedEpisodes.append(EpisodeOutcome(totalReward: 12, length: 12))
        let merged = Trajectory.merged([a, b])
        #expect(merged.copies == 5 && merged.steps == 16 && merged.policyVersion == 3)
        for t in 0..<16 {
            for (part, offset) in [(a, 0), (b, 2)] {
                for copy in 0..<part.copies {
                    let (row, source) = (t * 5 + offset + copy, t * part.copies + copy)
                    #expect(merged.observations[(row * 4)..<(row * 4 + 4)] == part.observations[(source * 4)..<(source * 4 + 4)])
                    #expect(merged.actions[row] == part.actions[source] && merged.rewards[row] == part.rewards[source])
                    #expect(merged.behaviourLogProbabilities[row] == part.behaviourLogProbabilities[source])
                    #expect(merged.terminated[row] == part.terminated[source] && merged.truncated[row] == part.truncated[source])
                }
            }
        }
        #expect(merged.truncationObservations == [1 * 5 + 1: [1, 2, 3, 4], 2 * 5 + 2 + 1: [5, 6, 7, 8]])
        #expect(merged.bootstrapObservations == a.bootstrapObservations + b.bootstrapObservations)
        #expect(merged.finishedEpisodes == a.finishedEpisodes + b.finishedEpisodes)
        #expect(Trajectory.merged([a]) == a)
    }

    @Test func truncatedMessagesAreRejectedNamingTheSender() {
        let bytes = Array(Self.trajectory(version: 0).encoded().dropLast(9))
        #expect { try Trajectory(message: bytes, source: 2) } throws: { error in
            "\(error)".contains("malformed trajectory message from rank 2")
        }
    }

    @Test func weightsMessageCarriesVersionAndValuesAndRefusesAnotherNetwork() throws {
        let learner = IMPALALearner(config: Self.smallConfig(), observationSpace: Self.cartPole().observationSpace,
                                    actionSpace: Self.cartPole().actionSpace)
        let message = try WeightsMessage(message: WeightsMessage(version: 12, parameters: learner.policyParameters).encoded())
        #expect(message.version == 12)
        var generator = RandomGenerator(seed: 99)
        let other = ActorCritic(observationSpace: Self.cartPole().observationSpace, actionSpace: Self.cartPole().actionSpace,
                                hiddenSizes: [32, 32], generator: &generator)
        let parameters = other.actorParameters.sorted { $0.name < $1.name }
        try message.apply(to: parameters)
        #expect(parameters.map { $0.parameter.scalars } == learner.policyParameters.map { $0.parameter.scalars })
        var wider = RandomGenerator(seed: 1)
        let mismatched = ActorCritic(observationSpace: Self.cartPole().observationSpace, actionSpace: Self.cartPole().actionSpace,
                                     hiddenSizes: [16], generator: &wider)
        #expect { try message.apply(to: mismatched.actorParameters.sorted { $0.name < $1.name }) } throws: { error in
            "\(error)".contains("different networks")
        }
    }

    // MARK: Lag

    /// A hand-driven actor sends six trajectories acted with version 0 at once: with
    /// `maximumPolicyLag` 2 the learner trains on those it reaches at lag 0, 1, 2 and drops the
    /// rest; a fresh trajectory with the newest weights is trained on again at lag 0.
    @Test func trajectoriesOlderThanTheMaximumLagAreDroppedAndCounted() throws {
        let results = try ranks(2) { communicator -> (ActorLearnerStatistics, [Double])? in
            if communicator.rank == 1 {
                for _ in 0..<6 { try communicator.send(Self.trajectory(version: 0).encoded(), to: 0, tag: ActorLearnerTag.trajectory) }
                var newest = -1
                while true {
                    let message = try communicator.receive(from: 0, tag: MessageMatching.anyTag, timeout: 30)
                    if message.tag == ActorLearnerTag.stop { break }
                    newest = try WeightsMessage(message: message.bytes).version
                    // Once the learner has trained on what it could (3 updates), send one acted with version 3.
                    if newest == 3 { try communicator.send(Self.trajectory(version: 3).encoded(), to: 0, tag: ActorLearnerTag.trajectory) }
                }
                let report = ActorReport(rank: 1, trajectoriesSent: 7, environmentSteps: 7 * 32, weightsApplied: 0)
                try communicator.send(report.encoded(), to: 0, tag: ActorLearnerTag.finished)
                return nil
            }
            let learner = IMPALALearner(config: Self.smallConfig(), observationSpace: Self.cartPole().observationSpace,
                                        actionSpace: Self.cartPole().actionSpace)
            let loop = try LearnerLoop(learner: learner, communicator: communicator, settings: Self.settings(maximumPolicyLag: 2))
            var lags: [Double] = []
            try loop.learn(totalSteps: 1_000_000) { metrics in
                lags.append(metrics["policy_lag"]!)
                return learner.version < 4
            }
            try loop.stopActors()
            return (loop.statistics, lags)
        }
        let (statistics, lags) = try #require(results[0])
        #expect(lags == [0, 1, 2, 0])
        #expect(statistics.trained[1] == 4)
        #expect(statistics.dropped[1] == 3)
        #expect(statistics.droppedEnvironmentSteps == 3 * 32)
        #expect(statistics.lagMaximum == 2)
        #expect(statistics.actorReports[1]?.trajectoriesSent == 7)
    }

    // MARK: Asynchrony and shutdown

    /// Actor 2 sleeps 0.5 s after every trajectory; the learner keeps training on actor 1's data
    /// and finishes long before actor 2 alone could have supplied the budget. Every trajectory
    /// sent is accounted for: trained, dropped or discarded at the stop.
    @Test func oneSlowActorDoesNotStallLearning() throws {
        let config = Self.smallConfig(totalSteps: 80 * 32)
        let start = Date()
        let results = try ranks(3) { communicator -> ActorLearnerStatistics? in
            if communicator.rank != 0 {
                let actor = ActorLoop(config: config, settings: Self.settings(), communicator: communicator, makeEnvironment: Self.cartPole)
                actor.delayPerTrajectory = communicator.rank == 2 ? 0.5 : 0
                try actor.run()
                return nil
            }
            let learner = IMPALALearner(config: config, observationSpace: Self.cartPole().observationSpace,
                                        actionSpace: Self.cartPole().actionSpace)
            let loop = try LearnerLoop(learner: learner, communicator: communicator, settings: Self.settings())
            try loop.learn(totalSteps: config.totalSteps) { _ in true }
            try loop.stopActors()
            #expect(learner.version == 80)
            return loop.statistics
        }
        let elapsed = Date().timeIntervalSince(start)
        let statistics = try #require(results[0])
        let slow = statistics.trained[2, default: 0], fast = statistics.trained[1, default: 0]
        #expect(slow + fast == 80)
        #expect(Double(slow) <= elapsed / 0.5 + 1, "the slow actor cannot have sent more than one trajectory per 0.5 s")
        #expect(fast > 2 * slow, "the fast actor supplied most of the data (fast \(fast), slow \(slow), \(elapsed) s)")
        #expect(elapsed < 40, "80 trajectories from the slow actor alone would take 40 s; took \(elapsed) s")
        for rank in [1, 2] {
            let report = try #require(statistics.actorReports[rank])
            #expect(report.trajectoriesSent == statistics.trained[rank, default: 0] + statistics.dropped[rank, default: 0]
                    + statistics.discardedAtStop[rank, default: 0], "rank \(rank): \(report) vs \(statistics)")
        }
    }

    /// The learner stops after 5 updates while two actors keep producing: the stop reaches both,
    /// both confirm, their threads return, and what they sent is trained on, dropped, or
    /// discarded by the stop's drain, nothing lost in between.
    @Test func stoppingEarlyEndsEveryActorAndAccountsForEveryTrajectory() throws {
        let config = Self.smallConfig(totalSteps: 1_000_000)
        var settings = Self.settings()
        settings.maximumTrajectoriesInFlight = 4
        let (statistics, version) = try Self.learnerWithTwoActors(config: config, settings: settings) { learner, loop in
            try loop.learn(totalSteps: config.totalSteps) { _ in learner.version < 5 }
            try loop.stopActors()
            return (loop.statistics, learner.version)
        }
        #expect(version == 5)
        #expect(statistics.trainedTotal == 5)
        try Self.expectEveryTrajectoryAccountedFor(statistics)
        for rank in [1, 2] { #expect(statistics.actorReports[rank].map { $0.weightsApplied >= 1 } == true) }
    }

    @Test func learnerWithoutActorsTimesOutNamingThem() throws {
        let outcomes = outcomes(2) { communicator in
            guard communicator.rank == 0 else { return }  // rank 1 never acts
            let learner = IMPALALearner(config: Self.smallConfig(), observationSpace: Self.cartPole().observationSpace,
                                        actionSpace: Self.cartPole().actionSpace)
            let loop = try LearnerLoop(learner: learner, communicator: communicator, settings: Self.settings(timeout: 0.3))
            try loop.learn(totalSteps: 1000) { _ in true }
        }
        #expect { try outcomes[0].get() } throws: { "\($0)".contains("no trajectory from any actor (ranks [1]) for") }
    }

    @Test func actorWithoutLearnerTimesOutNamingRankZero() throws {
        let outcomes = outcomes(2) { communicator in
            guard communicator.rank == 1 else { return }  // rank 0 never publishes weights
            try ActorLoop(config: Self.smallConfig(), settings: Self.settings(timeout: 0.3), communicator: communicator,
                          makeEnvironment: Self.cartPole).run()
        }
        #expect { try outcomes[1].get() } throws: { "\($0)".contains("no weights or stop from the learner (rank 0)") }
    }

    /// No actor, or a lag limit below what publishing every K updates produces: every trajectory
    /// would be missing or dropped, so the learner refuses to start.
    @Test func learnerRefusesSettingsUnderWhichItCouldNeverTrain() throws {
        let learner = IMPALALearner(config: Self.smallConfig(), observationSpace: Self.cartPole().observationSpace,
                                    actionSpace: Self.cartPole().actionSpace)
        #expect { try LearnerLoop(learner: learner, communicator: LocalCommunicator.group(size: 1)[0], settings: Self.settings()) }
            throws: { "\($0)".contains("--np 2 or more") }
        var settings = Self.settings(maximumPolicyLag: 2)
        settings.weightsEvery = 8
        #expect { try LearnerLoop(learner: learner, communicator: LocalCommunicator.group(size: 2)[0], settings: settings) }
            throws: { "\($0)".contains("below weightsEvery − 1 = 7") }
    }

    // MARK: Learning

    /// 40k environment steps with 2 actors lift the greedy return well above the untrained policy's.
    @Test func impalaLearnsCartPoleWithATinyBudget() throws {
        var config = Self.smallConfig(totalSteps: 40_000)
        config.environmentCount = 4
        config.learningRate = 2e-3
        let results = try ranks(3) { communicator -> (before: Double, after: Double)? in
            if communicator.rank != 0 {
                try ActorLoop(config: config, settings: Self.settings(), communicator: communicator, makeEnvironment: Self.cartPole).run()
                return nil
            }
            let learner = IMPALALearner(config: config, observationSpace: Self.cartPole().observationSpace,
                                        actionSpace: Self.cartPole().actionSpace)
            let score = { evaluate(Self.cartPole, episodes: 10, act: learner.act).reduce(0, +) / 10 }
            let before = score()
            let loop = try LearnerLoop(learner: learner, communicator: communicator, settings: Self.settings())
            try loop.learn(totalSteps: config.totalSteps) { _ in true }
            try loop.stopActors()
            return (before, score())
        }
        let (before, after) = try #require(results[0])
        #expect(after >= 100 && after > before + 50, "greedy return \(before) before, \(after) after")
    }

    /// With a learner batch of 2 every update trains on two trajectories from whichever actors
    /// they came: twice the environment steps per update, every trajectory accounted for.
    @Test func learnerBatchMergesTrajectoriesFromAnyActor() throws {
        let config = Self.smallConfig(totalSteps: 20 * 32)
        var settings = Self.settings()
        settings.trajectoriesPerUpdate = 2
        let (statistics, version, steps) = try Self.learnerWithTwoActors(config: config, settings: settings) { learner, loop in
            try loop.learn(totalSteps: config.totalSteps) { _ in true }
            try loop.stopActors()
            return (loop.statistics, learner.version, learner.environmentSteps)
        }
        #expect(version == 10 && steps == 20 * 32)
        #expect(statistics.trainedTotal == 20)
        try Self.expectEveryTrajectoryAccountedFor(statistics)
    }

    // MARK: DD-PPO

    /// One process of DD-PPO is PPO: the same environments, stream and steps, and averaging over
    /// one rank changes no bit.
    @Test func ddppoOnOneProcessIsPlainPPO() throws {
        var config = PPOConfig()
        config.environmentCount = 2
        config.rolloutSteps = 32
        config.minibatches = 2
        config.epochs = 2
        config.totalSteps = 2 * 64
        config.hiddenSizes = [16, 16]
        let ppo = PPO(config: config, makeEnvironment: Self.cartPole)
        for _ in 0..<2 { _ = ppo.iterate() }
        let collective = CommunicatorCollective(communicator: LocalCommunicator.group(size: 1)[0], settings: DistributedSection())
        let ddppo = try DistributedPPO(config: config, collective: collective, makeEnvironment: Self.cartPole)
        try ddppo.synchronizeFromRankZero()
        while ddppo.iteration < ddppo.totalIterations { _ = try ddppo.iterate() }
        let expected = ppo.network.stateDictionary(), actual = ddppo.ppo.network.stateDictionary()
        for (name, tensor) in expected {
            #expect(actual[name]?.scalars.map(\.bitPattern) == tensor.scalars.map(\.bitPattern), "\(name)")
        }
    }

    /// Two ranks with different environments (their own seeds) step with averaged gradients and
    /// end with bit-identical parameters that moved away from the start.
    @Test func ddppoRanksKeepIdenticalWeights() throws {
        var config = PPOConfig()
        config.environmentCount = 2
        config.rolloutSteps = 32
        config.minibatches = 2
        config.epochs = 2
        config.totalSteps = 2 * 3 * 64
        config.hiddenSizes = [16, 16]
        let states = try ranks(2) { communicator -> (weights: [String: [Float]], initial: [Float], observations: [[Float]]) in
            let collective = CommunicatorCollective(communicator: communicator, settings: DistributedSection())
            let ddppo = try DistributedPPO(config: config, collective: collective, makeEnvironment: Self.cartPole)
            try ddppo.synchronizeFromRankZero()
            let observations = ddppo.ppo.environments.observations
            let initial = ddppo.ppo.network.actor.layers[0].weight.scalars
            while ddppo.iteration < ddppo.totalIterations { _ = try ddppo.iterate() }
            #expect(ddppo.environmentSteps == config.totalSteps)
            return (ddppo.ppo.network.stateDictionary().mapValues(\.scalars), initial, observations)
        }
        #expect(states[0].observations != states[1].observations, "each rank steps its own environments")
        #expect(states[0].weights.keys.sorted() == states[1].weights.keys.sorted())
        for (name, values) in states[0].weights {
            #expect(values.map(\.bitPattern) == states[1].weights[name]!.map(\.bitPattern), "\(name) differs across ranks")
        }
        #expect(states[0].weights["actor.layers.0.weight"] != states[0].initial, "training moved the weights")
    }
}

// MARK: - Ranks as threads

/// Runs `body` once per rank of a fresh `LocalCommunicator` group, each on its own thread, and
/// returns every rank's outcome.
func outcomes<Value>(_ size: Int, _ body: @escaping (LocalCommunicator) throws -> Value) -> [Result<Value, Error>] {
    let group = LocalCommunicator.group(size: size)
    for communicator in group { communicator.defaultTimeout = 60 }
    return RankThreads.run(size) { try body(group[$0]) }
}

/// Like `outcomes`, rethrowing the first failure.
func ranks<Value>(_ size: Int, _ body: @escaping (LocalCommunicator) throws -> Value) throws -> [Value] {
    try outcomes(size, body).map { try $0.get() }
}

