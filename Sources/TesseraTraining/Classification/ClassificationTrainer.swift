import Foundation
import TesseraCheckpoint
import TesseraData
import TesseraNN
import TesseraTensor

/// Trains a classifier from a recipe: the loop reads batch → forward → loss → backward →
/// (average gradients across processes) → clip → optimizer step, with evaluation, logging and
/// checkpoints at the recipe's intervals. Deterministic: the recipe's seed fixes every stream, and
/// a run resumed from a checkpoint ends bit-for-bit where the uninterrupted run would.
public final class ClassificationTrainer {
    public let recipe: ClassificationRecipe
    public let recipeYAML: String
    public let data: ClassificationData
    public let model: any Layer
    public let optimizer: any Optimizer
    public let schedule: any LearningRateSchedule
    public let run: RunDirectory
    public let collective: (any TrainingCollective)?
    public private(set) var loader: DataLoader
    public let totalSteps: Int
    private var progressReporter: ProgressReporter
    private var checkpoints: CheckpointDirectory

    private var rank: Int { collective?.rank ?? 0 }
    /// The first failure of a batch norm statistics sum over ranks (``TrainingCollective/synchronizeBatchNorms(in:failure:)``).
    private let batchNormSynchronization = CollectiveFailure()
    /// Each step's time and allreduce wait on this rank, for `ranks.jsonl`.
    private var timer = StepTimer()
    private var isLeader: Bool { rank == 0 }

    public init(recipe: ClassificationRecipe, recipeYAML: String, recipeFile: String, runDirectory: RunDirectory,
                collective: (any TrainingCollective)? = nil, showProgress: Bool = true) throws {
        self.recipe = recipe
        self.recipeYAML = recipeYAML
        self.run = runDirectory
        self.collective = collective
        data = try ClassificationData(recipe.data, seed: recipe.seed, recipeFile: recipeFile)
        var initialization = RandomGenerator(seed: recipe.seed).derived(stream: RandomStreams.initialization)
        model = try makeClassifier(recipe.model, inputShape: data.inputShape, classCount: data.classCount,
                                   generator: &initialization)
        model.seedGenerators(from: RandomGenerator(seed: recipe.seed).derived(stream: RandomStreams.dropout))
        optimizer = makeOptimizer(recipe.optimizer, parameters: model.namedParameters())
        let worldSize = collective?.worldSize ?? 1
        guard recipe.data.batchSize >= worldSize else {
            throw TrainingError("data.batchSize \(recipe.data.batchSize) is smaller than the \(worldSize) processes: each needs at least one example per step")
        }
        var shuffling = RandomGenerator(seed: recipe.seed).derived(stream: RandomStreams.shuffling)
        loader = DataLoader(dataset: data.train, batchSize: recipe.data.batchSize, shuffle: true, dropLast: false,
                            seed: shuffling.next64(),
                            rank: collective?.rank ?? 0, worldSize: worldSize)
        totalSteps = recipe.training.epochs * loader.batchesPerEpoch
        if recipe.schedule.kind != .constant && recipe.schedule.kind != .step && recipe.schedule.warmupSteps >= totalSteps {
            throw TrainingError("\(recipeFile): schedule.warmupSteps (\(recipe.schedule.warmupSteps)) must be smaller than the run's \(totalSteps) steps (training.epochs \(recipe.training.epochs) × \(loader.batchesPerEpoch) batches per epoch)")
        }
        schedule = makeSchedule(recipe.schedule, learningRate: recipe.optimizer.learningRate, totalSteps: totalSteps)
        progressReporter = ProgressReporter(enabled: showProgress && (collective?.rank ?? 0) == 0)
        checkpoints = CheckpointDirectory(path: runDirectory.checkpointsURL.path, keepLast: recipe.training.keepCheckpoints)
    }

    // MARK: - Running

    /// Starts from the weights in a safetensors file instead of the recipe's initialisation
    /// (fine-tuning a model trained elsewhere). Call before `train`; a resumed checkpoint wins.
    public func loadInitialWeights(safetensorsPath path: String) throws {
        try TrainingCheckpoint.loadWeights(safetensorsPath: path, into: model)
    }

    public func train(resume: ResumeRequest = .none) throws -> TrainingResult {
        var progress = try startingProgress(resume)
        try loader.resume(from: progress.loader)
        if let collective {
            // Every rank starts from rank 0's state: parameters and buffers (sorted by name), and
            // optimizer slots, so the replicas stay identical.
            try collective.broadcast(model.stateDictionary().sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
            try broadcastOptimizerState(collective)
            try collective.prepareGradientAveraging(model.namedParameters())
            if recipe.distributed.syncBatchNorm && collective.worldSize > 1 {
                collective.synchronizeBatchNorms(in: model, failure: batchNormSynchronization)
            }
            if collective.rank > 0 {
                // Dropout masks must differ between ranks (they cover different examples); rank 0
                // keeps the checkpointed stream, the others derive theirs from the rank and step.
                model.seedGenerators(from: RandomGenerator(seed: recipe.seed).derived(stream: RandomStreams.dropout)
                    .derived(stream: UInt64(collective.rank) << 40 | UInt64(progress.step)))
            }
        }
        if isLeader { try run.rewriteMetrics(progress.metrics) }
        let segmentStart = Date()
        let wallBefore = progress.wallSeconds
        var lastCheckpointPath: String? = nil
        var samplesSinceLog = 0, timeOfLastLog = Date()
        var lossSinceLog = 0.0, correctSinceLog = 0.0, stepsSinceLog = 0

        model.train()
        while progress.step < totalSteps {
            if let signalName = try pendingInterruption() {
                progress.loader = loader.position
                progress.generators = model.namedGenerators()
                progress.wallSeconds = wallBefore + Date().timeIntervalSince(segmentStart)
                lastCheckpointPath = try saveCheckpoint(progress, isBest: false)
                progressReporter.log("\(signalName): saved \(lastCheckpointPath ?? "no checkpoint") at step \(progress.step); exiting")
                return TrainingResult(steps: progress.step, wallSeconds: progress.wallSeconds,
                                      finalMetrics: progress.metrics.last?.values ?? [:], interruptedBy: signalName,
                                      checkpointPath: lastCheckpointPath)
            }
            timer.startStep()
            let (loss, correct, shardCount) = try trainingStep(step: progress.step)
            timer.endStep()
            progress.step += 1
            lossSinceLog += loss
            correctSinceLog += correct
            samplesSinceLog += shardCount
            stepsSinceLog += 1

            let step = progress.step
            let isLast = step == totalSteps
            var record: [String: Double] = [:]
            if step % recipe.training.logEvery == 0 || isLast {
                if let timings = try timer.collect(collective), isLeader { try run.appendRankTimings(timings, step: step) }
                let sums = try collective?.sum([lossSinceLog, correctSinceLog, Double(samplesSinceLog)])
                    ?? [lossSinceLog, correctSinceLog, Double(samplesSinceLog)]
                let worldSize = Double(collective?.worldSize ?? 1)
                let elapsed = Date().timeIntervalSince(timeOfLastLog)
                record["loss"] = sums[0] / Double(stepsSinceLog) / worldSize
                record["train_accuracy"] = sums[1] / sums[2]
                record["learning_rate"] = Double(optimizer.learningRate)
                record["samples_per_second"] = sums[2] / max(elapsed, 1e-9)
                (lossSinceLog, correctSinceLog, samplesSinceLog, stepsSinceLog) = (0, 0, 0, 0)
                timeOfLastLog = Date()
            }
            let evaluateNow = isLast || (recipe.training.evaluateEvery > 0 && step % recipe.training.evaluateEvery == 0)
            var isBest = false
            if evaluateNow {
                let (testLoss, testAccuracy) = evaluate(on: data.test)
                record["test_loss"] = testLoss
                record["test_accuracy"] = testAccuracy
                if testAccuracy > progress.bestTestAccuracy {
                    progress.bestTestAccuracy = testAccuracy
                    isBest = true
                }
            }
            if !record.isEmpty {
                let metrics = MetricsRecord(step: step, values: record)
                progress.metrics.append(metrics)
                if isLeader { try run.appendMetrics(metrics) }
                progressReporter.update(step: step, totalSteps: totalSteps, epoch: loader.position.epoch,
                                        values: ["loss", "test_accuracy"].compactMap { key in record[key].map { (key, $0) } },
                                        samplesPerSecond: record["samples_per_second"] ?? 0,
                                        elapsedSeconds: Date().timeIntervalSince(segmentStart))
            }
            let checkpointNow = isLast || (recipe.training.checkpointEvery > 0 && step % recipe.training.checkpointEvery == 0)
            if checkpointNow {
                progress.loader = loader.position
                progress.generators = model.namedGenerators()
                progress.wallSeconds = wallBefore + Date().timeIntervalSince(segmentStart)
                lastCheckpointPath = try saveCheckpoint(progress, isBest: isBest)
            }
        }
        progressReporter.finish()
        progress.wallSeconds = wallBefore + Date().timeIntervalSince(segmentStart)
        var finalMetrics: [String: Double] = [:]
        for record in progress.metrics { finalMetrics.merge(record.values) { $1 } }
        finalMetrics["best_test_accuracy"] = progress.bestTestAccuracy
        if isLeader {
            try run.writeSummary(steps: progress.step, wallSeconds: progress.wallSeconds, metrics: finalMetrics,
                                 extra: ["recipe": recipe.name, "checkpoint": lastCheckpointPath ?? checkpoints.path(step: progress.step)])
            try run.writeCurves(progress.metrics)
        }
        return TrainingResult(steps: progress.step, wallSeconds: progress.wallSeconds, finalMetrics: finalMetrics,
                              interruptedBy: nil, checkpointPath: lastCheckpointPath ?? checkpoints.path(step: progress.step))
    }

    /// One optimisation step on this rank's shard of the next global batch. Returns the shard's
    /// mean loss (as the global-batch mean would weigh it), its correct predictions and its size.
    private func trainingStep(step: Int) throws -> (loss: Double, correct: Double, count: Int) {
        let batch = loader.nextBatch()
        let epochOfBatch = loader.position.epoch
        let batchIndex = loader.position.batchIndexInEpoch - 1
        let globalCount = loader.globalBatchIndices(epoch: epochOfBatch, batch: batchIndex).count
        optimizer.learningRate = schedule.learningRate(atStep: step)
        optimizer.zeroGradients()
        let logits = model(batch.inputs)
        // Sum over the shard divided by the global batch size, times the world size: after the
        // gradients are averaged over ranks this is exactly the gradient of the global mean loss.
        let worldSize = Float(collective?.worldSize ?? 1)
        let shardLoss = crossEntropy(logits: logits, targets: batch.labels, labelSmoothing: recipe.training.labelSmoothing,
                                     reduction: .sum) * (worldSize / Float(globalCount))
        shardLoss.backward()
        try timer.allreduce { try collective?.averageGradients() }
        try batchNormSynchronization.check()
        if recipe.training.gradientClipNorm > 0 {
            _ = clipGradientNorm(model.parameters(), maximumNorm: recipe.training.gradientClipNorm)
        }
        optimizer.step()
        let correct = withoutGradients { logits.argmax(alongAxis: -1).equal(batch.labels).sum().item }
        return (Double(shardLoss.item), Double(correct), batch.count)
    }

    /// Makes every batch norm layer normalize with the statistics of the whole global batch,
    /// summed over the ranks with `collective`. A failed sum cannot throw from inside the forward
    /// or backward pass, so it is kept and thrown once the step's backward is done.
    /// Mean cross-entropy and accuracy over `dataset`, in evaluation mode.
    public func evaluate(on dataset: TensorDataset) -> (loss: Double, accuracy: Double) {
        model.eval()
        defer { model.train() }
        return withoutGradients {
            var totalLoss = 0.0, correct = 0.0
            var start = 0
            while start < dataset.count {
                let indices = Array(start..<min(start + 256, dataset.count))
                let batch = dataset.batch(at: indices)
                let logits = model(batch.inputs)
                totalLoss += Double(crossEntropy(logits: logits, targets: batch.labels, reduction: .sum).item)
                correct += Double(logits.argmax(alongAxis: -1).equal(batch.labels).sum().item)
                start += indices.count
            }
            return (totalLoss / Double(dataset.count), correct / Double(dataset.count))
        }
    }

    // MARK: - Checkpoints

    private func startingProgress(_ resume: ResumeRequest) throws -> TrainingProgress {
        let fresh = TrainingProgress(step: 0, loader: loader.position, generators: model.namedGenerators(), metrics: [],
                                     bestTestAccuracy: -1, wallSeconds: 0)
        // Rank 0 decides where to resume; the others receive its state by broadcast.
        guard isLeader else { return try receiveProgress() }
        var progress = fresh
        switch resume {
        case .none:
            break
        case .automatic:
            if let latest = try checkpoints.newestForResume(&progressReporter) {
                progress = try TrainingCheckpoint.restore(latest.checkpoint, path: latest.path, model: model, optimizer: optimizer)
                progressReporter.log("resuming from \(latest.path) at step \(progress.step)")
            }
        case .path(let path):
            let checkpoint = try Checkpoint.read(from: path)
            progress = try TrainingCheckpoint.restore(checkpoint, path: path, model: model, optimizer: optimizer)
            progressReporter.log("resuming from \(path) at step \(progress.step)")
        }
        guard progress.step <= totalSteps else {
            throw TrainingError("the checkpoint is at step \(progress.step) but this recipe trains only \(totalSteps) steps")
        }
        try sendProgress(progress)
        return progress
    }

    private func sendProgress(_ progress: TrainingProgress) throws {
        guard let collective else { return }
        _ = try collective.broadcastBytes(Array(try JSONEncoder.sorted.encode(progress)))
    }

    private func receiveProgress() throws -> TrainingProgress {
        let bytes = try collective!.broadcastBytes([])
        var progress = try JSONDecoder().decode(TrainingProgress.self, from: Data(bytes))
        progress.metrics = []  // only rank 0 logs
        return progress
    }

    /// Rank 0's optimizer slots to every rank. Workers have none yet (slots are created at a
    /// parameter's first update) while a resumed rank 0 has them all, so the slots travel as one
    /// encoded checkpoint rather than as a tensor-by-tensor broadcast.
    private func broadcastOptimizerState(_ collective: any TrainingCollective) throws {
        let entries = optimizer.stateDictionary().sorted { $0.key < $1.key }.map { TrainingCheckpoint.entry($0.key, $0.value) }
        let bytes = try collective.broadcastBytes(collective.rank == 0 ? Checkpoint(entries: entries).encoded() : [])
        guard collective.rank != 0 else { return }
        let received = try Checkpoint(decoding: bytes, source: "optimizer state from rank 0")
        var state: [String: Tensor] = [:]
        for entry in received.entries { state[entry.name] = try TrainingCheckpoint.tensor(entry, path: "optimizer state from rank 0") }
        try optimizer.loadStateDictionary(state)
    }

    private func saveCheckpoint(_ progress: TrainingProgress, isBest: Bool) throws -> String? {
        guard isLeader else { return nil }
        let checkpoint = try TrainingCheckpoint.make(model: model, optimizer: optimizer, progress: progress, recipeYAML: recipeYAML)
        return try checkpoints.save(checkpoint, step: progress.step, isBest: isBest)
    }

    /// A pending SIGINT/SIGTERM. With several processes every rank must stop at the same step, so
    /// they agree once per step (a one-number allreduce): a signal to any rank stops them all.
    private func pendingInterruption() throws -> String? {
        let local = InterruptSignal.pending != nil
        guard let collective else { return local ? InterruptSignal.pendingName : nil }
        let votes = try collective.sum([local ? 1 : 0])[0]
        return votes > 0 ? (local ? InterruptSignal.pendingName : "a signal to another rank") : nil
    }
}
