import Foundation
import TesseraNN
import TesseraReinforcement
import TesseraTensor

/// Decentralized distributed PPO (Wijmans, Kadian, Morcos, Lee, Essa, Parikh, Savva & Batra,
/// "DD-PPO: Learning Near-Perfect PointGoal Navigators from 2.5 Billion Frames", ICLR 2020): no
/// central learner; every process collects rollouts from its own environments (its own seeds
/// and sampling stream) and computes PPO's gradients on them, and the gradients are averaged
/// over processes with the data-parallel path (`TrainingCollective.averageGradients`) before
/// every optimizer step, so every process takes the same step and keeps the same weights.
/// The paper's preemption of stragglers (ending a rollout early once most workers are done) is
/// not implemented: every rollout runs to its full length.
public final class DistributedPPO {
    public let ppo: PPO
    public let collective: TrainingCollective
    /// Each iteration's time on this rank (rollout and update) and the part spent in the gradient
    /// allreduces of its minibatch steps, for `ranks.jsonl`.
    public var timer = StepTimer()

    /// `config.totalSteps` counts the environment steps of all processes together; each process
    /// runs `totalSteps / worldSize` of them. Rank 0's environments and stream are those of a
    /// one-process PPO run with the same seed.
    public init(config: PPOConfig, collective: TrainingCollective, makeEnvironment: () -> Environment) throws {
        var local = config
        local.totalSteps = config.totalSteps / collective.worldSize
        guard local.iterations >= 1 else {
            throw TrainingError("ddppo: totalSteps \(config.totalSteps) over \(collective.worldSize) processes is less than one rollout of \(config.batchSize) steps per process")
        }
        ppo = PPO(config: local, makeEnvironment: makeEnvironment)
        self.collective = collective
        let rank = UInt64(collective.rank)
        ppo.environments.reset(seed: config.seed &+ 10_000 &* rank)
        ppo.generator = RandomGenerator(seed: config.seed).derived(stream: 2 &+ 100 &* rank)
        try collective.prepareGradientAveraging(ppo.network.namedParameters().sorted { $0.name < $1.name })
    }

    public var iteration: Int { ppo.iteration }
    public var totalIterations: Int { ppo.totalIterations }
    /// Environment steps of all processes together.
    public var environmentSteps: Int { ppo.environmentSteps * collective.worldSize }

    /// One rollout per process and PPO's epochs of minibatch steps on averaged gradients.
    /// `episode_return` and `episode_length` are the mean over the processes where episodes ended.
    public func iterate() throws -> [String: Double] {
        timer.startStep()
        var metrics = try ppo.iterate(averagingGradients: { try timer.allreduce { try collective.averageGradients() } })
        timer.endStep()
        let returns = metrics["episode_return"], lengths = metrics["episode_length"]
        // Every process calls this sum, whether or not its episodes ended, so the calls match.
        let totals = try collective.sum([returns ?? 0, lengths ?? 0, returns == nil ? 0 : 1])
        metrics["episode_return"] = totals[2] > 0 ? totals[0] / totals[2] : nil
        metrics["episode_length"] = totals[2] > 0 ? totals[1] / totals[2] : nil
        return metrics
    }

    /// Rank 0's parameters, optimizer slots and counters on every process (a fresh start or a resume).
    public func synchronizeFromRankZero() throws {
        var writer = MessageWriter()
        if collective.rank == 0 {
            writer.integer(ppo.iteration)
            writer.integer(ppo.environmentSteps)
            writer.namedTensors(ppo.network.stateDictionary())
            writer.namedTensors(ppo.optimizer.stateDictionary())
        }
        var reader = MessageReader(try collective.broadcastBytes(writer.bytes), what: "DD-PPO state from rank 0")
        let (iteration, steps) = (try reader.integer(), try reader.integer())
        let model = try reader.namedTensors(), slots = try reader.namedTensors()
        try reader.requireEnd()
        guard collective.rank != 0 else { return }
        try ppo.network.loadStateDictionary(model)
        try ppo.optimizer.loadStateDictionary(slots)
        (ppo.iteration, ppo.environmentSteps) = (iteration, steps)
    }

    /// Every rank's learner state (counters, environments mid-episode, sampling stream), indexed
    /// by rank, on rank 0; `nil` on the other ranks. Each rank's environments and stream are its
    /// own, so a checkpoint that continues exactly needs all of them. Every rank calls this at the
    /// same iteration.
    public func gatherLearnerRecords() throws -> [LearnerRecord]? {
        let state = try ppo.saveState()
        guard state.tensors.isEmpty else {
            throw TrainingError("ddppo: the learner state holds tensors \(state.tensors.keys.sorted()), which DD-PPO checkpoints do not store")
        }
        let all = try collective.allgatherBytes(Array(try JSONEncoder.sorted.encode(state.record)))
        guard collective.rank == 0 else { return nil }
        return try all.map { try JSONDecoder().decode(LearnerRecord.self, from: Data($0)) }
    }

    /// Restores each rank's own learner state from rank 0's `saved`: the checkpoint's records
    /// indexed by rank, `nil` on a fresh start, or why the checkpoint cannot continue this run,
    /// which every rank then throws (so no rank waits for the others in a later collective).
    /// Every rank calls this once, after ``synchronizeFromRankZero()``; other ranks pass `nil`.
    public func restoreLearnerRecords(_ saved: Result<[LearnerRecord], TrainingError>?) throws {
        var writer = MessageWriter()
        if collective.rank == 0 {
            var refusal: TrainingError?
            if case .success(let records)? = saved, records.count != collective.worldSize {
                // Each rank's environments and stream belong to its rank: another number of
                // processes would run other data, so the run could not continue exactly.
                refusal = TrainingError("ddppo: the checkpoint was written by \(records.count) processes, but this run has \(collective.worldSize): resume with --np \(records.count) to continue it exactly")
            }
            switch refusal.map({ .failure($0) }) ?? saved {
            case nil: writer.integer(0)
            case .success(let records)?:
                writer.integer(1)
                writer.string(String(decoding: try JSONEncoder.sorted.encode(records), as: UTF8.self))
            case .failure(let error)?:
                writer.integer(2)
                writer.string(error.description)
            }
        }
        var reader = MessageReader(try collective.broadcastBytes(writer.bytes), what: "DD-PPO learner states from rank 0")
        let kind = try reader.integer()
        let text = kind == 0 ? "" : try reader.string()
        try reader.requireEnd()
        switch kind {
        case 0: return
        case 1:
            let records = try JSONDecoder().decode([LearnerRecord].self, from: Data(text.utf8))
            do {
                try ppo.restoreState(LearnerState(record: records[collective.rank]))
            } catch {
                throw TrainingError("ddppo: rank \(collective.rank)'s saved learner state does not fit this recipe: \(error)")
            }
        default: throw TrainingError(text)
        }
    }
}
