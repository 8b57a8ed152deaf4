import Foundation
import TesseraCheckpoint
import TesseraData
import TesseraNN
import TesseraTensor

/// What ``StepTrainer`` reads from a recipe of any step-trained family (transformers, graphs):
/// the shared sections. Each family's recipe adds its own `data` and `model` sections.
public protocol StepRecipe {
    /// The family's task name (`sequence-to-sequence`, `graph`, …), stored in checkpoints.
    var task: String { get }
    /// Names the run directory (`runs/<name>`) and the checkpoints.
    var name: String { get }
    /// Fixes every random stream: initial weights, batches, masking, dropout.
    var seed: UInt64 { get }
    var optimizer: OptimizerSection { get }
    var schedule: ScheduleSection { get }
    var training: StepTrainingSection { get }
}

/// Trains a step-counted recipe: batch of the step → loss → backward → (average gradients across
/// processes) → clip → optimizer step, with held-out evaluation, logging and checkpoints at the
/// recipe's intervals. What the batch, the model and the evaluation are is the task's
/// `StepWorkload`; this loop is the same for every family that counts training in steps.
/// Writes the same run directory as ``ClassificationTrainer`` (`metrics.jsonl`, `summary.json`,
/// `curves.png`, `checkpoints/`), and its checkpoints are ``TrainingCheckpoint``s with the
/// workload's metadata added. Deterministic: each step's global batch is a function of the seed
/// and the step, so a resumed run ends bit-for-bit where the uninterrupted run would.
///
/// With a ``TrainingCollective`` of W processes, rank r trains on its `BatchShard` of every
/// global batch, and the averaged gradient is the global batch's (to float rounding). Rank 0
/// decides where to resume and hands its state to the others, and alone evaluates, logs and
/// writes checkpoints; the others wait for it in the next step's first collective.
public final class StepTrainer {
    public let recipe: any StepRecipe
    public let recipeYAML: String
    public let run: RunDirectory
    public let collective: (any TrainingCollective)?
    let workload: any StepWorkload
    public var model: any Module { workload.model }
    public let optimizer: any Optimizer
    public let schedule: any LearningRateSchedule
    private let shard: BatchShard
    /// The shards of every global batch this process differentiates, in order: its own
    /// (`shard`), or with `training.batchShards` S > 1 all S in one process and one per process
    /// with S processes.
    private let localShards: [BatchShard]
    private var progressReporter: ProgressReporter
    private let checkpoints: CheckpointDirectory
    /// The trained parameters by name, listed once (the optimizer's, the gradient averaging's,
    /// the clipping's and the finiteness check's).
    private let parameters: [(name: String, parameter: Tensor)]
    /// Each step's time and allreduce wait on this rank, for `ranks.jsonl`.
    private var timer = StepTimer()

    private var isLeader: Bool { shard.rank == 0 }

    /// A trainer for `recipe` whose task `makeWorkload` builds from the recipe's initialization
    /// stream (each family's convenience initialiser passes its own).
    init(recipe: any StepRecipe, recipeYAML: String, runDirectory: RunDirectory, collective: (any TrainingCollective)?,
         showProgress: Bool, makeWorkload: (inout RandomGenerator) throws -> any StepWorkload) throws {
        self.recipe = recipe
        self.recipeYAML = recipeYAML
        self.collective = collective
        run = runDirectory
        shard = BatchShard(rank: collective?.rank ?? 0, worldSize: collective?.worldSize ?? 1)
        var initialization = RandomGenerator(seed: recipe.seed).derived(stream: RandomStreams.initialization)
        workload = try makeWorkload(&initialization)
        workload.model.seedGenerators(from: RandomGenerator(seed: recipe.seed).derived(stream: RandomStreams.dropout))
        parameters = workload.trainableParameters
        optimizer = makeOptimizer(recipe.optimizer, parameters: parameters)
        schedule = makeSchedule(recipe.schedule, learningRate: recipe.optimizer.learningRate, totalSteps: recipe.training.steps)
        localShards = try batchShards(recipe, workload: workload, process: shard)
        progressReporter = ProgressReporter(enabled: showProgress && shard.rank == 0)
        checkpoints = CheckpointDirectory(path: runDirectory.checkpointsURL.path, keepLast: recipe.training.keepCheckpoints)
    }

    /// Held-out metrics of the model as it stands.
    public func evaluate() -> [String: Double] { workload.evaluate() }

    public func train(resume: ResumeRequest = .none) throws -> TrainingResult {
        var progress = try startingProgress(resume)
        if let collective {
            // Every rank starts from rank 0's parameters, buffers and optimizer slots.
            try collective.broadcastReplicaState(model: model, optimizer: optimizer)
            try collective.prepareGradientAveraging(parameters)
        }
        if isLeader { try run.rewriteMetrics(progress.metrics) }
        let totalSteps = recipe.training.steps
        let segmentStart = Date(), wallBefore = progress.wallSeconds
        var lastCheckpointPath: String? = nil
        var lossSinceLog = 0.0, examplesSinceLog = 0, stepsSinceLog = 0, timeOfLastLog = Date()
        model.train()
        while progress.step < totalSteps {
            if let signalName = try pendingInterruption() {
                progress.wallSeconds = wallBefore + Date().timeIntervalSince(segmentStart)
                lastCheckpointPath = try saveCheckpoint(&progress, isBest: false)
                progressReporter.log("\(signalName): saved \(lastCheckpointPath ?? "no checkpoint") at step \(progress.step); exiting")
                return TrainingResult(steps: progress.step, wallSeconds: progress.wallSeconds,
                                      finalMetrics: progress.metrics.last?.values ?? [:], interruptedBy: signalName,
                                      checkpointPath: lastCheckpointPath)
            }
            timer.startStep()
            let (loss, examples) = try trainingStep(progress.step)
            timer.endStep()
            progress.step += 1
            lossSinceLog += loss
            examplesSinceLog += examples
            stepsSinceLog += 1

            let step = progress.step, isLast = step == totalSteps
            var record: [String: Double] = [:]
            var timings: RankTimings?
            if step % recipe.training.logEvery == 0 || isLast {
                timings = try timer.collect(collective)
                // The shards' parts add up to the global batch's mean loss.
                let local = [lossSinceLog, Double(examplesSinceLog)]
                let sums = try collective?.sum(local) ?? local
                record["loss"] = sums[0] / Double(stepsSinceLog)
                record["learning_rate"] = Double(optimizer.learningRate)
                record["samples_per_second"] = sums[1] / max(Date().timeIntervalSince(timeOfLastLog), 1e-9)
                (lossSinceLog, examplesSinceLog, stepsSinceLog, timeOfLastLog) = (0, 0, 0, Date())
            }
            guard isLeader else { continue }
            if let timings { try run.appendRankTimings(timings, step: step) }
            var isBest = false
            if isLast || (recipe.training.evaluateEvery > 0 && step % recipe.training.evaluateEvery == 0) {
                let metrics = workload.evaluate()
                record.merge(metrics) { $1 }
                // The best score is kept as "higher is better": an error is stored negated.
                if let primary = metrics[workload.primaryMetric].map({ workload.primaryMetricIsHigherBetter ? $0 : -$0 }),
                   primary > progress.bestTestAccuracy {
                    progress.bestTestAccuracy = primary
                    isBest = true
                }
            }
            if !record.isEmpty {
                let metrics = MetricsRecord(step: step, values: record)
                progress.metrics.append(metrics)
                try run.appendMetrics(metrics)
                let shown = (["loss", "test_loss", workload.primaryMetric] + workload.progressMetrics).compactMap { key in record[key].map { (key, $0) } }
                progressReporter.update(step: step, totalSteps: totalSteps, epoch: 0, values: shown,
                                        samplesPerSecond: record["samples_per_second"] ?? 0,
                                        elapsedSeconds: Date().timeIntervalSince(segmentStart))
            }
            if isLast || (recipe.training.checkpointEvery > 0 && step % recipe.training.checkpointEvery == 0) {
                progress.wallSeconds = wallBefore + Date().timeIntervalSince(segmentStart)
                lastCheckpointPath = try saveCheckpoint(&progress, isBest: isBest)
            }
        }
        progressReporter.finish()
        progress.wallSeconds = wallBefore + Date().timeIntervalSince(segmentStart)
        var finalMetrics: [String: Double] = [:]
        for record in progress.metrics { finalMetrics.merge(record.values) { $1 } }
        finalMetrics["best_\(workload.primaryMetric)"] = workload.primaryMetricIsHigherBetter ? progress.bestTestAccuracy : -progress.bestTestAccuracy
        let checkpointPath = lastCheckpointPath ?? checkpoints.path(step: progress.step)
        if isLeader {
            try run.writeSummary(steps: progress.step, wallSeconds: progress.wallSeconds, metrics: finalMetrics,
                                 extra: ["recipe": recipe.name, "task": recipe.task, "checkpoint": checkpointPath])
            try run.writeCurves(progress.metrics)
            try workload.writeArtifacts(to: run)
        }
        return TrainingResult(steps: progress.step, wallSeconds: progress.wallSeconds, finalMetrics: finalMetrics,
                              interruptedBy: nil, checkpointPath: isLeader ? checkpointPath : nil)
    }

    /// One optimisation step on this rank's shards of step `step`'s global batch. Returns the
    /// shards' part of the global mean loss and their number of examples.
    private func trainingStep(_ step: Int) throws -> (loss: Double, examples: Int) {
        optimizer.learningRate = schedule.learningRate(atStep: step)
        var loss = 0.0, examples = 0
        var summedGradients: [Tensor?] = []
        for shard in localShards {
            optimizer.zeroGradients()
            let part = try differentiate(step: step, shard: shard)
            loss += part.loss
            examples += part.examples
            // Shard by shard, as S processes would compute them, then added in shard order (the
            // allreduce of two processes adds the same two numbers).
            guard localShards.count > 1 else { continue }
            let gradients = parameters.map(\.parameter.grad)
            summedGradients = summedGradients.isEmpty ? gradients : zip(summedGradients, gradients).map { sum, gradient in
                guard let sum, let gradient else { return sum ?? gradient }
                return withoutGradients { sum + gradient }
            }
        }
        if localShards.count > 1 {
            for ((_, parameter), gradient) in zip(parameters, summedGradients) { parameter.grad = gradient }
        }
        try timer.allreduce { try collective?.averageGradients() }
        try workload.collectiveFailure?.check()
        if shard.worldSize > 1 { scaleGradients(by: Float(shard.worldSize)) }
        try stopIfGradientsAreNotFinite(step: step)
        if recipe.training.gradientClipNorm > 0 {
            _ = clipGradientNorm(parameters.map(\.parameter), maximumNorm: recipe.training.gradientClipNorm)
        }
        optimizer.step()
        try workload.afterUpdate(step: step, totalSteps: recipe.training.steps)
        return (loss, examples)
    }

    /// The loss of `shard` of step `step`'s batch, differentiated into the parameters' gradients.
    private func differentiate(step: Int, shard: BatchShard) throws -> (loss: Double, examples: Int) {
        if shard.rank > 0 {
            // Dropout masks must differ between shards (they cover different rows). Shard 0 keeps
            // the checkpointed streams; shard r draws step s's masks from a stream of (seed, r, s),
            // so a resumed run with the same shards continues exactly.
            model.seedGenerators(from: RandomGenerator(seed: recipe.seed).derived(stream: RandomStreams.dropout)
                .derived(stream: UInt64(shard.rank) << 40 | UInt64(step)))
        }
        let (loss, examples) = workload.trainingLoss(step: step, shard: shard)
        try stopIfLossIsNotFinite(loss.item, step: step)
        // Each rank differentiates its own part, so its backward pass sees the gradients one
        // process would see for these rows (the ODE adjoint's error control depends on their
        // size). averageGradients takes the mean over the W ranks; the gradient of the parts' sum,
        // the global mean loss, is W times it (exactly, for W a power of two).
        loss.backward()
        return (Double(loss.item), examples)
    }

    /// Multiplies every gradient by `factor` in place.
    private func scaleGradients(by factor: Float) {
        for (_, parameter) in parameters {
            guard let gradient = parameter.grad else { continue }
            let pointer = gradient.storage.pointer
            for index in 0..<gradient.count { pointer[index] *= factor }
        }
    }

    /// Stops the run before step `step`'s backward pass when the loss is not finite on any rank (a
    /// diverged model, a failed ODE solve), naming the step and the task's reason; the ranks agree
    /// through one sum, so they all stop together. Parameters and checkpoints stay as they were.
    private func stopIfLossIsNotFinite(_ loss: Float, step: Int) throws {
        let local: Double = loss.isFinite ? 0 : 1
        guard try (collective?.sum([local]) ?? [local])[0] > 0 else { return }
        let what = loss.isFinite ? "another process's training loss is not finite" : "the training loss is \(loss)"
        let reason = workload.lastFailure.map { "; \($0)" } ?? ""
        throw TrainingError("\(recipe.name): step \(step + 1): \(what)\(reason); the parameters and checkpoints are left as they were before this step")
    }

    /// Stops the run before the update when an averaged gradient is not finite (every rank holds
    /// the same averaged gradients, so all ranks stop here together).
    private func stopIfGradientsAreNotFinite(step: Int) throws {
        guard let bad = parameters.first(where: { !($0.parameter.grad?.allFinite ?? true) }) else { return }
        throw TrainingError("\(recipe.name): step \(step + 1): the gradient of \(bad.name) is not finite; the parameters and checkpoints are left as they were before this step")
    }

    /// A pending SIGINT/SIGTERM; with several processes, a signal to any of them.
    private func pendingInterruption() throws -> String? {
        if let collective { return try collective.agreedInterruption() }
        return InterruptSignal.pending != nil ? InterruptSignal.pendingName : nil
    }

    // MARK: - Checkpoints

    /// Where the run starts: rank 0 reads the checkpoint (if any) and sends its progress to the
    /// others; its model and optimizer state follow in ``train(resume:)``.
    private func startingProgress(_ resume: ResumeRequest) throws -> TrainingProgress {
        guard isLeader else { return try collective!.broadcastProgress(nil) }
        var progress = TrainingProgress(step: 0, loader: DataLoaderPosition(seed: recipe.seed), generators: model.namedGenerators(),
                                        metrics: [],
                                        bestTestAccuracy: workload.primaryMetricIsHigherBetter ? -1 : -Double.greatestFiniteMagnitude,
                                        wallSeconds: 0)
        switch resume {
        case .none:
            break
        case .automatic:
            if let latest = try checkpoints.newestForResume(&progressReporter) {
                progress = try restore(latest.checkpoint, path: latest.path)
            }
        case .path(let path):
            progress = try restore(try Checkpoint.read(from: path), path: path)
        }
        guard progress.step <= recipe.training.steps else {
            throw TrainingError("the checkpoint is at step \(progress.step) but this recipe trains only \(recipe.training.steps) steps")
        }
        return try collective?.broadcastProgress(progress) ?? progress
    }

    private func restore(_ checkpoint: Checkpoint, path: String) throws -> TrainingProgress {
        if let task = checkpoint.metadata["task"], task != recipe.task {
            throw TrainingError("\(path): the checkpoint was trained for task \(task), this recipe's task is \(recipe.task)")
        }
        let progress = try TrainingCheckpoint.restore(checkpoint, path: path, model: model, optimizer: optimizer)
        progressReporter.log("resuming from \(path) at step \(progress.step)")
        return progress
    }

    /// Rank 0's state at `progress`; the other ranks hold the same parameters and write nothing.
    private func saveCheckpoint(_ progress: inout TrainingProgress, isBest: Bool) throws -> String? {
        guard isLeader else { return nil }
        progress.generators = model.namedGenerators()
        progress.loader = DataLoaderPosition(epoch: 0, batchIndexInEpoch: progress.step, seed: recipe.seed)
        var checkpoint = try TrainingCheckpoint.make(model: model, optimizer: optimizer, progress: progress, recipeYAML: recipeYAML)
        checkpoint.metadata["task"] = recipe.task
        checkpoint.metadata.merge(workload.metadata) { $1 }
        return try checkpoints.save(checkpoint, step: progress.step, isBest: isBest)
    }
}

/// The shards `process` differentiates of every global batch under `recipe.training.batchShards`:
/// its own share of the batch when that is 1, and one each when there are as many processes as
/// shards. One process takes all of them in turn when they are independent of each other; a task
/// whose shards meet inside the step (batch statistics, gathered rows) trains them as ranks on
/// threads instead (``InProcessRanks``) or, without that, is refused. Other process counts are
/// refused, naming the key.
func batchShards(_ recipe: any StepRecipe, workload: any StepWorkload, process: BatchShard) throws -> [BatchShard] {
    let count = recipe.training.batchShards
    guard count > 1, process.worldSize != count else { return [process] }
    guard process.worldSize == 1 else {
        throw TrainingError("\(recipe.name): training.batchShards is \(count), so it trains with 1 or \(count) processes, not \(process.worldSize); use --np 1, --np \(count), or --set training.batchShards=1")
    }
    guard workload.shardsAreIndependent else {
        throw TrainingError("\(recipe.name): training.batchShards is \(count), but a \(recipe.task) task's shards are not independent of each other (batch statistics or rows shared between processes), so one process cannot take them in turn; use --np \(count) or set it to 1")
    }
    return (0..<count).map { BatchShard(rank: $0, worldSize: count) }
}
