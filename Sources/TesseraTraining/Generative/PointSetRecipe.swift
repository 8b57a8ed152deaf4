import TesseraConfig
import TesseraGenerative

/// A G-SchNet recipe (`task: generative`, `model.kind: gschnet`): autoregressive generation of
/// small typed point sets, "molecules" drawn from `MoleculeTemplates` (a bent triatomic, a
/// triangle, a square and a chain, rotated and jittered), atom by atom (Gebauer, Gastegger &
/// Schütt, NeurIPS 2019). Trained by maximum likelihood of the placements; every evaluation
/// samples `evaluation.samples` sets and scores the share that are valid (one of the templates,
/// within `evaluation.tolerance`) and the total variation distance between their pairwise-distance
/// and atom-type histograms and the training sets', against two baselines that place the same
/// atoms without a model.
///
/// ```yaml
/// task: generative
/// name: generative-gschnet-molecules
/// data: {trainSets: 1024, batchSize: 32}
/// model: {kind: gschnet, features: 32, interactions: 2}
/// evaluation: {samples: 200}
/// optimizer: {kind: adam, learningRate: 0.001}
/// training: {steps: 3000, evaluateEvery: 1000, batchShards: 2}
/// ```
public struct PointSetRecipe: StepRecipe, Decodable, RecipeValidatable {
    /// Always `generative`.
    public var task: String
    public var name: String
    public var seed: UInt64
    public var data: PointSetDataSection
    public var model: PointSetModelSection
    public var evaluation: PointSetEvaluationSection
    public var optimizer: OptimizerSection
    public var schedule: ScheduleSection
    public var training: StepTrainingSection
    /// With several processes each takes its `BatchShard` of every step's batch of sets; nothing
    /// in the model couples the sets of a batch, so the processes train as one.
    public var distributed: DistributedSection

    enum CodingKeys: String, CodingKey, CaseIterable {
        case task, name, seed, data, model, evaluation, optimizer, schedule, training, distributed
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        task = try container.decode(String.self, forKey: .task)
        name = try container.decode(String.self, forKey: .name)
        seed = try container.decodeIfPresent(UInt64.self, forKey: .seed) ?? 0
        data = try container.decodeIfPresent(PointSetDataSection.self, forKey: .data) ?? PointSetDataSection()
        model = try container.decode(PointSetModelSection.self, forKey: .model)
        evaluation = try container.decodeIfPresent(PointSetEvaluationSection.self, forKey: .evaluation) ?? PointSetEvaluationSection()
        optimizer = try container.decode(OptimizerSection.self, forKey: .optimizer)
        schedule = try container.decodeIfPresent(ScheduleSection.self, forKey: .schedule) ?? ScheduleSection()
        training = try container.decode(StepTrainingSection.self, forKey: .training)
        distributed = try container.decodeIfPresent(DistributedSection.self, forKey: .distributed) ?? DistributedSection()
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.that(task == GenerativeTasks.taskName, "task", "must be \(GenerativeTasks.taskName), found '\(task)'")
        try check.that(!name.isEmpty && !name.contains("/"), "name", "must be a non-empty name without '/', found '\(name)'")
        // The chain of four spans 3 bond lengths from its first atom, which sampling puts at the origin.
        try check.that(model.gridExtent >= 3, "model.gridExtent",
                       "the sampling grid must reach 3 bond lengths from the first atom (the chain of four spans 3), found \(model.gridExtent)")
        try check.that(model.maximumAtoms >= 4, "model.maximumAtoms",
                       "the largest template has 4 atoms, so sampling must allow at least 4, found \(model.maximumAtoms)")
        try check.that(schedule.kind == .constant || schedule.kind == .step || schedule.warmupSteps < training.steps,
                       "schedule.warmupSteps", "must be smaller than training.steps (\(training.steps)), found \(schedule.warmupSteps)")
    }

    /// Whether a generative recipe is a point-set one (`model.kind: gschnet`) rather than a digits one.
    static func handles(_ recipe: Recipe) -> Bool {
        recipe.root.mapping?["model"]?.mapping?["kind"]?.string == PointSetModelSection.kind
    }
}

/// The generated molecules: how many, how noisy, how batched.
public struct PointSetDataSection: Decodable, RecipeValidatable {
    /// Training sets drawn once from the seed (each a uniformly chosen template, rotated and jittered).
    public var trainSets: Int
    /// Held-out sets of the test likelihood, from a stream of their own.
    public var testSets: Int
    /// Standard deviation of the jitter of every coordinate, in bond lengths.
    public var noise: Float
    /// Sets per step (the global batch, shared out among the processes).
    public var batchSize: Int

    enum CodingKeys: String, CodingKey, CaseIterable { case trainSets, testSets, noise, batchSize }

    public init() {
        trainSets = 1024
        testSets = 256
        noise = 0.02
        batchSize = 32
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        trainSets = try container.decodeIfPresent(Int.self, forKey: .trainSets) ?? trainSets
        testSets = try container.decodeIfPresent(Int.self, forKey: .testSets) ?? testSets
        noise = try container.decodeIfPresent(Float.self, forKey: .noise) ?? noise
        batchSize = try container.decodeIfPresent(Int.self, forKey: .batchSize) ?? batchSize
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.range("trainSets", trainSets, 1...1_000_000)
        try check.range("testSets", testSets, 1...1_000_000)
        try check.range("noise", noise, 0...0.5)
        try check.positive("batchSize", batchSize)
    }
}

/// `GSchNetConfig`'s fields, by name (the atom types are the templates' 3).
public struct PointSetModelSection: Decodable, RecipeValidatable {
    static let kind = "gschnet"

    /// Always `gschnet`.
    public var kind: String
    /// Atom feature size.
    public var features: Int
    /// Interaction blocks (continuous-filter convolution and a residual update).
    public var interactions: Int
    /// Radial basis functions of the filters, evenly over `[0, cutoff]`.
    public var basisCount: Int
    public var cutoff: Float
    /// Bins of each placed atom's distribution over its distance to the next, over `[0, maximumDistance]`.
    public var distanceBins: Int
    public var maximumDistance: Float
    /// Width of the Gaussian that spreads a true distance over the bins in the training target.
    public var distanceSmoothing: Float
    /// Spacing and half-width of the 2-D grid the next atom's position is sampled on.
    public var gridSpacing: Float
    public var gridExtent: Float
    /// Sampling stops at this many atoms even without a stop token.
    public var maximumAtoms: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case kind, features, interactions, basisCount, cutoff, distanceBins, maximumDistance, distanceSmoothing
        case gridSpacing, gridExtent, maximumAtoms
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = GSchNetConfig(typeCount: MoleculeTemplates.typeCount)
        kind = try container.decode(String.self, forKey: .kind)
        features = try container.decodeIfPresent(Int.self, forKey: .features) ?? defaults.features
        interactions = try container.decodeIfPresent(Int.self, forKey: .interactions) ?? defaults.interactions
        basisCount = try container.decodeIfPresent(Int.self, forKey: .basisCount) ?? defaults.basisCount
        cutoff = try container.decodeIfPresent(Float.self, forKey: .cutoff) ?? defaults.cutoff
        distanceBins = try container.decodeIfPresent(Int.self, forKey: .distanceBins) ?? defaults.distanceBins
        maximumDistance = try container.decodeIfPresent(Float.self, forKey: .maximumDistance) ?? defaults.maximumDistance
        distanceSmoothing = try container.decodeIfPresent(Float.self, forKey: .distanceSmoothing) ?? defaults.distanceSmoothing
        gridSpacing = try container.decodeIfPresent(Float.self, forKey: .gridSpacing) ?? defaults.gridSpacing
        gridExtent = try container.decodeIfPresent(Float.self, forKey: .gridExtent) ?? defaults.gridExtent
        maximumAtoms = try container.decodeIfPresent(Int.self, forKey: .maximumAtoms) ?? defaults.maximumAtoms
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.that(kind == Self.kind, "kind", "must be \(Self.kind) in a point-set recipe, found '\(kind)'")
        try check.range("features", features, 1...1024)
        try check.range("interactions", interactions, 0...16)
        try check.range("basisCount", basisCount, 2...256)
        try check.that(cutoff > 0 && cutoff.isFinite, "cutoff", "must be positive and finite, found \(cutoff)")
        try check.range("distanceBins", distanceBins, 2...1024)
        try check.that(maximumDistance > 0 && maximumDistance.isFinite, "maximumDistance", "must be positive and finite, found \(maximumDistance)")
        try check.that(distanceSmoothing > 0 && distanceSmoothing.isFinite, "distanceSmoothing", "must be positive and finite, found \(distanceSmoothing)")
        try check.that(gridSpacing > 0 && gridSpacing <= 0.5, "gridSpacing", "must lie in (0, 0.5] bond lengths, found \(gridSpacing)")
        try check.range("maximumAtoms", maximumAtoms, 1...64)
    }

    var config: GSchNetConfig {
        var config = GSchNetConfig(typeCount: MoleculeTemplates.typeCount)
        config.features = features
        config.interactions = interactions
        config.basisCount = basisCount
        config.cutoff = cutoff
        config.distanceBins = distanceBins
        config.maximumDistance = maximumDistance
        config.distanceSmoothing = distanceSmoothing
        config.gridSpacing = gridSpacing
        config.gridExtent = gridExtent
        config.maximumAtoms = maximumAtoms
        return config
    }
}

/// What every evaluation measures besides the test likelihood.
public struct PointSetEvaluationSection: Decodable, RecipeValidatable {
    /// Sets sampled at every evaluation (and by each baseline); the first 24 make `samples.png`.
    public var samples: Int
    /// Sampling temperature: the type and position log-probabilities are divided by it.
    public var temperature: Float
    /// How far each sorted pairwise distance may lie from its template's for a set to be valid.
    public var tolerance: Float
    /// Bins of the pairwise-distance histogram, evenly over `[0, 4)` bond lengths.
    public var histogramBins: Int

    enum CodingKeys: String, CodingKey, CaseIterable { case samples, temperature, tolerance, histogramBins }

    public init() {
        samples = 200
        temperature = 1
        tolerance = 0.1
        histogramBins = 40
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        samples = try container.decodeIfPresent(Int.self, forKey: .samples) ?? samples
        temperature = try container.decodeIfPresent(Float.self, forKey: .temperature) ?? temperature
        tolerance = try container.decodeIfPresent(Float.self, forKey: .tolerance) ?? tolerance
        histogramBins = try container.decodeIfPresent(Int.self, forKey: .histogramBins) ?? histogramBins
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.range("samples", samples, 1...100_000)
        try check.that(temperature > 0 && temperature.isFinite, "temperature", "must be positive and finite, found \(temperature)")
        try check.that(tolerance > 0 && tolerance < 1, "tolerance", "must lie in (0, 1) bond lengths, found \(tolerance)")
        try check.range("histogramBins", histogramBins, 2...1000)
    }
}
