import TesseraConfig
import TesseraNN
import TesseraODE

/// A neural-ODE recipe (`task: ode`). `data.source` picks the problem, `model.kind` the network,
/// `solver` how its ODE is integrated and differentiated:
///
/// - `node` / `anode` — an `ODEBlock` (augmented with `model.augmentedDimensions` zeros for
///   `anode`; Dupont et al., 2019) between an optional linear projection and a linear head, or read
///   straight off the final state (`head: state`). Classifies `spirals`, `moons`, `circles` and
///   `digits` (cross entropy), or regresses `reflection`, Dupont's `g(x) = −x` (squared error);
/// - `ffjord` — a continuous normalizing flow (Grathwohl et al., 2019) fitted to the points of a
///   2-D source by maximum likelihood; the held-out log-likelihood is the metric and
///   `density.png` the learned density.
///
/// ```yaml
/// task: ode
/// name: ode-spirals
/// data: {source: spirals, count: 1000, noise: 0.05, batchSize: 128}
/// model: {kind: node, hiddenSizes: [64, 64]}
/// solver: {method: dopri5, rtol: 0.001, atol: 0.0001, gradient: adjoint}
/// optimizer: {kind: adam, learningRate: 0.01}
/// training: {steps: 400, evaluateEvery: 50}
/// ```
public struct ODERecipe: StepRecipe, Decodable, RecipeValidatable {
    /// Always `ode`.
    public var task: String
    public var name: String
    public var seed: UInt64
    public var data: ODEDataSection
    public var model: ODEModelSection
    public var solver: ODESolverSection
    public var optimizer: OptimizerSection
    public var schedule: ScheduleSection
    public var training: StepTrainingSection
    /// With several processes each takes its `BatchShard` of every step's batch and solves its
    /// rows; adaptive solvers sum their error norms over the processes, so every process takes
    /// the steps one process would take for the whole batch, and the losses are one process's to
    /// float rounding (the gradient allreduce's and the norms' order of additions).
    public var distributed: DistributedSection

    enum CodingKeys: String, CodingKey, CaseIterable {
        case task, name, seed, data, model, solver, optimizer, schedule, training, distributed
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        task = try container.decode(String.self, forKey: .task)
        name = try container.decode(String.self, forKey: .name)
        seed = try container.decodeIfPresent(UInt64.self, forKey: .seed) ?? 0
        data = try container.decode(ODEDataSection.self, forKey: .data)
        model = try container.decode(ODEModelSection.self, forKey: .model)
        solver = try container.decodeIfPresent(ODESolverSection.self, forKey: .solver) ?? ODESolverSection()
        optimizer = try container.decode(OptimizerSection.self, forKey: .optimizer)
        schedule = try container.decodeIfPresent(ScheduleSection.self, forKey: .schedule) ?? ScheduleSection()
        training = try container.decode(StepTrainingSection.self, forKey: .training)
        distributed = try container.decodeIfPresent(DistributedSection.self, forKey: .distributed) ?? DistributedSection()
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.that(task == ODETasks.taskName, "task", "must be \(ODETasks.taskName), found '\(task)'")
        try check.that(!name.isEmpty && !name.contains("/"), "name", "must be a non-empty name without '/', found '\(name)'")
        let features = data.source.featureCount
        if let width = model.inputFeatures {
            try check.that(width == features, "model.inputFeatures",
                           "source \(data.source.rawValue) has \(features) feature\(features == 1 ? "" : "s") per example, found \(width)")
        }
        if model.kind == .ffjord {
            try check.that(data.source.isPlanar, "data.source",
                           "ffjord fits a density to 2-D points (spirals, moons, circles), found '\(data.source.rawValue)'")
        } else {
            try check.that(model.kind == .anode || model.augmentedDimensions == 0, "model.augmentedDimensions",
                           "augments only kind anode (a node keeps the input's width), found \(model.augmentedDimensions)")
        }
        if model.head == .state {
            try check.that(model.projectionWidth == 0, "model.projectionWidth",
                           "head state reads the final state itself, so there is no projection to undo; use 0, found \(model.projectionWidth)")
            try check.that(data.source.outputCount <= features, "model.head",
                           "state reads \(data.source.outputCount) outputs off a state of \(features) input features; use linear")
        }
        try check.that(schedule.kind == .constant || schedule.kind == .step || schedule.warmupSteps < training.steps,
                       "schedule.warmupSteps", "must be smaller than training.steps (\(training.steps)), found \(schedule.warmupSteps)")
    }
}

/// Which examples, how many, and how they are split and batched.
public struct ODEDataSection: Decodable, RecipeValidatable {
    public enum Source: String, Decodable, CaseIterable {
        /// Two interleaved spiral arms (`SyntheticPoints.spirals`), classified.
        case spirals
        /// Two interleaving half circles, classified (or their density, for ffjord).
        case moons
        /// Two concentric circles, classified: no homeomorphism of the plane separates them linearly.
        case circles
        /// The bundled 8×8 digits as 64 pixels, classified.
        case digits
        /// `x ~ U[−1, 1]` regressed onto `−x`: a 1-D map no plain neural ODE can fit.
        case reflection

        /// Features of one example.
        public var featureCount: Int {
            switch self {
            case .digits: return 64
            case .reflection: return 1
            case .spirals, .moons, .circles: return 2
            }
        }

        /// Classes (or regression targets) of the supervised task.
        public var outputCount: Int {
            switch self {
            case .digits: return 10
            case .reflection: return 1
            case .spirals, .moons, .circles: return 2
            }
        }

        public var isPlanar: Bool { featureCount == 2 }
    }

    public var source: Source
    /// Generated sources: how many points (ignored for digits, which has 1,797).
    public var count: Int
    /// Generated sources: standard deviation of the Gaussian noise on every point.
    public var noise: Float
    /// Spirals: turns of each arm around the origin.
    public var turns: Float
    /// Circles: the inner circle's radius (the outer one's is 1).
    public var factor: Float
    /// The share of the examples held out for testing (stratified by class).
    public var testFraction: Double
    /// Examples per step (the global batch, shared out among the processes).
    public var batchSize: Int

    enum CodingKeys: String, CodingKey, CaseIterable { case source, count, noise, turns, factor, testFraction, batchSize }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        source = try container.decode(Source.self, forKey: .source)
        count = try container.decodeIfPresent(Int.self, forKey: .count) ?? 1000
        noise = try container.decodeIfPresent(Float.self, forKey: .noise) ?? 0.05
        turns = try container.decodeIfPresent(Float.self, forKey: .turns) ?? 1
        factor = try container.decodeIfPresent(Float.self, forKey: .factor) ?? 0.5
        testFraction = try container.decodeIfPresent(Double.self, forKey: .testFraction) ?? 0.2
        batchSize = try container.decodeIfPresent(Int.self, forKey: .batchSize) ?? 128
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.range("count", count, 10...1_000_000)
        try check.range("noise", noise, 0...10)
        try check.range("turns", turns, 0.1...10)
        try check.that(factor > 0 && factor < 1, "factor", "must lie strictly between 0 and 1 (the outer circle's radius), found \(factor)")
        try check.range("testFraction", testFraction, 0.05...0.9)
        try check.positive("batchSize", batchSize)
    }
}

/// The network around the ODE.
public struct ODEModelSection: Decodable, RecipeValidatable {
    public enum Kind: String, Decodable, CaseIterable {
        /// A neural ODE block (Chen et al., 2018).
        case node
        /// An augmented neural ODE block (Dupont et al., 2019).
        case anode
        /// A continuous normalizing flow (Grathwohl et al., 2019).
        case ffjord
    }

    /// How the outputs are read off the final state.
    public enum Head: String, Decodable, CaseIterable {
        /// A linear layer from the whole final state (Dupont et al.'s models).
        case linear
        /// The first outputs of the final state as they are: the ODE alone must fit the targets
        /// (Dupont et al.'s 1-D reflection experiment, where a linear head would fit `−x` by itself).
        case state
    }

    public var kind: Kind
    /// When given, must equal the source's features per example: a check that the recipe and the
    /// data agree, not a setting.
    public var inputFeatures: Int?
    /// Width of a linear layer applied before the ODE block (the digits' 64 pixels to a smaller
    /// state, as a ResNet's stem); 0: the block runs on the input.
    public var projectionWidth: Int
    /// Zeros appended to the state (anode only).
    public var augmentedDimensions: Int
    /// Hidden sizes of the vector field's MLP.
    public var hiddenSizes: [Int]
    /// The field's activation: smooth, so adaptive solvers take few steps.
    public var activation: Activation
    /// Feed the time to the field as an extra input.
    public var timeDependent: Bool
    /// The ODE runs from 0 to this time.
    public var endTime: Float
    public var head: Head
    /// ffjord: the trace of the Jacobian exactly (2-D: two products per evaluation) or by
    /// Hutchinson's estimator.
    public var trace: TraceEstimator

    enum CodingKeys: String, CodingKey, CaseIterable {
        case kind, inputFeatures, projectionWidth, augmentedDimensions, hiddenSizes, activation, timeDependent, endTime, head, trace
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(Kind.self, forKey: .kind)
        inputFeatures = try container.decodeIfPresent(Int.self, forKey: .inputFeatures)
        projectionWidth = try container.decodeIfPresent(Int.self, forKey: .projectionWidth) ?? 0
        augmentedDimensions = try container.decodeIfPresent(Int.self, forKey: .augmentedDimensions) ?? (kind == .anode ? 1 : 0)
        hiddenSizes = try container.decodeIfPresent([Int].self, forKey: .hiddenSizes) ?? [32]
        activation = try container.decodeIfPresent(Activation.self, forKey: .activation) ?? .tanh
        timeDependent = try container.decodeIfPresent(Bool.self, forKey: .timeDependent) ?? true
        endTime = try container.decodeIfPresent(Float.self, forKey: .endTime) ?? 1
        head = try container.decodeIfPresent(Head.self, forKey: .head) ?? .linear
        trace = try container.decodeIfPresent(TraceEstimator.self, forKey: .trace) ?? .exact
    }

    public func validate(_ check: RecipeValidator) throws {
        if let inputFeatures { try check.positive("inputFeatures", inputFeatures) }
        try check.nonNegative("projectionWidth", projectionWidth)
        try check.range("augmentedDimensions", augmentedDimensions, 0...1024)
        try check.nonEmpty("hiddenSizes", hiddenSizes)
        try check.that(hiddenSizes.allSatisfy { $0 > 0 }, "hiddenSizes", "every width must be positive, found \(hiddenSizes)")
        try check.that(endTime > 0 && endTime.isFinite, "endTime", "must be a positive time (the ODE runs from 0 to it), found \(endTime)")
    }
}

/// How the ODE is solved and differentiated (`ODESolverOptions`' fields, by their names).
public struct ODESolverSection: Decodable, RecipeValidatable {
    public enum Gradient: String, Decodable, CaseIterable {
        /// The adjoint method: memory flat in the number of steps.
        case adjoint
        /// Backpropagation through every solver step.
        case direct
    }

    public var method: ODEMethod
    /// dopri5: relative and absolute error per step (`rtol`, `atol` are accepted as the short names).
    public var relativeTolerance: Float
    public var absoluteTolerance: Float
    /// Fixed-step methods: the largest step (nil: one step from 0 to the end time).
    public var stepSize: Float?
    /// The most steps one solve may take before it fails.
    public var maximumSteps: Int
    public var gradient: Gradient
    /// The names the recipe gave the tolerances (for messages).
    private var toleranceKeys = (relative: "relativeTolerance", absolute: "absoluteTolerance")

    enum CodingKeys: String, CodingKey, CaseIterable {
        case method, relativeTolerance, absoluteTolerance, rtol, atol, stepSize, maximumSteps, gradient
    }

    public init() {
        method = .dopri5
        relativeTolerance = 1e-3
        absoluteTolerance = 1e-4
        stepSize = nil
        maximumSteps = 1000
        gradient = .adjoint
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        method = try container.decodeIfPresent(ODEMethod.self, forKey: .method) ?? method
        for (long, short) in [(CodingKeys.relativeTolerance, CodingKeys.rtol), (.absoluteTolerance, .atol)]
        where container.contains(long) && container.contains(short) {
            throw DecodingError.dataCorruptedError(forKey: short, in: container,
                                                   debugDescription: "\(short.rawValue) is the short name of \(long.rawValue); give one of them")
        }
        if container.contains(.rtol) { toleranceKeys.relative = "rtol" }
        if container.contains(.atol) { toleranceKeys.absolute = "atol" }
        relativeTolerance = try container.decodeIfPresent(Float.self, forKey: .relativeTolerance)
            ?? container.decodeIfPresent(Float.self, forKey: .rtol) ?? relativeTolerance
        absoluteTolerance = try container.decodeIfPresent(Float.self, forKey: .absoluteTolerance)
            ?? container.decodeIfPresent(Float.self, forKey: .atol) ?? absoluteTolerance
        stepSize = try container.decodeIfPresent(Float.self, forKey: .stepSize)
        maximumSteps = try container.decodeIfPresent(Int.self, forKey: .maximumSteps) ?? maximumSteps
        gradient = try container.decodeIfPresent(Gradient.self, forKey: .gradient) ?? gradient
    }

    public func validate(_ check: RecipeValidator) throws {
        // Whichever name the recipe used is the key the message names.
        let (relativeKey, absoluteKey) = toleranceKeys
        try check.that(relativeTolerance > 0 && relativeTolerance < 1, relativeKey,
                       "must be a relative error per step in (0, 1), found \(relativeTolerance)")
        try check.that(absoluteTolerance > 0 && absoluteTolerance.isFinite, absoluteKey,
                       "must be a positive absolute error per step, found \(absoluteTolerance)")
        if let stepSize {
            try check.that(!method.isAdaptive, "stepSize", "is for the fixed-step methods; \(method.rawValue) picks its own steps")
            try check.that(stepSize > 0 && stepSize.isFinite, "stepSize", "must be a positive step, found \(stepSize)")
        }
        try check.range("maximumSteps", maximumSteps, 1...1_000_000)
    }

    /// The solver options these settings describe.
    public var options: ODESolverOptions {
        var options = ODESolverOptions(method: method)
        options.relativeTolerance = relativeTolerance
        options.absoluteTolerance = absoluteTolerance
        options.stepSize = stepSize
        options.maximumSteps = maximumSteps
        return options
    }
}
