import Foundation
import TesseraDistributed
import TesseraReinforcement
import TesseraTensor

// The asynchronous actor–learner of IMPALA (Espeholt et al., ICML 2018, §3) over a
// `Communicator`: rank 0 is the learner, ranks 1…N are actors. Actors step their environments
// with a local copy of the policy and send trajectories (with the behaviour policy's
// log-probabilities and the version of the weights they acted with) to rank 0; the learner takes
// whatever has arrived, from whichever actor, trains on it with V-trace, and publishes fresh
// weights every `weightsEvery` updates. Nobody waits for one particular peer: the learner polls
// with non-blocking receives, skips publishing to an actor that has not yet taken its previous
// weights, and actors look for new weights between trajectories. Messages and tags are in
// `ActorLearnerMessages.swift`; under MPI the same code runs one process per rank
// (`ActorLearnerRun.swift`), in tests one thread per rank over `LocalCommunicator`.

/// How the actor–learner exchanges data; the learning itself is `IMPALAConfig`.
public struct ActorLearnerSettings: Sendable {
    /// K: learner updates between weight publications.
    public var weightsEvery = 1
    /// Trajectories whose policy lag (learner version − behaviour version, in updates) exceeds
    /// this are dropped (and counted) instead of trained on. At least `weightsEvery − 1`: between
    /// publications the learner runs that far ahead of the weights the actors hold.
    public var maximumPolicyLag = 16
    /// Seconds the learner waits without any trajectory, an actor waits without hearing from the
    /// learner, and either side waits for the other to confirm the stop, before failing.
    public var timeoutSeconds: Double = 60
    /// Trajectories an actor may have sent that the learner has not yet received; beyond it the
    /// actor waits (the learner is the bottleneck, and older data would only be dropped).
    public var maximumTrajectoriesInFlight = 2
    /// B: trajectories, from whichever actors they arrive, merged side by side into one learner
    /// update (the learner batch of IMPALA, §3). 1 trains on each trajectory as it arrives.
    public var trajectoriesPerUpdate = 1

    public init() {}
}

/// What the learner counted about its data.
public struct ActorLearnerStatistics: Equatable, Sendable {
    /// Trajectories trained on, and dropped for exceeding `maximumPolicyLag`, per actor rank.
    public var trained: [Int: Int] = [:]
    public var dropped: [Int: Int] = [:]
    public var droppedEnvironmentSteps = 0
    /// Policy lag of every trained trajectory, summed, and the largest seen.
    public var lagSum = 0
    public var lagMaximum = 0
    /// Weight publications sent, and skipped because the actor had not yet taken the previous one.
    public var weightsSent = 0
    public var weightsSkipped = 0
    /// Trajectories that arrived after the stop and were discarded, per actor rank.
    public var discardedAtStop: [Int: Int] = [:]
    /// Each actor's closing report.
    public var actorReports: [Int: ActorReport] = [:]

    public var trainedTotal: Int { trained.values.reduce(0, +) }
    public var droppedTotal: Int { dropped.values.reduce(0, +) }
}

/// Rank 0: receives trajectories from any actor, learns, publishes weights, stops the actors.
public final class LearnerLoop {
    public let learner: IMPALALearner
    public let communicator: any Communicator
    public let settings: ActorLearnerSettings
    public private(set) var statistics = ActorLearnerStatistics()
    private var receive: ReceiveRequest?
    private var weightSends: [Int: CommunicationRequest] = [:]
    private var lastArrival = monotonicNow()

    public init(learner: IMPALALearner, communicator: any Communicator, settings: ActorLearnerSettings) throws {
        guard communicator.size >= 2 else {
            throw TrainingError("the actor–learner needs rank 0 (the learner) and at least one actor rank, but the group has \(communicator.size) process(es): use --np 2 or more")
        }
        guard settings.maximumPolicyLag >= settings.weightsEvery - 1 else {
            throw TrainingError("maximumPolicyLag \(settings.maximumPolicyLag) is below weightsEvery − 1 = \(settings.weightsEvery - 1): actors act with weights up to that many updates old, so every trajectory would be dropped")
        }
        self.learner = learner
        self.communicator = communicator
        self.settings = settings
    }

    var actorRanks: Range<Int> { 1..<communicator.size }

    /// Sends the current weights to every actor whose previous weights message has been taken.
    public func publishWeights() throws {
        let bytes = WeightsMessage(version: learner.version, parameters: learner.policyParameters).encoded()
        for rank in actorRanks {
            if let previous = weightSends[rank], try !previous.test() {
                statistics.weightsSkipped += 1
                continue
            }
            weightSends[rank] = try bytes.withUnsafeBytes { try communicator.isend($0, to: rank, tag: ActorLearnerTag.weights) }
            statistics.weightsSent += 1
        }
    }

    /// Trains until the learner has consumed `totalSteps` environment steps or `afterUpdate`
    /// returns false. `afterUpdate` receives each update's metrics, with `policy_lag`.
    public func learn(totalSteps: Int, afterUpdate: ([String: Double]) throws -> Bool) throws {
        try publishWeights()
        lastArrival = monotonicNow()
        var batch: [(source: Int, trajectory: Trajectory, lag: Int)] = []
        while learner.environmentSteps < totalSteps {
            guard let (source, bytes) = try nextMessage() else {
                if monotonicNow() - lastArrival > settings.timeoutSeconds {
                    throw TrainingError("learner: no trajectory from any actor (ranks \(Array(actorRanks))) for \(Int(settings.timeoutSeconds)) s")
                }
                usleep(200)
                continue
            }
            lastArrival = monotonicNow()
            let trajectory = try Trajectory(message: bytes, source: source)
            // The version only changes at an update, so a lag measured on arrival still holds
            // when the batch is full.
            let lag = learner.version - trajectory.policyVersion
            guard lag <= settings.maximumPolicyLag else {
                statistics.dropped[source, default: 0] += 1
                statistics.droppedEnvironmentSteps += trajectory.count
                continue
            }
            if let first = batch.first?.trajectory,
               (trajectory.steps, trajectory.observationSize, trajectory.actionSize) != (first.steps, first.observationSize, first.actionSize) {
                throw TrainingError("learner: a trajectory from actor rank \(source) has \(trajectory.steps) steps, observations of \(trajectory.observationSize) and actions of \(trajectory.actionSize) floats, but the batch's has \(first.steps), \(first.observationSize) and \(first.actionSize)")
            }
            batch.append((source, trajectory, lag))
            guard batch.count == settings.trajectoriesPerUpdate else { continue }
            var metrics = learner.update(Trajectory.merged(batch.map(\.trajectory)))
            for item in batch {
                statistics.trained[item.source, default: 0] += 1
                statistics.lagSum += item.lag
                statistics.lagMaximum = max(statistics.lagMaximum, item.lag)
            }
            metrics["policy_lag"] = Double(batch.map(\.lag).reduce(0, +)) / Double(batch.count)
            metrics["dropped_trajectories"] = Double(statistics.droppedTotal)
            batch.removeAll()
            if learner.version % settings.weightsEvery == 0 { try publishWeights() }
            if try !afterUpdate(metrics) { break }
        }
    }

    /// The next trajectory that has arrived, from any actor, or nil when none has. Stops with
    /// the actor's own message when an actor reports a failure.
    private func nextMessage() throws -> (source: Int, bytes: [UInt8])? {
        let request = try receive ?? communicator.irecv(from: MessageMatching.anySource, tag: MessageMatching.anyTag)
        receive = request
        guard try request.test(), let message = request.message else { return nil }
        receive = nil
        switch message.tag {
        case ActorLearnerTag.trajectory: return (message.source, message.bytes)
        case ActorLearnerTag.failure: throw TrainingError("actor rank \(message.source) failed: \(message.string)")
        default: throw TrainingError("learner: unexpected message with tag \(message.tag) from rank \(message.source) before the stop")
        }
    }

    /// Tells every actor to stop, discards the trajectories still on their way, and waits (at
    /// most `timeoutSeconds`) until every actor has confirmed and every message has been taken.
    public func stopActors() throws {
        let stops = try actorRanks.map { rank in try [UInt8(0)].withUnsafeBytes { try communicator.isend($0, to: rank, tag: ActorLearnerTag.stop) } }
        let deadline = monotonicNow() + settings.timeoutSeconds
        while statistics.actorReports.count < actorRanks.count {
            let request = try receive ?? communicator.irecv(from: MessageMatching.anySource, tag: MessageMatching.anyTag)
            receive = request
            if try request.test(), let message = request.message {
                receive = nil
                switch message.tag {
                case ActorLearnerTag.trajectory: statistics.discardedAtStop[message.source, default: 0] += 1
                case ActorLearnerTag.finished: statistics.actorReports[message.source] = try ActorReport(message: message.bytes, source: message.source)
                case ActorLearnerTag.failure: throw TrainingError("actor rank \(message.source) failed: \(message.string)")
                default: throw TrainingError("learner: unexpected message with tag \(message.tag) from rank \(message.source) while stopping")
                }
                continue
            }
            if monotonicNow() > deadline {
                let silent = actorRanks.filter { statistics.actorReports[$0] == nil }
                throw TrainingError("learner: actor ranks \(silent) did not confirm the stop within \(Int(settings.timeoutSeconds)) s")
            }
            usleep(200)
        }
        for request in stops + Array(weightSends.values) { try request.wait(timeout: settings.timeoutSeconds) }
        weightSends = [:]
    }
}

/// Ranks 1…N: act with the newest weights, send trajectories, stop when told.
public final class ActorLoop {
    public let communicator: any Communicator
    public let settings: ActorLearnerSettings
    public let config: IMPALAConfig
    public let network: ActorCritic
    public let environments: VectorEnvironment
    private var generator: RandomGenerator
    /// Seconds to sleep after each trajectory: makes this actor deliberately slow (the slow-actor test).
    public var delayPerTrajectory: Double = 0
    private var policyVersion = -1
    private var report: ActorReport
    private var control: ReceiveRequest?
    private var stopRequested = false
    private var lastHeard = monotonicNow()

    /// Builds the actor of `communicator.rank`: the same network as the learner's (its weights
    /// come from the learner) and environments seeded apart from every other actor's.
    public init(config: IMPALAConfig, settings: ActorLearnerSettings, communicator: any Communicator,
                makeEnvironment: () -> Environment) {
        self.config = config
        self.settings = settings
        self.communicator = communicator
        environments = VectorEnvironment(count: config.environmentCount, makeEnvironment)
        var initialization = RandomGenerator(seed: config.seed)
        network = ActorCritic(observationSpace: environments.observationSpace, actionSpace: environments.actionSpace,
                              hiddenSizes: config.hiddenSizes, generator: &initialization)
        let rank = UInt64(communicator.rank)
        environments.reset(seed: config.seed &+ 10_000 &* rank)
        generator = RandomGenerator(seed: config.seed).derived(stream: 100 &+ rank)
        report = ActorReport(rank: communicator.rank, trajectoriesSent: 0, environmentSteps: 0, weightsApplied: 0)
    }

    /// Acts until the learner says stop; returns what this actor did. An error is also reported
    /// to the learner (best effort), so it fails naming this actor instead of timing out.
    @discardableResult
    public func run() throws -> ActorReport {
        do {
            return try act()
        } catch {
            let text = Array("\(error)".utf8)
            _ = try? text.withUnsafeBytes { try communicator.isend($0, to: 0, tag: ActorLearnerTag.failure) }
            throw error
        }
    }

    private func act() throws -> ActorReport {
        let parameters = network.actorParameters.sorted { $0.name < $1.name }
        var inFlight: [CommunicationRequest] = []
        while true {
            try readControlMessages(into: parameters)
            if stopRequested { break }
            guard policyVersion >= 0 else {  // nothing to act with until the first weights arrive
                try checkLearnerIsAlive()
                usleep(500)
                continue
            }
            let trajectory = collectTrajectory(environments, network: network, steps: config.rolloutSteps,
                                               policyVersion: policyVersion, generator: &generator)
            if delayPerTrajectory > 0 { Thread.sleep(forTimeInterval: delayPerTrajectory) }
            let bytes = trajectory.encoded()
            inFlight.append(try bytes.withUnsafeBytes { try communicator.isend($0, to: 0, tag: ActorLearnerTag.trajectory) })
            report.trajectoriesSent += 1
            report.environmentSteps += trajectory.count
            inFlight = try inFlight.filter { try !$0.test() }
            let waitStart = monotonicNow()
            while inFlight.count >= settings.maximumTrajectoriesInFlight && !stopRequested {
                try readControlMessages(into: parameters)
                inFlight = try inFlight.filter { try !$0.test() }
                if monotonicNow() - waitStart > settings.timeoutSeconds {
                    throw TrainingError("actor rank \(communicator.rank): the learner (rank 0) took none of \(inFlight.count) trajectories for \(Int(settings.timeoutSeconds)) s")
                }
                usleep(200)
            }
        }
        // The learner drains trajectories until it has every actor's `finished`, so these complete.
        for request in inFlight { try request.wait(timeout: settings.timeoutSeconds) }
        let closing = report.encoded()
        try closing.withUnsafeBytes { try communicator.isend($0, to: 0, tag: ActorLearnerTag.finished) }
            .wait(timeout: settings.timeoutSeconds)
        return report
    }

    /// Takes every message the learner has sent; applies only the newest weights.
    private func readControlMessages(into parameters: [(name: String, parameter: Tensor)]) throws {
        var newest: WeightsMessage?
        while true {
            let request = try control ?? communicator.irecv(from: 0, tag: MessageMatching.anyTag)
            control = request
            guard try request.test(), let message = request.message else { break }
            control = nil
            lastHeard = monotonicNow()
            switch message.tag {
            case ActorLearnerTag.weights: newest = try WeightsMessage(message: message.bytes)
            case ActorLearnerTag.stop: stopRequested = true
            default: throw TrainingError("actor rank \(communicator.rank): unexpected message with tag \(message.tag) from the learner")
            }
        }
        if let newest {
            try newest.apply(to: parameters)
            policyVersion = newest.version
            report.weightsApplied += 1
        }
        if !stopRequested { try checkLearnerIsAlive() }
    }

    private func checkLearnerIsAlive() throws {
        if monotonicNow() - lastHeard > settings.timeoutSeconds {
            throw TrainingError("actor rank \(communicator.rank): no weights or stop from the learner (rank 0) for \(Int(settings.timeoutSeconds)) s")
        }
    }
}

/// Seconds on a monotonic clock.
func monotonicNow() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}
