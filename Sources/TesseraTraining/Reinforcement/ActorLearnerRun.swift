import Foundation
import TesseraCheckpoint
import TesseraConfig
import TesseraDistributed
import TesseraNN
import TesseraReinforcement
import TesseraTensor

/// The recipe's `actorLearner:` section (`task: impala`): how the learner and the actors exchange
/// data. Every key is optional.
///
/// ```yaml
/// actorLearner: {weightsEvery: 1, maximumPolicyLag: 16, timeoutSeconds: 60, trajectoriesPerUpdate: 1}
/// ```
public struct ActorLearnerSection: Decodable, RecipeValidatable {
    /// K: learner updates between weight publications.
    public var weightsEvery: Int
    /// Trajectories lagging more learner updates than this behind are dropped (and counted).
    public var maximumPolicyLag: Int
    /// Seconds without data or an answer before a rank fails naming the silent side.
    public var timeoutSeconds: Double
    /// Trajectories an actor may have on their way before it waits for the learner.
    public var maximumTrajectoriesInFlight: Int
    /// Trajectories merged into one learner update (IMPALA's learner batch).
    public var trajectoriesPerUpdate: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case weightsEvery, maximumPolicyLag, timeoutSeconds, maximumTrajectoriesInFlight, trajectoriesPerUpdate
    }

    public init() {
        let defaults = ActorLearnerSettings()
        weightsEvery = defaults.weightsEvery
        maximumPolicyLag = defaults.maximumPolicyLag
        timeoutSeconds = defaults.timeoutSeconds
        maximumTrajectoriesInFlight = defaults.maximumTrajectoriesInFlight
        trajectoriesPerUpdate = defaults.trajectoriesPerUpdate
    }

    public init(from decoder: Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        weightsEvery = try c.decodeIfPresent(Int.self, forKey: .weightsEvery) ?? weightsEvery
        maximumPolicyLag = try c.decodeIfPresent(Int.self, forKey: .maximumPolicyLag) ?? maximumPolicyLag
        timeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .timeoutSeconds) ?? timeoutSeconds
        maximumTrajectoriesInFlight = try c.decodeIfPresent(Int.self, forKey: .maximumTrajectoriesInFlight) ?? maximumTrajectoriesInFlight
        trajectoriesPerUpdate = try c.decodeIfPresent(Int.self, forKey: .trajectoriesPerUpdate) ?? trajectoriesPerUpdate
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.positive("weightsEvery", weightsEvery)
        try check.that(maximumPolicyLag >= 0, "maximumPolicyLag",
                       "must be 0 or more (learner updates a trajectory may lag behind the learner), found \(maximumPolicyLag)")
        try check.that(maximumPolicyLag >= weightsEvery - 1, "maximumPolicyLag",
                       "must be at least weightsEvery − 1 = \(weightsEvery - 1) (actors hold weights up to that many updates old, so every trajectory would be dropped), found \(maximumPolicyLag)")
        try check.positive("timeoutSeconds", timeoutSeconds)
        try check.positive("maximumTrajectoriesInFlight", maximumTrajectoriesInFlight)
        try check.positive("trajectoriesPerUpdate", trajectoriesPerUpdate)
    }

    public var settings: ActorLearnerSettings {
        var settings = ActorLearnerSettings()
        settings.weightsEvery = weightsEvery
        settings.maximumPolicyLag = maximumPolicyLag
        settings.timeoutSeconds = timeoutSeconds
        settings.maximumTrajectoriesInFlight = maximumTrajectoriesInFlight
        settings.trajectoriesPerUpdate = trajectoriesPerUpdate
        return settings
    }
}

/// The reinforcement-learning tasks that train with several processes:
///
/// - `impala`: the asynchronous actor–learner (`ActorLearner.swift`): rank 0 learns with V-trace,
///   ranks 1…N act. Needs at least 2 processes: `tessera train configs/rl-impala-cartpole.yaml --np 3`.
/// - `ddppo`: synchronous DD-PPO (`DDPPO.swift`): every rank collects and computes gradients,
///   which are averaged; runs with any number of processes (one: plain PPO).
///
/// Under MPI `DistributedRun` hands the task here; without `--np`, `ReinforcementTasks.train`
/// does. Rank 0 alone logs (`metrics.jsonl`, with `policy_lag` and dropped trajectories for
/// `impala`), writes checkpoints (kind `tessera.reinforcement`: `model/…`, `optimizer/…`, the
/// counters), evaluates the greedy policy and writes `summary.json`. A `ddppo` checkpoint also
/// holds every rank's learner state (metadata `learner_ranks`: counters, environments
/// mid-episode and sampling stream, indexed by rank), gathered from all ranks, so `--resume` with
/// the same number of processes continues bit for bit (another number is refused). An `impala`
/// resume restores the networks, the optimizer and the counters only; its actors start afresh,
/// and the run continues statistically, not exactly: which trajectories the learner trains on
/// depends on timing.
public enum ActorLearnerRun {
    public static let taskNames = ["impala", "ddppo"]

    /// Trains this rank's part of `recipe` over `communicator`. Rank 0 returns the run's result;
    /// other ranks return what they did (no metrics).
    public static func train(recipe: ReinforcementRecipe, recipeYAML: String, recipeFile: String, communicator: any Communicator,
                             runDirectory: RunDirectory, resume: ResumeRequest, showProgress: Bool) throws -> TrainingResult {
        let make: () -> Environment = { Environments.make(recipe.environment)! }
        switch recipe.task {
        case "impala":
            let config = try impalaConfig(recipe, recipeFile: recipeFile)
            let settings = recipe.actorLearner.settings
            guard communicator.size >= 2 else {
                throw TrainingError("\(recipeFile): task impala needs a learner and at least one actor: train with --np 2 or more (--np 3: a learner and 2 actors), got \(communicator.size) process")
            }
            if communicator.rank != 0 {
                let start = Date()
                let actor = ActorLoop(config: config, settings: settings, communicator: communicator, makeEnvironment: make)
                let report = try actor.run()
                // After a signal the learner saved and stopped us; say so, so this rank exits like rank 0.
                return TrainingResult(steps: report.environmentSteps, wallSeconds: Date().timeIntervalSince(start), finalMetrics: [:],
                                      interruptedBy: InterruptSignal.pending == nil ? nil : InterruptSignal.pendingName, checkpointPath: nil)
            }
            let probe = make()
            let learner = IMPALALearner(config: config, observationSpace: probe.observationSpace, actionSpace: probe.actionSpace)
            let loop = try LearnerLoop(learner: learner, communicator: communicator, settings: settings)
            return try trainLearner(loop, recipe: recipe, recipeYAML: recipeYAML, run: runDirectory, resume: resume,
                                    showProgress: showProgress)
        case "ddppo":
            var asPPO = recipe
            asPPO.task = "ppo"
            guard let reference = try ReinforcementTasks.makeLearner(asPPO, recipeFile: recipeFile) as? PPO else {
                throw TrainingError("\(recipeFile): task ddppo: the recipe does not describe a PPO learner")
            }
            let collective = CommunicatorCollective(communicator: communicator, settings: DistributedSection())
            let ddppo = try DistributedPPO(config: reference.config, collective: collective, makeEnvironment: make)
            return try trainDDPPO(ddppo, recipe: recipe, recipeYAML: recipeYAML, run: runDirectory, resume: resume,
                                  showProgress: showProgress)
        default:
            throw TrainingError("\(recipeFile): task '\(recipe.task)' is not one of \(taskNames)")
        }
    }

    /// `task: impala` in one process has no actors: the error names `--np`. `task: ddppo` runs as
    /// one rank (plain PPO with DD-PPO's bookkeeping).
    static func trainInOneProcess(recipe: ReinforcementRecipe, recipeYAML: String, recipeFile: String, runDirectory: RunDirectory,
                                  resume: ResumeRequest, showProgress: Bool) throws -> TrainingResult {
        try train(recipe: recipe, recipeYAML: recipeYAML, recipeFile: recipeFile, communicator: LocalCommunicator.group(size: 1)[0],
                  runDirectory: runDirectory, resume: resume, showProgress: showProgress)
    }

    static func impalaConfig(_ recipe: ReinforcementRecipe, recipeFile: String) throws -> IMPALAConfig {
        let algorithm = recipe.algorithm
        let probe = Environments.make(recipe.environment)!
        if let policy = algorithm.policy {
            let needed: AlgorithmSection.PolicyKind = probe.actionSpace.count == nil ? .gaussian : .categorical
            guard policy == needed else {
                throw TrainingError("\(recipeFile): algorithm.policy is \(policy.rawValue), but \(recipe.environment) has action space \(probe.actionSpace), which needs a \(needed.rawValue) policy")
            }
        }
        var c = IMPALAConfig()
        c.seed = recipe.seed
        c.totalSteps = algorithm.totalSteps ?? c.totalSteps
        c.environmentCount = algorithm.environmentCount ?? c.environmentCount
        c.rolloutSteps = algorithm.rolloutSteps ?? c.rolloutSteps
        c.learningRate = algorithm.learningRate ?? c.learningRate
        c.annealLearningRate = algorithm.annealLearningRate ?? c.annealLearningRate
        c.discount = algorithm.discount ?? c.discount
        c.importanceClip = algorithm.importanceClip ?? c.importanceClip
        c.traceClip = algorithm.traceClip ?? c.traceClip
        c.entropyCoefficient = algorithm.entropyCoefficient ?? c.entropyCoefficient
        c.valueCoefficient = algorithm.valueCoefficient ?? c.valueCoefficient
        c.maximumGradientNorm = algorithm.maximumGradientNorm ?? c.maximumGradientNorm
        c.hiddenSizes = algorithm.hiddenSizes ?? c.hiddenSizes
        return c
    }

    // MARK: - Rank 0

    private static func trainLearner(_ loop: LearnerLoop, recipe: ReinforcementRecipe, recipeYAML: String, run: RunDirectory,
                                     resume: ResumeRequest, showProgress: Bool) throws -> TrainingResult {
        let learner = loop.learner
        let recorder = try RankZeroRecorder(recipe: recipe, recipeYAML: recipeYAML, run: run, model: learner.network,
                                            optimizer: learner.optimizer, resume: resume, showProgress: showProgress)
        (learner.version, learner.environmentSteps) = (recorder.progress.iteration, recorder.progress.environmentSteps)
        let totalUpdates = max(1, learner.config.totalSteps / learner.config.trajectorySteps)
        var interruptedBy: String?
        let start = monotonicNow(), versionAtStart = learner.version, stepsAtStart = learner.environmentSteps
        try loop.learn(totalSteps: learner.config.totalSteps) { metrics in
            if InterruptSignal.pending != nil {
                interruptedBy = InterruptSignal.pendingName
                return false
            }
            var values = metrics
            values["updates_per_second"] = Double(learner.version - versionAtStart) / max(monotonicNow() - start, 1e-9)
            try recorder.record(values, iteration: learner.version, totalIterations: totalUpdates,
                                environmentSteps: learner.environmentSteps, isLast: learner.environmentSteps >= learner.config.totalSteps,
                                act: learner.act)
            return true
        }
        let learningSeconds = max(monotonicNow() - start, 1e-9)
        if let interruptedBy {
            // Checkpoint first: once stopped, actors exit too, and mpirun may end the job.
            let result = try recorder.interrupted(by: interruptedBy, iteration: learner.version, environmentSteps: learner.environmentSteps)
            try loop.stopActors()
            return result
        }
        try loop.stopActors()
        let statistics = loop.statistics
        let actorSteps = statistics.actorReports.values.reduce(0) { $0 + $1.environmentSteps }
        var extra: [String: Double] = [
            "learner_updates": Double(learner.version),
            // Throughput over this process's learning loop (after start-up, before the evaluation):
            // steps the learner trained on, steps the actors took (dropped and discarded ones too).
            "updates_per_second": Double(learner.version - versionAtStart) / learningSeconds,
            "learner_steps_per_second": Double(learner.environmentSteps - stepsAtStart) / learningSeconds,
            "actor_steps_per_second": Double(actorSteps) / learningSeconds,
            "policy_lag_mean": statistics.trainedTotal > 0 ? Double(statistics.lagSum) / Double(statistics.trainedTotal) : 0,
            "policy_lag_max": Double(statistics.lagMaximum),
            "dropped_trajectories": Double(statistics.droppedTotal),
            "dropped_environment_steps": Double(statistics.droppedEnvironmentSteps),
            "discarded_at_stop": Double(statistics.discardedAtStop.values.reduce(0, +)),
            "weights_sent": Double(statistics.weightsSent), "weights_skipped": Double(statistics.weightsSkipped),
            "actors": Double(loop.communicator.size - 1),
        ]
        for (rank, count) in statistics.trained { extra["trained_trajectories_rank_\(rank)"] = Double(count) }
        return try recorder.finish(iteration: learner.version, environmentSteps: learner.environmentSteps, extra: extra, act: learner.act)
    }

    private static func trainDDPPO(_ ddppo: DistributedPPO, recipe: ReinforcementRecipe, recipeYAML: String, run: RunDirectory,
                                   resume: ResumeRequest, showProgress: Bool) throws -> TrainingResult {
        let isRankZero = ddppo.collective.rank == 0
        let recorder = isRankZero
            ? try RankZeroRecorder(recipe: recipe, recipeYAML: recipeYAML, run: run, model: ddppo.ppo.network,
                                   optimizer: ddppo.ppo.optimizer, resume: resume, showProgress: showProgress)
            : nil
        if let recorder {
            ddppo.ppo.iteration = recorder.progress.iteration
            ddppo.ppo.environmentSteps = recorder.progress.environmentSteps / ddppo.collective.worldSize
        }
        try ddppo.synchronizeFromRankZero()
        try ddppo.restoreLearnerRecords(recorder?.resumedFrom.map(savedLearnerRecords))
        // Every rank's learner state, as the metadata of the checkpoint rank 0 writes now.
        func learnerRanks() throws -> [String: String] {
            guard let records = try ddppo.gatherLearnerRecords() else { return [:] }
            return ["learner_ranks": String(decoding: try JSONEncoder.sorted.encode(records), as: UTF8.self)]
        }
        let start = Date()
        while ddppo.iteration < ddppo.totalIterations {
            // Every rank must stop at the same iteration, so a signal to any of them is summed.
            let signals = try ddppo.collective.sum([InterruptSignal.pending == nil ? 0 : 1])
            if signals[0] > 0 {
                let metadata = try learnerRanks()
                guard let recorder else {
                    return TrainingResult(steps: ddppo.environmentSteps, wallSeconds: Date().timeIntervalSince(start), finalMetrics: [:],
                                          interruptedBy: InterruptSignal.pendingName, checkpointPath: nil)
                }
                return try recorder.interrupted(by: InterruptSignal.pendingName, iteration: ddppo.iteration,
                                                environmentSteps: ddppo.environmentSteps, metadata: metadata)
            }
            let metrics = try ddppo.iterate()
            let isLast = ddppo.iteration == ddppo.totalIterations
            // Every rank knows the log iterations, so every rank takes part in the timings' sum then.
            if ddppo.iteration % recipe.training.logEvery == 0 || isLast, let timings = try ddppo.timer.collect(ddppo.collective) {
                try recorder?.run.appendRankTimings(timings, step: ddppo.environmentSteps)
            }
            // Rank 0 saves at iterations every rank knows, so every rank takes part in the gather then.
            let metadata = RankZeroRecorder.checkpointDue(recipe: recipe, iteration: ddppo.iteration, isLast: isLast) ? try learnerRanks() : [:]
            try recorder?.record(metrics, iteration: ddppo.iteration, totalIterations: ddppo.totalIterations,
                                 environmentSteps: ddppo.environmentSteps, isLast: isLast, metadata: metadata, act: ddppo.ppo.act)
        }
        guard let recorder else {
            return TrainingResult(steps: ddppo.environmentSteps, wallSeconds: Date().timeIntervalSince(start), finalMetrics: [:],
                                  interruptedBy: nil, checkpointPath: nil)
        }
        return try recorder.finish(iteration: ddppo.iteration, environmentSteps: ddppo.environmentSteps,
                                   extra: ["processes": Double(ddppo.collective.worldSize)], act: ddppo.ppo.act)
    }

    /// The per-rank learner states of the checkpoint a `ddppo` run resumes from, or why it cannot
    /// continue exactly.
    private static func savedLearnerRecords(_ resumed: (metadata: [String: String], path: String)) -> Result<[LearnerRecord], TrainingError> {
        guard let text = resumed.metadata["learner_ranks"] else {
            return .failure(TrainingError("\(resumed.path): holds no per-rank learner state (environments, sampling streams; written before DD-PPO checkpoints held them), so the run cannot continue exactly: start it afresh"))
        }
        do {
            return .success(try JSONDecoder().decode([LearnerRecord].self, from: Data(text.utf8)))
        } catch {
            return .failure(TrainingError("\(resumed.path): unreadable learner_ranks: \(error)"))
        }
    }
}

/// Rank 0's bookkeeping for the multi-process RL tasks: resume, `metrics.jsonl` every
/// `training.logEvery` iterations, checkpoints every `training.checkpointEvery` and at the end,
/// then the greedy evaluation, `summary.json` and `curves.png`.
final class RankZeroRecorder {
    let recipe: ReinforcementRecipe
    let recipeYAML: String
    let run: RunDirectory
    let model: Module
    let optimizer: any Optimizer
    let checkpoints: CheckpointDirectory
    private(set) var progress: ReinforcementProgress
    private var reporter: ProgressReporter
    private var pending: [String: [Double]] = [:]
    private var lastCheckpoint: String?
    /// The metadata of the checkpoint this run resumed from, for what only the task reads (DD-PPO's
    /// per-rank learner states).
    private(set) var resumedFrom: (metadata: [String: String], path: String)?
    private let start = Date()
    private var wallBefore = 0.0
    private var stepsAtLastLog = 0
    private var timeOfLastLog = Date()

    init(recipe: ReinforcementRecipe, recipeYAML: String, run: RunDirectory, model: Module, optimizer: any Optimizer,
         resume: ResumeRequest, showProgress: Bool) throws {
        self.recipe = recipe
        self.recipeYAML = recipeYAML
        self.run = run
        self.model = model
        self.optimizer = optimizer
        checkpoints = CheckpointDirectory(path: run.checkpointsURL.path, keepLast: recipe.training.keepCheckpoints)
        reporter = ProgressReporter(enabled: showProgress)
        progress = ReinforcementProgress(iteration: 0, environmentSteps: 0, metrics: [], wallSeconds: 0)
        switch resume {
        case .none: break
        case .automatic:
            if let latest = try checkpoints.newestForResume(&reporter) { try restore(latest.checkpoint, path: latest.path) }
        case .path(let path): try restore(try Checkpoint.read(from: path), path: path)
        }
        wallBefore = progress.wallSeconds
        stepsAtLastLog = progress.environmentSteps
        try run.rewriteMetrics(progress.metrics)
    }

    /// Whether `iteration` ends with a checkpoint: every `training.checkpointEvery` and the last.
    static func checkpointDue(recipe: ReinforcementRecipe, iteration: Int, isLast: Bool) -> Bool {
        isLast || (recipe.training.checkpointEvery > 0 && iteration % recipe.training.checkpointEvery == 0)
    }

    /// Takes one iteration's metrics; logs and checkpoints at the recipe's intervals, adding
    /// `metadata` to the checkpoint.
    func record(_ metrics: [String: Double], iteration: Int, totalIterations: Int, environmentSteps: Int, isLast: Bool,
                metadata: [String: String] = [:], act: ([Float]) -> Action) throws {
        for (key, value) in metrics { pending[key, default: []].append(value) }
        (progress.iteration, progress.environmentSteps) = (iteration, environmentSteps)
        if iteration % recipe.training.logEvery == 0 || isLast {
            var values = pending.mapValues { $0.reduce(0, +) / Double($0.count) }
            values["environment_steps"] = Double(environmentSteps)
            values["steps_per_second"] = Double(environmentSteps - stepsAtLastLog) / max(Date().timeIntervalSince(timeOfLastLog), 1e-9)
            values["eval_return_mean"] = progress.checkTarget(recipe, environmentSteps: environmentSteps,
                                                              elapsedSeconds: wallBefore + Date().timeIntervalSince(start), act: act)
            (pending, stepsAtLastLog, timeOfLastLog) = ([:], environmentSteps, Date())
            let record = MetricsRecord(step: environmentSteps, values: values)
            progress.metrics.append(record)
            try run.appendMetrics(record)
            reporter.update(step: iteration, totalSteps: totalIterations, epoch: 0,
                            values: ["episode_return", "policy_lag"].compactMap { key in values[key].map { (key, $0) } },
                            samplesPerSecond: values["steps_per_second"] ?? 0, elapsedSeconds: Date().timeIntervalSince(start))
        }
        if Self.checkpointDue(recipe: recipe, iteration: iteration, isLast: isLast) {
            try save(metadata: metadata)
        }
    }

    /// After SIGINT/SIGTERM: a checkpoint, and the result that says so.
    func interrupted(by signal: String, iteration: Int, environmentSteps: Int, metadata: [String: String] = [:]) throws -> TrainingResult {
        (progress.iteration, progress.environmentSteps) = (iteration, environmentSteps)
        try save(metadata: metadata)
        reporter.log("\(signal): saved \(lastCheckpoint ?? "") at iteration \(iteration); exiting")
        return TrainingResult(steps: environmentSteps, wallSeconds: progress.wallSeconds, finalMetrics: progress.metrics.last?.values ?? [:],
                              interruptedBy: signal, checkpointPath: lastCheckpoint)
    }

    /// Evaluates the greedy policy over the recipe's fixed-seed episodes and writes the summary.
    func finish(iteration: Int, environmentSteps: Int, extra: [String: Double], act: ([Float]) -> Action) throws -> TrainingResult {
        reporter.finish()
        (progress.iteration, progress.environmentSteps) = (iteration, environmentSteps)
        progress.wallSeconds = wallBefore + Date().timeIntervalSince(start)
        let returns = evaluate({ Environments.make(recipe.environment)! }, episodes: recipe.evaluation.episodes,
                               seed: recipe.evaluation.seed, act: act)
        var final: [String: Double] = [:]
        for record in progress.metrics { final.merge(record.values) { $1 } }
        final.merge(extra) { $1 }
        final["eval_return_mean"] = returns.reduce(0, +) / Double(returns.count)
        final["eval_return_min"] = returns.min()
        final["environment_steps"] = Double(environmentSteps)
        final.merge(progress.targetSummary(recipe)) { $1 }
        try run.writeSummary(steps: environmentSteps, wallSeconds: progress.wallSeconds, metrics: final,
                             extra: ["recipe": recipe.name, "task": recipe.task, "environment": recipe.environment,
                                     "checkpoint": lastCheckpoint ?? "none"])
        try run.writeCurves(progress.metrics.map { record in
            MetricsRecord(step: record.step, values: record.values.filter {
                !["environment_steps", "steps_per_second", "updates_per_second", "dropped_trajectories"].contains($0.key)
            })
        })
        return TrainingResult(steps: environmentSteps, wallSeconds: progress.wallSeconds, finalMetrics: final, interruptedBy: nil,
                              checkpointPath: lastCheckpoint)
    }

    private func save(metadata extra: [String: String]) throws {
        progress.wallSeconds = wallBefore + Date().timeIntervalSince(start)
        progress.pending = pending
        var entries: [CheckpointEntry] = []
        for (name, tensor) in model.stateDictionary().sorted(by: { $0.key < $1.key }) {
            entries.append(TrainingCheckpoint.entry("model/" + name, tensor))
        }
        for (name, tensor) in optimizer.stateDictionary().sorted(by: { $0.key < $1.key }) {
            entries.append(TrainingCheckpoint.entry("optimizer/" + name, tensor))
        }
        let progressJSON = String(decoding: try JSONEncoder.sorted.encode(progress), as: UTF8.self)
        let metadata = ["kind": ReinforcementTasks.checkpointKind, "task": recipe.task, "recipe": recipeYAML, "progress": progressJSON]
        let checkpoint = Checkpoint(metadata: metadata.merging(extra) { $1 }, entries: entries)
        lastCheckpoint = try checkpoints.save(checkpoint, step: progress.iteration)
    }

    private func restore(_ checkpoint: Checkpoint, path: String) throws {
        guard checkpoint.metadata["kind"] == ReinforcementTasks.checkpointKind, let text = checkpoint.metadata["progress"] else {
            throw TrainingError("\(path): not a Tessera reinforcement checkpoint (kind \(checkpoint.metadata["kind"] ?? "missing"))")
        }
        guard checkpoint.metadata["task"] == recipe.task else {
            throw TrainingError("\(path): written by task '\(checkpoint.metadata["task"] ?? "unknown")', but this recipe's task is '\(recipe.task)'")
        }
        let restored = try JSONDecoder().decode(ReinforcementProgress.self, from: Data(text.utf8))
        var modelState: [String: Tensor] = [:], slots: [String: Tensor] = [:]
        for entry in checkpoint.entries {
            let tensor = try TrainingCheckpoint.tensor(entry, path: path)
            if entry.name.hasPrefix("model/") { modelState[String(entry.name.dropFirst(6))] = tensor }
            if entry.name.hasPrefix("optimizer/") { slots[String(entry.name.dropFirst(10))] = tensor }
        }
        do {
            try model.loadStateDictionary(modelState)
            try optimizer.loadStateDictionary(slots)
        } catch {
            throw TrainingError("\(path): does not fit this recipe's network for \(recipe.environment): \(error)")
        }
        progress = restored
        pending = restored.pending ?? [:]
        resumedFrom = (checkpoint.metadata, path)
    }
}

extension ActorLearnerRun {
    /// This rank's part of an `impala` or `ddppo` run under MPI, for `DistributedRun.rankRun`.
    static func rankRun(recipe: Recipe, yaml: String, recipeFile: String, weights: String?) throws -> DistributedRun.RankRun {
        let decoded = try recipe.decode(ReinforcementRecipe.self)
        if weights != nil {
            throw TrainingError("--weights loads classification models; reinforcement recipes start from their seed or --resume")
        }
        return DistributedRun.RankRun(name: decoded.name, distributed: DistributedSection(), train: { collective, directory, resume, showProgress in
            try train(recipe: decoded, recipeYAML: yaml, recipeFile: recipeFile, communicator: collective.communicator,
                      runDirectory: directory, resume: resume, showProgress: showProgress)
        }, headline: { result in
            "eval_return_mean " + (result.finalMetrics["eval_return_mean"].map { String(format: "%.1f", $0) } ?? "n/a")
        })
    }
}
