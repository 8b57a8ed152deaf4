import TesseraTensor

/// Batch normalization (Ioffe & Szegedy, "Batch Normalization: Accelerating Deep Network Training
/// by Reducing Internal Covariate Shift", ICML 2015) over axis 1 of `[N, C]`, `[N, C, L]`
/// (PyTorch's BatchNorm1d) or `[N, C, H, W]` (BatchNorm2d).
///
/// In training mode it normalizes with the batch's mean and biased variance and updates the
/// running statistics as PyTorch does: `running = (1 − momentum)·running + momentum·batch`, with
/// the *unbiased* batch variance. In evaluation mode it uses the running statistics.
///
/// Data-parallel training shards each batch over processes; with ``sumOverReplicas`` set, the
/// statistics are those of the whole global batch (synchronized batch norm, as PyTorch's
/// `SyncBatchNorm`), so a model with batch norm trains the same on any number of processes.
public final class BatchNorm: Layer, ModeDependentModule {
    /// Per-channel scale `[C]` (γ), initialised to 1.
    public let weight: Tensor?
    /// Per-channel shift `[C]` (β), initialised to 0.
    public let bias: Tensor?
    /// Mean of the batches seen in training, `[C]`.
    public let runningMean: Buffer
    /// Unbiased variance of the batches seen in training, `[C]`.
    public let runningVariance: Buffer
    /// How many training batches updated the running statistics (PyTorch's `num_batches_tracked`).
    public let batchesTracked: Buffer
    public let momentum: Float
    public let epsilon: Float
    public var mode: ModuleMode = .training
    /// Sums a buffer in place over the processes of a data-parallel job (an allreduce); when set,
    /// training-mode statistics come from the per-channel sums and counts of every process's
    /// shard. Two allreduces of `C + 1` and `C` floats forward and two backward per layer.
    /// `nil`: this process's batch alone.
    public var sumOverReplicas: ((UnsafeMutableBufferPointer<Float>) -> Void)?

    public var featureCount: Int { runningMean.value.count }

    public init(featureCount: Int, momentum: Float = 0.1, epsilon: Float = 1e-5, affine: Bool = true) {
        weight = affine ? Tensor.ones([featureCount]).requiringGradient() : nil
        bias = affine ? Tensor.zeros([featureCount]).requiringGradient() : nil
        runningMean = Buffer(Tensor.zeros([featureCount]))
        runningVariance = Buffer(Tensor.ones([featureCount]))
        batchesTracked = Buffer(Tensor.zeros([]))
        self.momentum = momentum
        self.epsilon = epsilon
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        precondition(input.rank >= 2 && input.shape[1] == featureCount,
                     "BatchNorm: input shape \(input.shape) must be [N, \(featureCount), …]")
        // Statistics over every axis but the channel axis; parameters broadcast as [C, 1, …].
        let axes = [0] + Array(2..<input.rank)
        let channelShape = [featureCount] + [Int](repeating: 1, count: input.rank - 2)
        let mean: Tensor, variance: Tensor
        if mode == .training {
            var count = input.count / featureCount
            if let sumOverReplicas {
                // Per-channel sums and this shard's count, added up over every process.
                let totals = Tensor.concatenate([input.sum(alongAxes: axes), Tensor([Float(count)])], alongAxis: 0)
                    .summedOverReplicas(sumOverReplicas)
                count = Int(totals.scalars[featureCount])
                precondition(count > 1, "BatchNorm: training needs more than one value per channel over all processes, got \(count)")
                mean = (totals.slice(alongAxis: 0, start: 0, end: featureCount) / Float(count)).reshape(channelShape)
                let centered = input - mean
                variance = ((centered * centered).sum(alongAxes: axes).summedOverReplicas(sumOverReplicas) / Float(count))
                    .reshape(channelShape)
            } else {
                precondition(count > 1, "BatchNorm: training needs more than one value per channel, got input shape \(input.shape)")
                mean = input.mean(alongAxes: axes, keepDims: true)
                let centered = input - mean
                variance = (centered * centered).mean(alongAxes: axes, keepDims: true)
            }
            withoutGradients {
                let unbiased = variance.reshape([featureCount]) * (Float(count) / Float(count - 1))
                runningMean.value.assign(runningMean.value * (1 - momentum) + mean.reshape([featureCount]) * momentum)
                runningVariance.value.assign(runningVariance.value * (1 - momentum) + unbiased * momentum)
                batchesTracked.value.storage.pointer[0] += 1
            }
        } else {
            mean = runningMean.value.reshape(channelShape)
            variance = runningVariance.value.reshape(channelShape)
        }
        var output = (input - mean) * (variance + epsilon).rsqrt()
        if let weight { output = output * weight.reshape(channelShape) }
        if let bias { output = output + bias.reshape(channelShape) }
        return output
    }
}

/// PyTorch's name for batch norm over `[N, C]` or `[N, C, L]`.
public typealias BatchNorm1d = BatchNorm
/// PyTorch's name for batch norm over `[N, C, H, W]`.
public typealias BatchNorm2d = BatchNorm
