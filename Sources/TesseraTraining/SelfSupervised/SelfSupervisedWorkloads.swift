import TesseraData
import TesseraNN
import TesseraSelfSupervised
import TesseraTensor

/// What every self-supervised workload shares: the recipe, the data, the views, the processes
/// and this process's rows of each step's batch.
struct RepresentationSetting {
    let recipe: SelfSupervisedRecipe
    let data: SelfSupervisedData
    let views: TwoViewPipeline
    let collective: (any TrainingCollective)?
    /// A collective run inside forward or backward (batch norm's sums, SimCLR's gathered
    /// negatives) leaves its error here for the trainer.
    let failure = CollectiveFailure()

    init(_ recipe: SelfSupervisedRecipe, collective: (any TrainingCollective)?) throws {
        self.recipe = recipe
        self.collective = collective
        data = try SelfSupervisedData(recipe.data, seed: recipe.seed)
        let settings = viewSettings(recipe.views)
        try settings.validate(imageHeight: 8, imageWidth: 8)
        views = try TwoViewPipeline(settings, seed: recipe.seed)
    }

    /// The training images of step `step`'s global batch that this shard takes (``stepShardIndices(_:step:shard:pool:)``).
    func shardIndices(step: Int, shard: BatchShard, pool: Int) -> (mine: [Int], globalCount: Int) {
        stepShardIndices(recipe, step: step, shard: shard, pool: pool)
    }

    /// The downstream metrics of `encoder`'s representation, with `model` in evaluation mode.
    func representationMetrics(of encoder: any Layer, in model: any Module) -> [String: Double] {
        model.eval()
        defer { model.train() }
        do {
            return try data.representationMetrics { encoder($0) }
        } catch {
            return ["evaluation_failed": 1]
        }
    }
}

/// The examples of step `step`'s global batch that `shard` takes, by index into a pool of `pool`
/// (a pure function of the seed and the step, so processes and resumed runs agree), and the global
/// batch's size.
func stepShardIndices(_ recipe: SelfSupervisedRecipe, step: Int, shard: BatchShard, pool: Int) -> (mine: [Int], globalCount: Int) {
    let indices = stepBatch(seed: recipe.seed, step: step, batchSize: recipe.data.batchSize, count: pool)
    return (Array(indices[shard.rows(of: indices.count)]), indices.count)
}

// MARK: - SimCLR

/// SimCLR on the digits (Chen et al. 2020): two views of each sample through the encoder and the
/// projection head, NT-Xent over the 2N projections. With several processes each takes its rows
/// of the batch; the projections of every process are gathered, first views then second views in
/// the global order, so each anchor is contrasted with the global batch's 2N − 2 negatives and the
/// gradient of every projection returns to its process (the paper's global batch); batch norm
/// normalises with the global batch's statistics.
final class SimCLRWorkload: StepWorkload, RepresentationWorkload {
    let setting: RepresentationSetting
    let simCLR: SimCLR
    var model: any Module { simCLR }

    init(_ recipe: SelfSupervisedRecipe, collective: (any TrainingCollective)?, generator: inout RandomGenerator) throws {
        setting = try RepresentationSetting(recipe, collective: collective)
        let m = recipe.method
        simCLR = try SimCLR(encoder: makeEncoder(recipe.encoder, generator: &generator),
                            configuration: .init(representationSize: recipe.encoder.representationSize, hiddenSize: m.hiddenSize,
                                                 projectionSize: m.projectionSize, temperature: m.temperature),
                            generator: &generator)
    }

    func trainingLoss(step: Int, shard: BatchShard) -> (loss: Tensor, examples: Int) {
        let (data, failure) = (setting.data, setting.failure)
        let (mine, globalCount) = setting.shardIndices(step: step, shard: shard, pool: data.train.count)
        let (first, second) = try! setting.views.views(data.train.batch(at: mine).inputs, indices: mine, epoch: step)
        let count = mine.count
        let projections = simCLR.projector(simCLR.encoder(Tensor.concatenate([first, second], alongAxis: 0)))
        // The keys are every process's first views, then every process's second views; this
        // shard's anchors are its rows of both halves (in one process: all of them).
        var keys = projections
        if let collective = setting.collective, collective.worldSize > 1 {
            do {
                keys = Tensor.concatenate([
                    try collective.gatheredRows(projections.slice(alongAxis: 0, start: 0, end: count), failure: failure),
                    try collective.gatheredRows(projections.slice(alongAxis: 0, start: count, end: 2 * count), failure: failure),
                ], alongAxis: 0)
            } catch {
                failure.record(error)
                return (Tensor(Float.nan), count)
            }
        }
        let offset = shard.rows(of: globalCount).lowerBound
        let rows = Array(offset..<(offset + count)) + Array((globalCount + offset)..<(globalCount + offset + count))
        return (simCLR.criterion.loss(queries: projections, rows: rows, keys: keys, normalizingCount: 2 * globalCount), count)
    }

    func evaluate() -> [String: Double] { setting.representationMetrics(of: simCLR.encoder, in: simCLR) }
}

// MARK: - Supervised baseline

/// The baseline the pretrained encoders must beat: the same encoder and a linear head trained
/// from scratch with cross entropy on the labelled share alone (one augmented view per sample, the
/// same augmentations), then judged by the same probe.
final class SupervisedBaselineWorkload: StepWorkload, RepresentationWorkload {
    let setting: RepresentationSetting
    let encoder: any Layer
    let network: Sequential
    var model: any Module { network }
    var progressMetrics: [String] { ["head_accuracy", "knn_accuracy"] }

    init(_ recipe: SelfSupervisedRecipe, collective: (any TrainingCollective)?, generator: inout RandomGenerator) throws {
        setting = try RepresentationSetting(recipe, collective: collective)
        encoder = makeEncoder(recipe.encoder, generator: &generator)
        network = Sequential(encoder, Linear(recipe.encoder.representationSize, Digits.classCount, generator: &generator))
    }

    func trainingLoss(step: Int, shard: BatchShard) -> (loss: Tensor, examples: Int) {
        let labelled = setting.data.labelled
        let (mine, globalCount) = setting.shardIndices(step: step, shard: shard, pool: labelled.count)
        let batch = labelled.batch(at: mine)
        let (view, _) = try! setting.views.views(batch.inputs, indices: mine, epoch: step)
        return (crossEntropyShare(logits: network(view), targets: batch.labels, countedTargets: globalCount), mine.count)
    }

    func evaluate() -> [String: Double] {
        let data = setting.data
        var metrics = setting.representationMetrics(of: encoder, in: network)
        network.eval()
        defer { network.train() }
        metrics["head_accuracy"] = withoutGradients {
            Double(network(data.test.inputs).argmax(alongAxis: -1).equal(data.test.labels).mean().item)
        }
        return metrics
    }
}

// MARK: - BYOL

/// BYOL on the digits (Grill et al. 2020): the online network regresses the target network's
/// projection of the other view; the target, an EMA of the online encoder and projector, follows
/// after every update with the cosine-rising decay. Only the online network is trained (and
/// averaged over the processes); the target is part of the checkpoint, so a resumed run goes on
/// from the same target.
final class BYOLWorkload: StepWorkload, RepresentationWorkload {
    let setting: RepresentationSetting
    let byol: BYOL
    var model: any Module { byol }
    var trainableParameters: [(name: String, parameter: Tensor)] { byol.onlineParameters() }

    init(_ recipe: SelfSupervisedRecipe, collective: (any TrainingCollective)?, generator: inout RandomGenerator) throws {
        setting = try RepresentationSetting(recipe, collective: collective)
        let m = recipe.method
        var encoders = generator
        byol = try BYOL(makeEncoder: { makeEncoder(recipe.encoder, generator: &encoders) },
                        configuration: .init(representationSize: recipe.encoder.representationSize, hiddenSize: m.hiddenSize,
                                             projectionSize: m.projectionSize, baseTargetDecay: m.baseTargetDecay,
                                             usesPredictor: m.usesPredictor),
                        generator: &generator)
    }

    func trainingLoss(step: Int, shard: BatchShard) -> (loss: Tensor, examples: Int) {
        let data = setting.data
        let (mine, globalCount) = setting.shardIndices(step: step, shard: shard, pool: data.train.count)
        let views = try! setting.views.views(data.train.batch(at: mine).inputs, indices: mine, epoch: step)
        // The loss is a mean over this shard's rows; weighted by its share it adds up to the global mean.
        let loss = byol.loss(views: views).loss * (Float(mine.count) / Float(globalCount))
        return (loss, mine.count)
    }

    func afterUpdate(step: Int, totalSteps: Int) throws {
        try byol.updateTarget(step: step, totalSteps: totalSteps)
    }

    func evaluate() -> [String: Double] { setting.representationMetrics(of: byol.onlineEncoder, in: byol) }
}

// MARK: - DINO

/// DINO on the digits (Caron et al. 2021): the student sees two global and `localCrops` local
/// crops, the EMA teacher the global ones; the teacher's outputs are centred by a running mean of
/// the global batch (its sum all-reduced over the processes) and sharpened by a low temperature
/// warmed up over `teacherWarmupSteps`. The centre lives in a buffer of the checkpointed model so
/// a resumed run centres as the uninterrupted one.
final class DINOWorkload: StepWorkload, RepresentationWorkload {
    /// The DINO model and its centre as a checkpointed buffer.
    final class State: Module {
        let dino: DINO
        let center: Buffer

        init(_ dino: DINO) {
            self.dino = dino
            center = Buffer(dino.center.copy())
        }
    }

    let setting: RepresentationSetting
    let state: State
    let crops: MultiCropPipeline
    private var pendingTeacherSum: (sum: Tensor, rows: Int)?
    var model: any Module { state }
    var trainableParameters: [(name: String, parameter: Tensor)] {
        state.namedParameters().filter { $0.name.hasPrefix("dino.student") }
    }

    init(_ recipe: SelfSupervisedRecipe, collective: (any TrainingCollective)?, generator: inout RandomGenerator) throws {
        setting = try RepresentationSetting(recipe, collective: collective)
        let (m, v) = (recipe.method, recipe.views)
        let global = viewSettings(v)
        let local = viewSettings(v, scale: v.localScale)
        try local.validate(imageHeight: 8, imageWidth: 8)
        crops = try MultiCropPipeline(global: global, local: local, localCropCount: m.localCrops, seed: recipe.seed)
        var backbones = generator
        let dino = try DINO(makeBackbone: { makeEncoder(recipe.encoder, generator: &backbones) },
                            configuration: .init(representationSize: recipe.encoder.representationSize, hiddenSize: m.hiddenSize,
                                                 bottleneckSize: m.bottleneckSize, outputDimensions: m.outputDimensions,
                                                 studentTemperature: m.studentTemperature, teacherTemperature: m.teacherTemperature,
                                                 warmupTeacherTemperature: m.warmupTeacherTemperature,
                                                 teacherTemperatureWarmupSteps: m.teacherWarmupSteps, centerMomentum: m.centerMomentum,
                                                 baseTeacherMomentum: m.baseTargetDecay, centering: m.centering),
                            generator: &generator)
        state = State(dino)
    }

    func trainingLoss(step: Int, shard: BatchShard) -> (loss: Tensor, examples: Int) {
        let data = setting.data
        let (mine, globalCount) = setting.shardIndices(step: step, shard: shard, pool: data.train.count)
        let views = try! crops.crops(data.train.batch(at: mine).inputs, indices: mine, epoch: step)
        // The checkpointed buffer is the centre's source of truth (a resumed run restores it there).
        try! state.dino.restoreCenter(state.center.value)
        let output = state.dino.loss(globalCrops: views.global, localCrops: views.local, step: step)
        pendingTeacherSum = (output.teacherSum, output.teacherRowCount)
        return (output.loss * (Float(mine.count) / Float(globalCount)), mine.count)
    }

    /// The teacher's EMA, then the centre from the teacher outputs of the whole global batch.
    func afterUpdate(step: Int, totalSteps: Int) throws {
        try state.dino.updateTeacher(step: step, totalSteps: totalSteps)
        guard let (sum, rows) = pendingTeacherSum else { return }
        var totals = sum.scalars.map(Double.init) + [Double(rows)]
        if let collective = setting.collective, collective.worldSize > 1 { totals = try collective.sum(totals) }
        let globalSum = Tensor(shape: sum.shape, scalars: totals.dropLast().map(Float.init))
        state.dino.updateCenter(teacherSum: globalSum, count: Int(totals.last!))
        state.center.value.assign(state.dino.center)
        pendingTeacherSum = nil
    }

    func evaluate() -> [String: Double] { setting.representationMetrics(of: state.dino.studentBackbone, in: state) }
}
