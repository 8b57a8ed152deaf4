import Foundation
import TesseraCheckpoint
import TesseraConfig
import TesseraNN
import TesseraReinforcement
import TesseraTensor

/// Trains reinforcement-learning recipes (`task: ppo | trpo | dqn | a2c | reinforce | qac | offpac | tabular`) into a run
/// directory: `metrics.jsonl` per logged iteration, `summary.json` with `eval_return_mean`
/// (greedy policy, 100 fixed-seed episodes by default), `environment_steps` and wall time,
/// `curves.png`, and checkpoints (`model/…`, `optimizer/…`, kind `tessera.reinforcement`).
///
/// A checkpoint holds everything needed to continue: networks, optimizer slots, counters, the
/// metrics averaged since the last log line, and the learner's `LearnerState` — its sampling
/// stream, every environment copy mid-episode (physics state, step counter, random stream), and
/// for DQN the replay buffer and target network, for Off-PAC the lagged behaviour actor (entries
/// `learner/…`, compressed like every tensor). So a run interrupted and resumed ends bit for bit
/// where the uninterrupted run ends (`ReinforcementResumeTests`).
public enum ReinforcementTasks {
    public static let taskNames = ["ppo", "trpo", "dqn", "a2c", "reinforce", "qac", "offpac", "tabular"] + ActorLearnerRun.taskNames
    public static let checkpointKind = "tessera.reinforcement"

    public static func train(recipe: Recipe, recipeFile: String, runDirectory: RunDirectory, resume: ResumeRequest,
                             showProgress: Bool) throws -> TrainingResult {
        let config = try recipe.decode(ReinforcementRecipe.self)
        let yaml = try recipe.canonicalYAML()
        if config.task == "tabular" {
            return try ReinforcementTabularRun.train(config, runDirectory: runDirectory)
        }
        if ActorLearnerRun.taskNames.contains(config.task) {
            return try ActorLearnerRun.trainInOneProcess(recipe: config, recipeYAML: yaml, recipeFile: recipeFile,
                                                         runDirectory: runDirectory, resume: resume, showProgress: showProgress)
        }
        let learner = try makeLearner(config, recipeFile: recipeFile)
        return try ReinforcementRun(recipe: config, recipeYAML: yaml, learner: learner, run: runDirectory,
                                    showProgress: showProgress).train(resume: resume)
    }

    /// The learner a recipe names, after checking its network fits the environment.
    static func makeLearner(_ recipe: ReinforcementRecipe, recipeFile: String) throws -> Learner {
        let name = recipe.environment
        let make: () -> Environment = { Environments.make(name)! }
        let probe = make()
        let algorithm = recipe.algorithm
        if let policy = algorithm.policy {
            let needed: AlgorithmSection.PolicyKind = probe.actionSpace.count == nil ? .gaussian : .categorical
            guard policy == needed else {
                throw TrainingError("\(recipeFile): algorithm.policy is \(policy.rawValue), but \(name) has action space \(probe.actionSpace), which needs a \(needed.rawValue) policy")
            }
        }
        switch recipe.task {
        case "ppo":
            var c = name == "Pendulum-v1" ? PPOConfig.pendulum : PPOConfig()
            c.seed = recipe.seed
            c.totalSteps = algorithm.totalSteps ?? c.totalSteps
            c.environmentCount = algorithm.environmentCount ?? c.environmentCount
            c.rolloutSteps = algorithm.rolloutSteps ?? c.rolloutSteps
            c.learningRate = algorithm.learningRate ?? c.learningRate
            c.annealLearningRate = algorithm.annealLearningRate ?? c.annealLearningRate
            c.discount = algorithm.discount ?? c.discount
            c.lambda = algorithm.lambda ?? c.lambda
            c.minibatches = algorithm.minibatches ?? c.minibatches
            c.epochs = algorithm.epochs ?? c.epochs
            c.clip = algorithm.clip ?? c.clip
            c.clipValueLoss = algorithm.clipValueLoss ?? c.clipValueLoss
            c.entropyCoefficient = algorithm.entropyCoefficient ?? c.entropyCoefficient
            c.valueCoefficient = algorithm.valueCoefficient ?? c.valueCoefficient
            c.maximumGradientNorm = algorithm.maximumGradientNorm ?? c.maximumGradientNorm
            c.normalizeAdvantages = algorithm.normalizeAdvantages ?? c.normalizeAdvantages
            c.hiddenSizes = algorithm.hiddenSizes ?? c.hiddenSizes
            guard c.batchSize % c.minibatches == 0 else {
                throw TrainingError("\(recipeFile): the batch of \(c.batchSize) steps (environmentCount × rolloutSteps) does not split into \(c.minibatches) minibatches")
            }
            return PPO(config: c, makeEnvironment: make)
        case "trpo":
            var c = TRPOConfig()
            c.seed = recipe.seed
            c.totalSteps = algorithm.totalSteps ?? c.totalSteps
            c.environmentCount = algorithm.environmentCount ?? c.environmentCount
            c.rolloutSteps = algorithm.rolloutSteps ?? c.rolloutSteps
            c.maximumKL = algorithm.maximumKL ?? c.maximumKL
            c.learningRate = algorithm.learningRate ?? c.learningRate
            c.discount = algorithm.discount ?? c.discount
            c.lambda = algorithm.lambda ?? c.lambda
            c.minibatches = algorithm.minibatches ?? c.minibatches
            c.epochs = algorithm.epochs ?? c.epochs
            c.normalizeAdvantages = algorithm.normalizeAdvantages ?? c.normalizeAdvantages
            c.hiddenSizes = algorithm.hiddenSizes ?? c.hiddenSizes
            guard c.batchSize % c.minibatches == 0 else {
                throw TrainingError("\(recipeFile): the batch of \(c.batchSize) steps (environmentCount × rolloutSteps) does not split into \(c.minibatches) minibatches")
            }
            return TRPO(config: c, makeEnvironment: make)
        case "a2c":
            var c = A2CConfig()
            c.seed = recipe.seed
            c.totalSteps = algorithm.totalSteps ?? c.totalSteps
            c.environmentCount = algorithm.environmentCount ?? c.environmentCount
            c.rolloutSteps = algorithm.rolloutSteps ?? c.rolloutSteps
            c.learningRate = algorithm.learningRate ?? c.learningRate
            c.discount = algorithm.discount ?? c.discount
            c.lambda = algorithm.lambda ?? c.lambda
            c.entropyCoefficient = algorithm.entropyCoefficient ?? c.entropyCoefficient
            c.valueCoefficient = algorithm.valueCoefficient ?? c.valueCoefficient
            c.maximumGradientNorm = algorithm.maximumGradientNorm ?? c.maximumGradientNorm
            c.normalizeAdvantages = algorithm.normalizeAdvantages ?? c.normalizeAdvantages
            c.hiddenSizes = algorithm.hiddenSizes ?? c.hiddenSizes
            return A2C(config: c, makeEnvironment: make)
        case "dqn":
            guard probe.actionSpace.count != nil else {
                throw TrainingError("\(recipeFile): task dqn needs a discrete action space, but \(name) has \(probe.actionSpace)")
            }
            var c = DQNConfig()
            c.seed = recipe.seed
            c.totalSteps = algorithm.totalSteps ?? c.totalSteps
            c.learningRate = algorithm.learningRate ?? c.learningRate
            c.discount = algorithm.discount ?? c.discount
            c.bufferSize = algorithm.bufferSize ?? c.bufferSize
            c.batchSize = algorithm.batchSize ?? c.batchSize
            c.learningStarts = algorithm.learningStarts ?? c.learningStarts
            c.trainFrequency = algorithm.trainFrequency ?? c.trainFrequency
            c.gradientSteps = algorithm.gradientSteps ?? c.gradientSteps
            c.targetUpdateInterval = algorithm.targetUpdateInterval ?? c.targetUpdateInterval
            c.epsilonStart = algorithm.epsilonStart ?? c.epsilonStart
            c.epsilonEnd = algorithm.epsilonEnd ?? c.epsilonEnd
            c.explorationFraction = algorithm.explorationFraction ?? c.explorationFraction
            c.huber = algorithm.huber ?? c.huber
            c.double = algorithm.double ?? c.double
            c.maximumGradientNorm = algorithm.maximumGradientNorm ?? c.maximumGradientNorm
            c.hiddenSizes = algorithm.hiddenSizes ?? c.hiddenSizes
            return DQN(config: c, makeEnvironment: make)
        case "qac":
            guard probe.actionSpace.count != nil else {
                throw TrainingError("\(recipeFile): task: qac needs an environment with a discrete action space (its critic has one output per action), but environment: \(name) has \(probe.actionSpace)")
            }
            var c = QActorCriticConfig()
            c.seed = recipe.seed
            c.totalSteps = algorithm.totalSteps ?? c.totalSteps
            c.environmentCount = algorithm.environmentCount ?? c.environmentCount
            c.rolloutSteps = algorithm.rolloutSteps ?? c.rolloutSteps
            c.learningRate = algorithm.learningRate ?? c.learningRate
            c.discount = algorithm.discount ?? c.discount
            c.subtractBaseline = algorithm.subtractBaseline ?? c.subtractBaseline
            c.actorLearningRate = algorithm.actorLearningRate ?? c.actorLearningRate
            c.entropyCoefficient = algorithm.entropyCoefficient ?? c.entropyCoefficient
            c.maximumGradientNorm = algorithm.maximumGradientNorm ?? c.maximumGradientNorm
            c.hiddenSizes = algorithm.hiddenSizes ?? c.hiddenSizes
            return QActorCritic(config: c, makeEnvironment: make)
        case "offpac":
            guard probe.actionSpace.count != nil else {
                throw TrainingError("\(recipeFile): task: offpac needs an environment with a discrete action space (its behaviour policy mixes in the uniform one), but environment: \(name) has \(probe.actionSpace)")
            }
            var c = OffPolicyActorCriticConfig()
            c.seed = recipe.seed
            c.totalSteps = algorithm.totalSteps ?? c.totalSteps
            c.environmentCount = algorithm.environmentCount ?? c.environmentCount
            c.rolloutSteps = algorithm.rolloutSteps ?? c.rolloutSteps
            c.learningRate = algorithm.learningRate ?? c.learningRate
            c.discount = algorithm.discount ?? c.discount
            c.ratioTruncation = algorithm.ratioTruncation ?? c.ratioTruncation
            c.behaviourEpsilon = algorithm.behaviourEpsilon ?? c.behaviourEpsilon
            c.behaviourUpdateInterval = algorithm.behaviourUpdateInterval ?? c.behaviourUpdateInterval
            c.entropyCoefficient = algorithm.entropyCoefficient ?? c.entropyCoefficient
            c.valueCoefficient = algorithm.valueCoefficient ?? c.valueCoefficient
            c.maximumGradientNorm = algorithm.maximumGradientNorm ?? c.maximumGradientNorm
            c.hiddenSizes = algorithm.hiddenSizes ?? c.hiddenSizes
            return OffPolicyActorCritic(config: c, makeEnvironment: make)
        default:
            var c = REINFORCEConfig()
            c.seed = recipe.seed
            c.learningRate = algorithm.learningRate ?? c.learningRate
            c.discount = algorithm.discount ?? c.discount
            c.episodesPerUpdate = algorithm.episodesPerUpdate ?? c.episodesPerUpdate
            c.updates = algorithm.updates ?? c.updates
            c.hiddenSizes = algorithm.hiddenSizes ?? c.hiddenSizes
            return REINFORCE(config: c, makeEnvironment: make)
        }
    }
}

/// Counters and history that a reinforcement checkpoint carries besides tensors.
struct ReinforcementProgress: Codable {
    var iteration: Int
    var environmentSteps: Int
    var metrics: [MetricsRecord]
    var wallSeconds: Double
    /// Metric values of the iterations since the last log line (averaged into the next one).
    var pending: [String: [Double]]?
    /// When the recipe's `evaluation.target` was reached (nil in checkpoints from before it existed).
    var target: ReturnTarget?

    /// ``ReturnTarget/check(_:environmentSteps:elapsedSeconds:act:)`` on this run's target record.
    mutating func checkTarget(_ recipe: ReinforcementRecipe, environmentSteps: Int, elapsedSeconds: Double,
                              act: ([Float]) -> Action) -> Double? {
        var record = target ?? ReturnTarget()
        defer { target = record }
        return record.check(recipe, environmentSteps: environmentSteps, elapsedSeconds: elapsedSeconds, act: act)
    }

    /// The target fields of `summary.json` (``ReturnTarget/summary(_:)``).
    func targetSummary(_ recipe: ReinforcementRecipe) -> [String: Double] { (target ?? ReturnTarget()).summary(recipe) }
}

/// The training loop of a deep RL learner: iterate → log → checkpoint, then evaluate.
struct ReinforcementRun {
    let recipe: ReinforcementRecipe
    let recipeYAML: String
    let learner: Learner
    let run: RunDirectory
    let showProgress: Bool

    func train(resume: ResumeRequest) throws -> TrainingResult {
        let checkpoints = CheckpointDirectory(path: run.checkpointsURL.path, keepLast: recipe.training.keepCheckpoints)
        var reporter = ProgressReporter(enabled: showProgress)
        var progress = ReinforcementProgress(iteration: 0, environmentSteps: 0, metrics: [], wallSeconds: 0)
        switch resume {
        case .none: break
        case .automatic:
            if let latest = try checkpoints.newestForResume(&reporter) { progress = try restore(latest.checkpoint, path: latest.path) }
        case .path(let path): progress = try restore(try Checkpoint.read(from: path), path: path)
        }
        try run.rewriteMetrics(progress.metrics)
        let start = Date(), wallBefore = progress.wallSeconds
        var lastCheckpoint: String? = nil
        var pending = progress.pending ?? [:]
        var stepsAtLastLog = learner.environmentSteps, timeOfLastLog = Date()
        while learner.iteration < learner.totalIterations {
            if InterruptSignal.pending != nil {
                let signal = InterruptSignal.pendingName
                progress.wallSeconds = wallBefore + Date().timeIntervalSince(start)
                progress.pending = pending
                lastCheckpoint = try save(&progress, checkpoints)
                reporter.log("\(signal): saved \(lastCheckpoint ?? "") at iteration \(learner.iteration); exiting")
                return TrainingResult(steps: learner.environmentSteps, wallSeconds: progress.wallSeconds,
                                      finalMetrics: progress.metrics.last?.values ?? [:], interruptedBy: signal, checkpointPath: lastCheckpoint)
            }
            for (key, value) in learner.iterate() { pending[key, default: []].append(value) }
            let iteration = learner.iteration, isLast = iteration == learner.totalIterations
            if iteration % recipe.training.logEvery == 0 || isLast {
                var values = pending.mapValues { $0.reduce(0, +) / Double($0.count) }
                values["environment_steps"] = Double(learner.environmentSteps)
                values["steps_per_second"] = Double(learner.environmentSteps - stepsAtLastLog) / max(Date().timeIntervalSince(timeOfLastLog), 1e-9)
                values["eval_return_mean"] = progress.checkTarget(recipe, environmentSteps: learner.environmentSteps,
                                                                  elapsedSeconds: wallBefore + Date().timeIntervalSince(start),
                                                                  act: learner.act)
                (pending, stepsAtLastLog, timeOfLastLog) = ([:], learner.environmentSteps, Date())
                let record = MetricsRecord(step: learner.environmentSteps, values: values)
                progress.metrics.append(record)
                try run.appendMetrics(record)
                reporter.update(step: iteration, totalSteps: learner.totalIterations, epoch: 0,
                                values: ["episode_return"].compactMap { key in values[key].map { (key, $0) } },
                                samplesPerSecond: values["steps_per_second"] ?? 0, elapsedSeconds: Date().timeIntervalSince(start))
            }
            if isLast || (recipe.training.checkpointEvery > 0 && iteration % recipe.training.checkpointEvery == 0) {
                progress.wallSeconds = wallBefore + Date().timeIntervalSince(start)
                progress.pending = pending
                lastCheckpoint = try save(&progress, checkpoints)
            }
        }
        reporter.finish()
        progress.wallSeconds = wallBefore + Date().timeIntervalSince(start)
        let returns = evaluate({ Environments.make(recipe.environment)! }, episodes: recipe.evaluation.episodes,
                               seed: recipe.evaluation.seed, act: learner.act)
        var final: [String: Double] = [:]
        for record in progress.metrics { final.merge(record.values) { $1 } }
        final["eval_return_mean"] = returns.reduce(0, +) / Double(returns.count)
        final["eval_return_min"] = returns.min()
        final["environment_steps"] = Double(learner.environmentSteps)
        final.merge(progress.targetSummary(recipe)) { $1 }
        try run.writeSummary(steps: learner.environmentSteps, wallSeconds: progress.wallSeconds, metrics: final,
                             extra: ["recipe": recipe.name, "task": recipe.task, "environment": recipe.environment,
                                     "checkpoint": lastCheckpoint ?? "none"])
        try run.writeCurves(progress.metrics.map { record in
            MetricsRecord(step: record.step, values: record.values.filter { $0.key != "environment_steps" && $0.key != "steps_per_second" })
        })
        return TrainingResult(steps: learner.environmentSteps, wallSeconds: progress.wallSeconds, finalMetrics: final,
                              interruptedBy: nil, checkpointPath: lastCheckpoint)
    }

    private func save(_ progress: inout ReinforcementProgress, _ checkpoints: CheckpointDirectory) throws -> String {
        progress.iteration = learner.iteration
        progress.environmentSteps = learner.environmentSteps
        var entries: [CheckpointEntry] = []
        for (name, tensor) in learner.model.stateDictionary().sorted(by: { $0.key < $1.key }) {
            entries.append(TrainingCheckpoint.entry("model/" + name, tensor))
        }
        for (optimizerName, optimizer) in learner.optimizers.sorted(by: { $0.key < $1.key }) {
            for (name, tensor) in optimizer.stateDictionary().sorted(by: { $0.key < $1.key }) {
                entries.append(TrainingCheckpoint.entry("\(optimizerName)/" + name, tensor))
            }
        }
        var metadata = ["kind": ReinforcementTasks.checkpointKind, "recipe": recipeYAML,
                        "progress": String(decoding: try JSONEncoder.sorted.encode(progress), as: UTF8.self)]
        if let resumable = learner as? ResumableLearner {
            let state = try resumable.saveState()
            for (name, tensor) in state.tensors.sorted(by: { $0.key < $1.key }) {
                entries.append(TrainingCheckpoint.entry("learner/" + name, tensor))
            }
            metadata["learner"] = String(decoding: try JSONEncoder.sorted.encode(state.record), as: UTF8.self)
        }
        let checkpoint = Checkpoint(metadata: metadata, entries: entries)
        return try checkpoints.save(checkpoint, step: learner.iteration)
    }

    private func restore(_ checkpoint: Checkpoint, path: String) throws -> ReinforcementProgress {
        guard checkpoint.metadata["kind"] == ReinforcementTasks.checkpointKind, let text = checkpoint.metadata["progress"] else {
            throw TrainingError("\(path): not a Tessera reinforcement checkpoint (kind \(checkpoint.metadata["kind"] ?? "missing"))")
        }
        let progress = try JSONDecoder().decode(ReinforcementProgress.self, from: Data(text.utf8))
        var model: [String: Tensor] = [:], slots: [String: [String: Tensor]] = [:], learnerTensors: [String: Tensor] = [:]
        for entry in checkpoint.entries {
            let tensor = try TrainingCheckpoint.tensor(entry, path: path)
            if entry.name.hasPrefix("model/") { model[String(entry.name.dropFirst(6))] = tensor; continue }
            if entry.name.hasPrefix("learner/") { learnerTensors[String(entry.name.dropFirst(8))] = tensor; continue }
            guard let slash = entry.name.firstIndex(of: "/") else { continue }
            slots[String(entry.name[..<slash]), default: [:]][String(entry.name[entry.name.index(after: slash)...])] = tensor
        }
        do {
            try learner.model.loadStateDictionary(model)
            for (name, optimizer) in learner.optimizers { try optimizer.loadStateDictionary(slots[name] ?? [:]) }
        } catch {
            throw TrainingError("\(path): does not fit this recipe's network for \(recipe.environment): \(error)")
        }
        if let resumable = learner as? ResumableLearner {
            guard let text = checkpoint.metadata["learner"] else {
                throw TrainingError("\(path): holds no learner state (environments, sampling stream), so the run cannot continue exactly")
            }
            do {
                let record = try JSONDecoder().decode(LearnerRecord.self, from: Data(text.utf8))
                try resumable.restoreState(LearnerState(record: record, tensors: learnerTensors))
            } catch {
                throw TrainingError("\(path): the learner state does not fit this recipe (\(recipe.task) on \(recipe.environment)): \(error)")
            }
        } else {
            learner.restoreCounters(iteration: progress.iteration, environmentSteps: progress.environmentSteps)
        }
        return progress
    }
}

extension Learner {
    /// Continues the counters of a resumed run of a learner that cannot save its whole state (not
    /// a ``ResumableLearner``; every built-in learner is one, and restores its counters itself).
    func restoreCounters(iteration: Int, environmentSteps: Int) {
        switch self {
        case let learner as PPO: (learner.iteration, learner.environmentSteps) = (iteration, environmentSteps)
        case let learner as TRPO: (learner.iteration, learner.environmentSteps) = (iteration, environmentSteps)
        case let learner as A2C: (learner.iteration, learner.environmentSteps) = (iteration, environmentSteps)
        case let learner as DQN: (learner.iteration, learner.environmentSteps) = (iteration, environmentSteps)
        case let learner as REINFORCE: (learner.iteration, learner.environmentSteps) = (iteration, environmentSteps)
        default: break
        }
    }
}
