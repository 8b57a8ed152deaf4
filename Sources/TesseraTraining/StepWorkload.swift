import TesseraData
import TesseraNN
import TesseraTensor

/// What ``StepTrainer`` needs from a task: the model, the loss of step `s`'s batch (a pure
/// function of the seed and `s`, so a resumed run sees the same batches, whatever the number of
/// processes), and a held-out evaluation. One conformer per task of every step-trained family
/// (transformers, graphs), each building its model from its recipe.
protocol StepWorkload: AnyObject {
    /// Everything the checkpoint holds of the task's networks (a teacher or target network too).
    var model: any Module { get }
    /// The parameters the optimizer trains and the processes average gradients of: all of
    /// ``model``'s by default; a self-supervised student without its EMA teacher.
    var trainableParameters: [(name: String, parameter: Tensor)] { get }
    /// This shard's part of the mean loss of step `step`'s global batch, with its graph: the
    /// shard's summed loss divided by what the global batch's mean divides by (its examples, or
    /// its counted tokens when padding or masking leaves some out), so the parts of all shards add
    /// up to the global mean exactly. Also the number of examples in the shard.
    func trainingLoss(step: Int, shard: BatchShard) -> (loss: Tensor, examples: Int)
    /// Held-out metrics, in evaluation mode, without gradients.
    func evaluate() -> [String: Double]
    /// The metric whose best value marks the best checkpoint (higher is better).
    var primaryMetric: String { get }
    /// Whether a larger ``primaryMetric`` is better (accuracies) or a smaller one (errors).
    var primaryMetricIsHigherBetter: Bool { get }
    /// Evaluation metrics shown in the progress line besides the losses and the primary metric
    /// (a neural ODE's function evaluations).
    var progressMetrics: [String] { get }
    /// Extra checkpoint metadata (the tokenizer), so generation needs only the checkpoint.
    var metadata: [String: String] { get }
    /// Pictures or tables of the finished run beside the curves (a learned embedding); rank 0
    /// calls it once, after the last evaluation.
    func writeArtifacts(to run: RunDirectory) throws
    /// Why the last training loss may not be finite, when the task knows (a solver that failed);
    /// the trainer adds it to the error that stops the run.
    var lastFailure: String? { get }
    /// Where collectives the task runs inside forward or backward (synchronised batch norm, gathered
    /// rows) leave an error; the trainer throws it after the gradients are averaged.
    var collectiveFailure: CollectiveFailure? { get }
    /// Runs after step `step`'s optimizer update on every rank (an EMA teacher's update, a centre
    /// all-reduced over the processes); `totalSteps` for schedules.
    func afterUpdate(step: Int, totalSteps: Int) throws
    /// Whether a shard's loss depends on its own rows only (no batch statistics, gathered rows or
    /// other collectives inside forward and backward, no state the forward pass updates), so one
    /// process may differentiate several shards one after another (``StepTrainingSection/batchShards``).
    var shardsAreIndependent: Bool { get }
}

extension StepWorkload {
    var trainableParameters: [(name: String, parameter: Tensor)] { model.namedParameters() }
    func afterUpdate(step: Int, totalSteps: Int) throws {}
    var collectiveFailure: CollectiveFailure? { nil }
    var primaryMetricIsHigherBetter: Bool { true }
    var progressMetrics: [String] { [] }
    var metadata: [String: String] { [:] }
    func writeArtifacts(to run: RunDirectory) throws {}
    var lastFailure: String? { nil }
    var shardsAreIndependent: Bool { false }
}

/// The rows of every global batch that one of several processes trains on: rank r of W takes
/// rows `r·B/W ..< (r+1)·B/W` of a batch of B, so shard sizes differ by at most one row when W
/// does not divide B (the loss weighting stays exact: see ``StepWorkload/trainingLoss(step:shard:)``).
struct BatchShard: Equatable, Sendable {
    let rank: Int
    let worldSize: Int

    init(rank: Int, worldSize: Int) {
        precondition(worldSize >= 1 && (0..<worldSize).contains(rank), "BatchShard: rank \(rank) of \(worldSize)")
        self.rank = rank
        self.worldSize = worldSize
    }

    /// This shard's rows of a global batch of `batchSize`.
    func rows(of batchSize: Int) -> Range<Int> {
        (rank * batchSize / worldSize)..<((rank + 1) * batchSize / worldSize)
    }

    /// This shard's rows of `batch` (rows along axis 0).
    func rows(_ batch: Tensor) -> Tensor {
        let range = rows(of: batch.shape[0])
        return batch.slice(alongAxis: 0, start: range.lowerBound, end: range.upperBound)
    }
}

/// The shard's part of the global batch's mean cross entropy: the shard's summed cross entropy
/// over `countedTargets`, the global batch's number of targets that count (not `ignoreIndex`).
/// A global batch with nothing to predict contributes nothing.
func crossEntropyShare(logits: Tensor, targets: Tensor, ignoreIndex: Float? = nil, countedTargets: Int) -> Tensor {
    crossEntropy(logits: logits, targets: targets, ignoreIndex: ignoreIndex, reduction: .sum) / Float(max(countedTargets, 1))
}

/// The targets of `targets` other than `ignoreIndex`.
func countedTargets(_ targets: Tensor, ignoreIndex: Float) -> Int {
    targets.scalars.reduce(0) { count, target in target == ignoreIndex ? count : count + 1 }
}

/// The generator of step `step`'s batch: its own stream of the recipe's seed.
func batchGenerator(seed: UInt64, step: Int) -> RandomGenerator {
    RandomGenerator(seed: seed).derived(stream: RandomStreams.data).derived(stream: UInt64(step))
}

/// The training examples of step `step`'s global batch, out of `count`: the first `batchSize` of a
/// partial Fisher–Yates shuffle drawn from ``batchGenerator(seed:step:)``, so the batch is a pure
/// function of the seed and the step (all of them when `batchSize ≥ count`).
func stepBatch(seed: UInt64, step: Int, batchSize: Int, count: Int) -> [Int] {
    var generator = batchGenerator(seed: seed, step: step)
    var order = Array(0..<count)
    let size = min(batchSize, count)
    for i in 0..<size { order.swapAt(i, i + generator.nextInt(below: count - i)) }
    return Array(order[0..<size])
}

/// Held-out examples come from a stream no training step uses.
func evaluationGenerator(seed: UInt64) -> RandomGenerator {
    RandomGenerator(seed: seed).derived(stream: RandomStreams.data).derived(stream: UInt64.max)
}
