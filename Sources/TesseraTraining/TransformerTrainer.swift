import Foundation
import TesseraCheckpoint
import TesseraData
import TesseraNN
import TesseraTensor
import TesseraTransformers

/// Trains a transformer recipe on one process: batch of the step → loss → backward → clip →
/// optimizer step, with held-out evaluation, logging and checkpoints at the recipe's intervals.
/// Writes the same run directory as ``ClassificationTrainer`` (`metrics.jsonl`, `summary.json`,
/// `curves.png`, `checkpoints/`), and its checkpoints are ``TrainingCheckpoint``s with the
/// tokenizer added to the metadata. Deterministic: each step's batch is a function of the seed and
/// the step, so a resumed run ends bit-for-bit where the uninterrupted run would.
public final class TransformerTrainer {
    public let recipe: TransformerRecipe
    public let recipeYAML: String
    public let run: RunDirectory
    let workload: any TransformerWorkload
    public var model: any Module { workload.model }
    public let optimizer: any Optimizer
    public let schedule: any LearningRateSchedule
    private var progressReporter: ProgressReporter
    private let checkpoints: CheckpointDirectory

    public init(recipe: TransformerRecipe, recipeYAML: String, runDirectory: RunDirectory, showProgress: Bool = true) throws {
        self.recipe = recipe
        self.recipeYAML = recipeYAML
        run = runDirectory
        var initialization = RandomGenerator(seed: recipe.seed).derived(stream: RandomStreams.initialization)
        workload = try makeTransformerWorkload(recipe, generator: &initialization)
        workload.model.seedGenerators(from: RandomGenerator(seed: recipe.seed).derived(stream: RandomStreams.dropout))
        optimizer = makeOptimizer(recipe.optimizer, parameters: workload.model.namedParameters())
        schedule = makeSchedule(recipe.schedule, learningRate: recipe.optimizer.learningRate, totalSteps: recipe.training.steps)
        progressReporter = ProgressReporter(enabled: showProgress)
        checkpoints = CheckpointDirectory(path: runDirectory.checkpointsURL.path, keepLast: recipe.training.keepCheckpoints)
    }

    /// Held-out metrics of the model as it stands.
    public func evaluate() -> [String: Double] { workload.evaluate() }

    public func train(resume: ResumeRequest = .none) throws -> TrainingResult {
        var progress = try startingProgress(resume)
        try run.rewriteMetrics(progress.metrics)
        let totalSteps = recipe.training.steps
        let segmentStart = Date(), wallBefore = progress.wallSeconds
        var lastCheckpointPath: String? = nil
        var lossSinceLog = 0.0, examplesSinceLog = 0, stepsSinceLog = 0, timeOfLastLog = Date()
        model.train()
        while progress.step < totalSteps {
            if InterruptSignal.pending != nil {
                let signalName = InterruptSignal.pendingName
                progress.wallSeconds = wallBefore + Date().timeIntervalSince(segmentStart)
                lastCheckpointPath = try saveCheckpoint(&progress, isBest: false)
                progressReporter.log("\(signalName): saved \(lastCheckpointPath ?? "no checkpoint") at step \(progress.step); exiting")
                return TrainingResult(steps: progress.step, wallSeconds: progress.wallSeconds,
                                      finalMetrics: progress.metrics.last?.values ?? [:], interruptedBy: signalName,
                                      checkpointPath: lastCheckpointPath)
            }
            optimizer.learningRate = schedule.learningRate(atStep: progress.step)
            optimizer.zeroGradients()
            let (loss, examples) = workload.trainingLoss(step: progress.step)
            loss.backward()
            if recipe.training.gradientClipNorm > 0 {
                _ = clipGradientNorm(model.parameters(), maximumNorm: recipe.training.gradientClipNorm)
            }
            optimizer.step()
            progress.step += 1
            lossSinceLog += Double(loss.item)
            examplesSinceLog += examples
            stepsSinceLog += 1

            let step = progress.step, isLast = step == totalSteps
            var record: [String: Double] = [:]
            if step % recipe.training.logEvery == 0 || isLast {
                record["loss"] = lossSinceLog / Double(stepsSinceLog)
                record["learning_rate"] = Double(optimizer.learningRate)
                record["samples_per_second"] = Double(examplesSinceLog) / max(Date().timeIntervalSince(timeOfLastLog), 1e-9)
                (lossSinceLog, examplesSinceLog, stepsSinceLog, timeOfLastLog) = (0, 0, 0, Date())
            }
            var isBest = false
            if isLast || (recipe.training.evaluateEvery > 0 && step % recipe.training.evaluateEvery == 0) {
                let metrics = workload.evaluate()
                record.merge(metrics) { $1 }
                if let primary = metrics[workload.primaryMetric], primary > progress.bestTestAccuracy {
                    progress.bestTestAccuracy = primary
                    isBest = true
                }
            }
            if !record.isEmpty {
                let metrics = MetricsRecord(step: step, values: record)
                progress.metrics.append(metrics)
                try run.appendMetrics(metrics)
                let shown = ["loss", "test_loss", workload.primaryMetric].compactMap { key in record[key].map { (key, $0) } }
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
        finalMetrics["best_\(workload.primaryMetric)"] = progress.bestTestAccuracy
        let checkpointPath = lastCheckpointPath ?? checkpoints.path(step: progress.step)
        try run.writeSummary(steps: progress.step, wallSeconds: progress.wallSeconds, metrics: finalMetrics,
                             extra: ["recipe": recipe.name, "task": recipe.task, "checkpoint": checkpointPath])
        try run.writeCurves(progress.metrics)
        return TrainingResult(steps: progress.step, wallSeconds: progress.wallSeconds, finalMetrics: finalMetrics,
                              interruptedBy: nil, checkpointPath: checkpointPath)
    }

    // MARK: - Checkpoints

    private func startingProgress(_ resume: ResumeRequest) throws -> TrainingProgress {
        let fresh = TrainingProgress(step: 0, loader: DataLoaderPosition(seed: recipe.seed), generators: model.namedGenerators(),
                                     metrics: [], bestTestAccuracy: -1, wallSeconds: 0)
        var progress = fresh
        switch resume {
        case .none:
            break
        case .automatic:
            let search = try checkpoints.latestValid()
            for skipped in search.skipped { progressReporter.log("skipped \(skipped.fileName): \(skipped.reason)") }
            if let latest = search.latest {
                progress = try restore(latest.checkpoint, path: latest.path)
            } else {
                progressReporter.log("no checkpoint to resume from in \(checkpoints.path); starting fresh")
            }
        case .path(let path):
            progress = try restore(try Checkpoint.read(from: path), path: path)
        }
        guard progress.step <= recipe.training.steps else {
            throw TrainingError("the checkpoint is at step \(progress.step) but this recipe trains only \(recipe.training.steps) steps")
        }
        return progress
    }

    private func restore(_ checkpoint: Checkpoint, path: String) throws -> TrainingProgress {
        if let task = checkpoint.metadata["task"], task != recipe.task {
            throw TrainingError("\(path): the checkpoint was trained for task \(task), this recipe's task is \(recipe.task)")
        }
        let progress = try TrainingCheckpoint.restore(checkpoint, path: path, model: model, optimizer: optimizer)
        progressReporter.log("resuming from \(path) at step \(progress.step)")
        return progress
    }

    private func saveCheckpoint(_ progress: inout TrainingProgress, isBest: Bool) throws -> String {
        progress.generators = model.namedGenerators()
        progress.loader = DataLoaderPosition(epoch: 0, batchIndexInEpoch: progress.step, seed: recipe.seed)
        var checkpoint = try TrainingCheckpoint.make(model: model, optimizer: optimizer, progress: progress, recipeYAML: recipeYAML)
        checkpoint.metadata["task"] = recipe.task
        checkpoint.metadata.merge(workload.metadata) { $1 }
        return try checkpoints.save(checkpoint, step: progress.step, isBest: isBest)
    }
}
