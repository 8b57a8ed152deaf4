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
        var metrics = try ppo.iterate(averagingGradients: collective.averageGradients)
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
}
