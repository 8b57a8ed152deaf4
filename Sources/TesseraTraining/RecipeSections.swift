import TesseraConfig
import TesseraNN
import TesseraTensor

// The recipe sections every step-based family shares (optimizer, schedule, distributed), and
// what they build.

/// The optimiser and its hyper-parameters (PyTorch's defaults where not given).
public struct OptimizerSection: Decodable, RecipeValidatable {
    public enum Kind: String, Decodable, CaseIterable { case sgd, adam, adamw, rmsprop, lars }

    public var kind: Kind
    /// Peak learning rate (the schedule scales it).
    public var learningRate: Float
    /// Momentum of SGD, RMSprop and LARS.
    public var momentum: Float
    /// Nesterov momentum for SGD.
    public var nesterov: Bool
    /// L2 penalty (coupled for SGD/Adam/RMSprop/LARS, decoupled for AdamW).
    public var weightDecay: Float
    /// Adam's first- and second-moment decay rates.
    public var beta1: Float
    public var beta2: Float
    /// Denominator guard of Adam and RMSprop.
    public var epsilon: Float

    enum CodingKeys: String, CodingKey, CaseIterable {
        case kind, learningRate, momentum, nesterov, weightDecay, beta1, beta2, epsilon
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(Kind.self, forKey: .kind)
        learningRate = try container.decode(Float.self, forKey: .learningRate)
        momentum = try container.decodeIfPresent(Float.self, forKey: .momentum) ?? 0
        nesterov = try container.decodeIfPresent(Bool.self, forKey: .nesterov) ?? false
        weightDecay = try container.decodeIfPresent(Float.self, forKey: .weightDecay) ?? 0
        beta1 = try container.decodeIfPresent(Float.self, forKey: .beta1) ?? 0.9
        beta2 = try container.decodeIfPresent(Float.self, forKey: .beta2) ?? 0.999
        epsilon = try container.decodeIfPresent(Float.self, forKey: .epsilon) ?? 1e-8
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.range("learningRate", learningRate, 1e-8...10)
        try check.range("momentum", momentum, 0...0.9999)
        try check.range("weightDecay", weightDecay, 0...1)
        try check.range("beta1", beta1, 0...0.9999)
        try check.range("beta2", beta2, 0...0.99999)
        try check.positive("epsilon", epsilon)
        try check.that(!nesterov || (kind == .sgd && momentum > 0), "nesterov", "needs the sgd optimizer with momentum > 0")
    }
}

/// How the learning rate changes with the step.
public struct ScheduleSection: Decodable, RecipeValidatable {
    public enum Kind: String, Decodable, CaseIterable { case constant, step, linear, cosine }

    /// `constant`; `step`: × `gamma` every `stepSize` steps; `linear`/`cosine`: decay to
    /// `minimumLearningRate` at the last step. All but `step` start with `warmupSteps` of linear warm-up.
    public var kind: Kind
    public var warmupSteps: Int
    public var stepSize: Int
    public var gamma: Float
    public var minimumLearningRate: Float

    enum CodingKeys: String, CodingKey, CaseIterable { case kind, warmupSteps, stepSize, gamma, minimumLearningRate }

    public init() {
        kind = .constant
        warmupSteps = 0
        stepSize = 1000
        gamma = 0.1
        minimumLearningRate = 0
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        kind = try container.decode(Kind.self, forKey: .kind)
        warmupSteps = try container.decodeIfPresent(Int.self, forKey: .warmupSteps) ?? warmupSteps
        stepSize = try container.decodeIfPresent(Int.self, forKey: .stepSize) ?? stepSize
        gamma = try container.decodeIfPresent(Float.self, forKey: .gamma) ?? gamma
        minimumLearningRate = try container.decodeIfPresent(Float.self, forKey: .minimumLearningRate) ?? minimumLearningRate
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.nonNegative("warmupSteps", warmupSteps)
        try check.positive("stepSize", stepSize)
        try check.range("gamma", gamma, 0...1)
        try check.nonNegative("minimumLearningRate", minimumLearningRate)
    }
}

/// How processes train together when the recipe runs under MPI (ignored in local mode).
public struct DistributedSection: Decodable, RecipeValidatable {
    /// Size of a gradient bucket. Buckets start their allreduce as soon as backward has produced
    /// all their gradients; small buckets start earlier, large ones cost fewer messages. 2 MB was
    /// the better of 1, 2 and 4 MB on the 2-core benchmark machine (BENCHMARKS.md).
    public var bucketMegabytes: Double
    /// Overlap gradient averaging with backward (buckets); `false` averages in one flat allreduce
    /// after backward.
    public var overlap: Bool
    /// Seconds a collective may wait for every rank before the job reports the missing ranks and ends.
    public var collectiveTimeoutSeconds: Double
    /// Batch norm statistics of the whole global batch, summed over processes (synchronized batch
    /// norm), so a model with batch norm trains as in local mode; `false` normalizes each process's
    /// shard by its own statistics (no allreduces in the forward pass, but results then depend on
    /// the number of processes).
    public var syncBatchNorm: Bool

    enum CodingKeys: String, CodingKey, CaseIterable { case bucketMegabytes, overlap, collectiveTimeoutSeconds, syncBatchNorm }

    public init() {
        bucketMegabytes = 2
        overlap = true
        collectiveTimeoutSeconds = 120
        syncBatchNorm = true
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        bucketMegabytes = try container.decodeIfPresent(Double.self, forKey: .bucketMegabytes) ?? bucketMegabytes
        overlap = try container.decodeIfPresent(Bool.self, forKey: .overlap) ?? overlap
        collectiveTimeoutSeconds = try container.decodeIfPresent(Double.self, forKey: .collectiveTimeoutSeconds) ?? collectiveTimeoutSeconds
        syncBatchNorm = try container.decodeIfPresent(Bool.self, forKey: .syncBatchNorm) ?? syncBatchNorm
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.range("bucketMegabytes", bucketMegabytes, 0.01...1024)
        try check.range("collectiveTimeoutSeconds", collectiveTimeoutSeconds, 0.1...86_400)
    }
}

/// Builds the optimizer a recipe's `optimizer` section describes.
public func makeOptimizer(_ section: OptimizerSection, parameters: [(name: String, parameter: Tensor)]) -> any Optimizer {
    switch section.kind {
    case .sgd:
        return SGD(parameters: parameters, learningRate: section.learningRate, momentum: section.momentum,
                   nesterov: section.nesterov, weightDecay: section.weightDecay)
    case .adam:
        return Adam(parameters: parameters, learningRate: section.learningRate, beta1: section.beta1, beta2: section.beta2,
                    epsilon: section.epsilon, weightDecay: section.weightDecay)
    case .adamw:
        return AdamW(parameters: parameters, learningRate: section.learningRate, beta1: section.beta1, beta2: section.beta2,
                     epsilon: section.epsilon, weightDecay: section.weightDecay)
    case .rmsprop:
        return RMSprop(parameters: parameters, learningRate: section.learningRate, epsilon: section.epsilon,
                       weightDecay: section.weightDecay, momentum: section.momentum)
    case .lars:
        return LARS(parameters: parameters, learningRate: section.learningRate, momentum: section.momentum,
                    weightDecay: section.weightDecay)
    }
}

/// Builds the learning-rate schedule of a recipe over `totalSteps`.
public func makeSchedule(_ section: ScheduleSection, learningRate: Float, totalSteps: Int) -> any LearningRateSchedule {
    switch section.kind {
    case .constant:
        return ConstantSchedule(learningRate: learningRate)
    case .step:
        return StepDecaySchedule(baseLearningRate: learningRate, stepSize: section.stepSize, decayFactor: section.gamma)
    case .linear:
        return LinearSchedule(baseLearningRate: learningRate, warmupSteps: section.warmupSteps, totalSteps: totalSteps,
                              finalLearningRate: section.minimumLearningRate)
    case .cosine:
        return CosineSchedule(baseLearningRate: learningRate, warmupSteps: section.warmupSteps, totalSteps: totalSteps,
                              finalLearningRate: section.minimumLearningRate)
    }
}

/// How long a step-trained recipe (transformers, graphs) trains, and how often it logs, evaluates
/// and saves.
public struct StepTrainingSection: Decodable, RecipeValidatable {
    /// Optimisation steps.
    public var steps: Int
    /// Steps between log lines and `metrics.jsonl` records.
    public var logEvery: Int
    /// Steps between held-out evaluations (0: only at the end).
    public var evaluateEvery: Int
    /// Steps between checkpoints (0: only at the end).
    public var checkpointEvery: Int
    /// Step checkpoints kept (the best by the task's accuracy is kept besides).
    public var keepCheckpoints: Int
    /// Largest global gradient norm before clipping (0: no clipping). Transformers usually clip at 1 (the default).
    public var gradientClipNorm: Float
    /// Cuts every global batch into this many shards, each differentiated on its own (an ODE
    /// shard takes its own adaptive steps), their gradients added in shard order. A run in one
    /// process and one with `--np` equal to it then agree bit for bit (every process takes one
    /// shard); 1 (the default) gives each process its share of the batch, which agrees with one
    /// process to float rounding only, and that rounding can grow over a long run.
    public var batchShards: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case steps, logEvery, evaluateEvery, checkpointEvery, keepCheckpoints, gradientClipNorm, batchShards
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        steps = try container.decode(Int.self, forKey: .steps)
        logEvery = try container.decodeIfPresent(Int.self, forKey: .logEvery) ?? 50
        evaluateEvery = try container.decodeIfPresent(Int.self, forKey: .evaluateEvery) ?? 0
        checkpointEvery = try container.decodeIfPresent(Int.self, forKey: .checkpointEvery) ?? 0
        keepCheckpoints = try container.decodeIfPresent(Int.self, forKey: .keepCheckpoints) ?? 3
        gradientClipNorm = try container.decodeIfPresent(Float.self, forKey: .gradientClipNorm) ?? 1
        batchShards = try container.decodeIfPresent(Int.self, forKey: .batchShards) ?? 1
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.positive("steps", steps)
        try check.positive("logEvery", logEvery)
        try check.nonNegative("evaluateEvery", evaluateEvery)
        try check.nonNegative("checkpointEvery", checkpointEvery)
        try check.positive("keepCheckpoints", keepCheckpoints)
        try check.nonNegative("gradientClipNorm", gradientClipNorm)
        try check.positive("batchShards", batchShards)
    }
}
