import Foundation
import TesseraData
import TesseraNN
import TesseraODE
import TesseraTensor

/// An ODE block between an optional linear projection and a head: a linear layer from the whole
/// final state, or (`head: state`) the state's first outputs as they are.
final class ODENetwork: Layer {
    let projection: Linear?
    let block: ODEBlock
    let head: Linear?
    let outputCount: Int

    init(_ section: ODEModelSection, solver: ODESolverSection, inputFeatures: Int, outputCount: Int,
         generator: inout RandomGenerator) {
        projection = section.projectionWidth > 0 ? Linear(inputFeatures, section.projectionWidth, generator: &generator) : nil
        var config = ODEBlockConfig(features: section.projectionWidth > 0 ? section.projectionWidth : inputFeatures)
        config.augmentedDimensions = section.augmentedDimensions
        config.hiddenSizes = section.hiddenSizes
        config.activation = section.activation
        config.timeDependent = section.timeDependent
        config.endTime = section.endTime
        config.solver = solver.options
        config.adjoint = solver.gradient == .adjoint
        block = ODEBlock(config: config, generator: &generator)
        head = section.head == .linear ? Linear(config.stateFeatures, outputCount, generator: &generator) : nil
        self.outputCount = outputCount
    }

    func callAsFunction(_ input: Tensor) -> Tensor {
        let final = block(projection.map { $0(input) } ?? input)
        return head.map { $0(final) } ?? final.slice(alongAxis: 1, start: 0, end: outputCount)
    }

    /// The states at `times` of the flow from `input` (augmented), without gradients:
    /// `[times.count, batch, stateFeatures]`.
    func trajectories(_ input: Tensor, times: [Float]) throws -> Tensor {
        try withoutGradients {
            let field: ODEFunction = { [function = block.function] t, u in function(t, u) }
            let initial = block.augment(projection.map { $0(input) } ?? input)
            return try odeint(field, initial: initial, times: times, options: block.config.solver).stacked()
        }
    }
}

/// The examples of a supervised ODE recipe, split by the seed: inputs `[count, features]`, class
/// indices (or, for `reflection`, target values) as labels.
func odeSupervisedData(_ section: ODEDataSection, seed: UInt64) throws -> DatasetSplit {
    var generator = RandomGenerator(seed: seed).derived(stream: RandomStreams.data)
    let all: TensorDataset
    switch section.source {
    case .digits:
        return try Digits.split(layout: .flat, testFraction: section.testFraction, seed: seed)
    case .spirals:
        all = SyntheticPoints.spirals(count: section.count, turns: section.turns, noise: section.noise, generator: &generator)
    case .moons:
        all = SyntheticPoints.moons(count: section.count, noise: section.noise, generator: &generator)
    case .circles:
        all = SyntheticPoints.circles(count: section.count, factor: section.factor, noise: section.noise, generator: &generator)
    case .reflection:
        let inputs = Tensor.randomUniform([section.count, 1], low: -1, high: 1, generator: &generator)
        all = TensorDataset(inputs: inputs, labels: -inputs.reshape([-1]))
    }
    return all.split(testFraction: section.testFraction, seed: seed, stratified: section.source != .reflection)
}

/// The solver's sum over the processes that share every training batch: dopri5's error norms
/// become the whole batch's, so each process takes the steps one process would. `nil` alone, and
/// with `training.batchShards` (every shard then takes its own steps, in one process or several).
func odeProcessSum(_ collective: (any TrainingCollective)?, recipe: ODERecipe) -> ODEProcessSum? {
    guard let collective, collective.worldSize > 1, recipe.training.batchShards == 1 else { return nil }
    return ODEProcessSum { partials in try collective.sum(partials) }
}

/// Classification (cross entropy) or, for `reflection`, regression (squared error) with a
/// ``ODENetwork``. Each step trains on `data.batchSize` training examples drawn by
/// ``stepBatch(seed:step:batchSize:count:)``; with several processes each solves its
/// ``BatchShard`` of them, its solver's step controller measuring the error over the whole batch
/// (``odeProcessSum(_:recipe:)``), and divides its summed loss by the global batch size. With
/// `training.batchShards` each shard is solved on its own, in one process as with several.
///
/// Reports NFE: `train_nfe`, the forward solve of the last training step (its first shard's),
/// `train_adjoint_nfe`, its backward solve (adjoint gradients only), and `test_nfe`, the solve of
/// the whole test set.
/// All are functions of the parameters and the batch (dopri5 picks its first step afresh from the
/// state in every solve), so they, like the losses, come out the same in a resumed run, and the
/// training ones the same on every process.
final class ODESupervisedWorkload: StepWorkload {
    let recipe: ODERecipe
    let train: TensorDataset, test: TensorDataset
    let network: ODENetwork
    let isRegression: Bool
    var model: any Module { network }
    var primaryMetric: String { isRegression ? "test_mse" : "test_accuracy" }
    var primaryMetricIsHigherBetter: Bool { !isRegression }
    var progressMetrics: [String] { odeProgressMetrics(recipe) }
    private let processSum: ODEProcessSum?
    private var lastTrainingNFE = 0
    private var lastTrainingAdjoint: ODEAdjointStatistics?
    private(set) var lastFailure: String?
    var shardsAreIndependent: Bool { true }

    init(_ recipe: ODERecipe, collective: (any TrainingCollective)?, generator: inout RandomGenerator) throws {
        self.recipe = recipe
        processSum = odeProcessSum(collective, recipe: recipe)
        let split = try odeSupervisedData(recipe.data, seed: recipe.seed)
        (train, test) = (split.train, split.test)
        isRegression = recipe.data.source == .reflection
        network = ODENetwork(recipe.model, solver: recipe.solver, inputFeatures: recipe.data.source.featureCount,
                             outputCount: recipe.data.source.outputCount, generator: &generator)
    }

    func trainingLoss(step: Int, shard: BatchShard) -> (loss: Tensor, examples: Int) {
        let batch = stepBatch(seed: recipe.seed, step: step, batchSize: recipe.data.batchSize, count: train.count)
        let index = Tensor(batch[shard.rows(of: batch.count)].map(Float.init))
        // This step's solves (and the adjoint's, in the backward pass: it keeps the forward's
        // options) agree their steps with the other processes; rank 0 evaluates alone, without.
        network.block.sumOverProcesses = processSum
        defer { network.block.sumOverProcesses = nil }
        let outputs = network(train.inputs.indexSelect(alongAxis: 0, indices: index))
        // The first shard's solves are the ones reported: rank 0 has them whatever the processes.
        if shard.rank == 0 {
            lastTrainingNFE = network.block.lastFunctionEvaluations
            lastTrainingAdjoint = network.block.lastAdjointStatistics
            lastFailure = nil
        }
        if let error = network.block.lastError { lastFailure = "the ODE solve failed: \(error)" }
        return (summedLoss(outputs, train.labels.indexSelect(alongAxis: 0, indices: index)) / Float(batch.count), index.count)
    }

    private func summedLoss(_ outputs: Tensor, _ targets: Tensor) -> Tensor {
        guard isRegression else { return crossEntropy(logits: outputs, targets: targets, reduction: .sum) }
        let error = outputs.reshape([-1]) - targets
        return (error * error).sum()
    }

    func evaluate() -> [String: Double] {
        withoutGradients {
            let outputs = network(test.inputs)
            var metrics = ["test_loss": Double(summedLoss(outputs, test.labels).item) / Double(test.count),
                           "test_nfe": Double(network.block.lastFunctionEvaluations),
                           "train_nfe": Double(lastTrainingNFE)]
            if let adjoint = lastTrainingAdjoint { metrics["train_adjoint_nfe"] = Double(adjoint.functionEvaluations) }
            if isRegression {
                metrics["test_mse"] = metrics["test_loss"]
            } else {
                metrics["test_accuracy"] = Double(outputs.argmax(alongAxis: -1).equal(test.labels).mean().item)
            }
            if let error = network.block.lastError { print("ode: the test-set solve failed: \(error)") }
            return metrics
        }
    }

    func writeArtifacts(to run: RunDirectory) throws {
        switch recipe.data.source {
        case .reflection: try ODEFlowPlots.trajectories(network, title: recipe.name, to: run.url.appendingPathComponent("flow.png"))
        case .spirals, .moons, .circles:
            try ODEFlowPlots.planarFlow(network, points: test, title: recipe.name, to: run.url.appendingPathComponent("flow.png"))
        case .digits: break
        }
    }
}

/// The NFE shown in the progress line: the training solve's (forward, and backward with adjoint
/// gradients) and the test set's.
func odeProgressMetrics(_ recipe: ODERecipe) -> [String] {
    recipe.solver.gradient == .adjoint ? ["train_nfe", "train_adjoint_nfe", "test_nfe"] : ["train_nfe", "test_nfe"]
}

/// Density estimation with ``FFJORD``: each step's loss is the mean negative log-likelihood of the
/// step's batch of points (sharded and weighted as in ``ODESupervisedWorkload``); the metric is the
/// mean log-likelihood of the held-out points, and `density.png` shows the learned density with
/// samples drawn by integrating backward from the base.
final class ODEFlowWorkload: StepWorkload {
    let recipe: ODERecipe
    let train: Tensor, test: Tensor
    let flow: FFJORD
    var model: any Module { flow }
    let primaryMetric = "test_log_likelihood"
    var progressMetrics: [String] { odeProgressMetrics(recipe) }
    private let processSum: ODEProcessSum?
    private var lastTrainingNFE = 0
    private var lastTrainingAdjoint: ODEAdjointStatistics?
    private(set) var lastFailure: String?
    var shardsAreIndependent: Bool { true }

    init(_ recipe: ODERecipe, collective: (any TrainingCollective)?, generator: inout RandomGenerator) throws {
        self.recipe = recipe
        processSum = odeProcessSum(collective, recipe: recipe)
        let split = try odeSupervisedData(recipe.data, seed: recipe.seed)
        (train, test) = (split.train.inputs, split.test.inputs)
        var config = FFJORDConfig(features: 2)
        config.hiddenSizes = recipe.model.hiddenSizes
        config.activation = recipe.model.activation
        config.endTime = recipe.model.endTime
        config.trace = recipe.model.trace
        config.solver = recipe.solver.options
        config.adjoint = recipe.solver.gradient == .adjoint
        flow = FFJORD(config: config, generator: &generator)
    }

    func trainingLoss(step: Int, shard: BatchShard) -> (loss: Tensor, examples: Int) {
        let batch = stepBatch(seed: recipe.seed, step: step, batchSize: recipe.data.batchSize, count: train.shape[0])
        let index = Tensor(batch[shard.rows(of: batch.count)].map(Float.init))
        let points = train.indexSelect(alongAxis: 0, indices: index)
        let logLikelihood: Tensor
        if shard.rank == 0 { lastFailure = nil }
        // As in ODESupervisedWorkload: the training solves agree their steps over the processes.
        flow.sumOverProcesses = processSum
        defer { flow.sumOverProcesses = nil }
        do { logLikelihood = try flow.logLikelihood(points) } catch {
            lastFailure = "the flow's ODE solve failed: \(error)"
            logLikelihood = Tensor.full([points.shape[0]], .nan)
        }
        if shard.rank == 0 {
            lastTrainingNFE = flow.lastFunctionEvaluations
            lastTrainingAdjoint = flow.lastAdjointStatistics
        }
        return (-logLikelihood.sum() / Float(batch.count), index.count)
    }

    func evaluate() -> [String: Double] {
        withoutGradients {
            let mean: Double
            do { mean = Double(try flow.logLikelihood(test).mean().item) } catch {
                print("ode: the test-set solve failed: \(error)")
                mean = .nan
            }
            var metrics = ["test_log_likelihood": mean, "test_loss": -mean, "test_nfe": Double(flow.lastFunctionEvaluations),
                           "train_nfe": Double(lastTrainingNFE)]
            if let adjoint = lastTrainingAdjoint { metrics["train_adjoint_nfe"] = Double(adjoint.functionEvaluations) }
            return metrics
        }
    }

    func writeArtifacts(to run: RunDirectory) throws {
        try ODEFlowPlots.density(flow, data: test, to: run.url.appendingPathComponent("density.png"))
    }
}
