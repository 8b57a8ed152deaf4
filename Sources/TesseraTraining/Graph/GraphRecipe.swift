import TesseraConfig
import TesseraNN

/// A graph network recipe (`task: graph`). `data.source` picks the problem and with it whether
/// nodes or whole graphs are classified (or regressed); `model.kind` picks the network:
///
/// - node tasks — `karate` (Zachary's club, one labelled member per faction), `citation` (the
///   generated stochastic-block citation graph, Planetoid split) and `edgeList` (your own
///   `data.edgesPath` and `data.labelsPath`, one-hot node features): the whole graph goes through
///   the network every step and the loss counts the labelled training nodes;
/// - graph tasks — `cycles` (cycles against chorded paths, classification) and `triangles`
///   (G(n, p) graphs, regression of the triangle count): each step trains on a batch of graphs.
///
/// ```yaml
/// task: graph
/// name: gcn-citation
/// data: {source: citation, trainPerClass: 20}
/// model: {kind: gcn, hiddenSizes: [32], dropout: 0.5}
/// optimizer: {kind: adam, learningRate: 0.01, weightDecay: 0.0005}
/// training: {steps: 200, evaluateEvery: 20}
/// ```
public struct GraphRecipe: StepRecipe, Decodable, RecipeValidatable {
    /// Always `graph`.
    public var task: String
    public var name: String
    public var seed: UInt64
    public var data: GraphDataSection
    public var model: GraphModelSection
    public var optimizer: OptimizerSection
    public var schedule: ScheduleSection
    public var training: StepTrainingSection
    /// With several processes, graph tasks shard each batch's graphs and node tasks shard the
    /// labelled nodes of the loss (every process runs the whole graph forward).
    public var distributed: DistributedSection

    enum CodingKeys: String, CodingKey, CaseIterable {
        case task, name, seed, data, model, optimizer, schedule, training, distributed
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        task = try container.decode(String.self, forKey: .task)
        name = try container.decode(String.self, forKey: .name)
        seed = try container.decodeIfPresent(UInt64.self, forKey: .seed) ?? 0
        data = try container.decode(GraphDataSection.self, forKey: .data)
        model = try container.decode(GraphModelSection.self, forKey: .model)
        optimizer = try container.decode(OptimizerSection.self, forKey: .optimizer)
        schedule = try container.decodeIfPresent(ScheduleSection.self, forKey: .schedule) ?? ScheduleSection()
        training = try container.decode(StepTrainingSection.self, forKey: .training)
        distributed = try container.decodeIfPresent(DistributedSection.self, forKey: .distributed) ?? DistributedSection()
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.that(task == GraphTasks.taskName, "task", "must be \(GraphTasks.taskName), found '\(task)'")
        try check.that(!name.isEmpty && !name.contains("/"), "name", "must be a non-empty name without '/', found '\(name)'")
        let graphKinds: [GraphModelSection.Kind] = [.gin, .gcn, .gat]
        if data.source.isGraphTask {
            try check.that(graphKinds.contains(model.kind), "model.kind",
                           "source \(data.source.rawValue) classifies whole graphs; use \(graphKinds.map(\.rawValue).joined(separator: ", ")), found '\(model.kind.rawValue)'")
        }
        try check.that(schedule.kind == .constant || schedule.kind == .step || schedule.warmupSteps < training.steps,
                       "schedule.warmupSteps", "must be smaller than training.steps (\(training.steps)), found \(schedule.warmupSteps)")
    }
}

/// Which graph, or which graphs, and how they are split.
public struct GraphDataSection: Decodable, RecipeValidatable {
    public enum Source: String, Decodable, CaseIterable {
        case karate, citation, edgeList, cycles, triangles
        /// Whether examples are whole graphs (else nodes of one graph).
        public var isGraphTask: Bool { self == .cycles || self == .triangles }
    }

    public var source: Source
    /// `edgeList`: the edge list CSV (`source,target[,weight]`) and the label CSV (`node,…,label`).
    public var edgesPath: String?
    public var labelsPath: String?
    /// Node tasks: labelled training nodes per class (Planetoid: 20). The karate club always
    /// trains on the two faction leaders, one per faction, as in Kipf & Welling's demo.
    public var trainPerClass: Int
    /// Node tasks: nodes held out for validation (not trained on, not tested).
    public var validationNodes: Int
    /// Citation graph: classes, nodes per class, expected same-class and other-class neighbours,
    /// vocabulary, words per node and the chance a word comes from the class's topic.
    public var classCount: Int
    public var nodesPerClass: Int
    public var intraDegree: Double
    public var interDegree: Double
    public var vocabularySize: Int
    public var wordsPerNode: Int
    public var topicProbability: Double
    /// Graph tasks: how many graphs, their sizes, the share held out, and graphs per step (the
    /// global batch, shared out among the processes).
    public var graphCount: Int
    public var minimumNodes: Int
    public var maximumNodes: Int
    public var testFraction: Double
    public var batchSize: Int
    /// Triangle counting: the edge probability of G(n, p).
    public var edgeProbability: Double

    enum CodingKeys: String, CodingKey, CaseIterable {
        case source, edgesPath, labelsPath, trainPerClass, validationNodes, classCount, nodesPerClass, intraDegree, interDegree
        case vocabularySize, wordsPerNode, topicProbability, graphCount, minimumNodes, maximumNodes, testFraction, batchSize
        case edgeProbability
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        source = try container.decode(Source.self, forKey: .source)
        edgesPath = try container.decodeIfPresent(String.self, forKey: .edgesPath)
        labelsPath = try container.decodeIfPresent(String.self, forKey: .labelsPath)
        trainPerClass = try container.decodeIfPresent(Int.self, forKey: .trainPerClass) ?? 20
        validationNodes = try container.decodeIfPresent(Int.self, forKey: .validationNodes) ?? 200
        classCount = try container.decodeIfPresent(Int.self, forKey: .classCount) ?? 5
        nodesPerClass = try container.decodeIfPresent(Int.self, forKey: .nodesPerClass) ?? 200
        intraDegree = try container.decodeIfPresent(Double.self, forKey: .intraDegree) ?? 5
        interDegree = try container.decodeIfPresent(Double.self, forKey: .interDegree) ?? 1
        vocabularySize = try container.decodeIfPresent(Int.self, forKey: .vocabularySize) ?? 250
        wordsPerNode = try container.decodeIfPresent(Int.self, forKey: .wordsPerNode) ?? 20
        topicProbability = try container.decodeIfPresent(Double.self, forKey: .topicProbability) ?? 0.15
        graphCount = try container.decodeIfPresent(Int.self, forKey: .graphCount) ?? 600
        minimumNodes = try container.decodeIfPresent(Int.self, forKey: .minimumNodes) ?? 8
        maximumNodes = try container.decodeIfPresent(Int.self, forKey: .maximumNodes) ?? 20
        testFraction = try container.decodeIfPresent(Double.self, forKey: .testFraction) ?? 0.25
        batchSize = try container.decodeIfPresent(Int.self, forKey: .batchSize) ?? 32
        edgeProbability = try container.decodeIfPresent(Double.self, forKey: .edgeProbability) ?? 0.25
    }

    public func validate(_ check: RecipeValidator) throws {
        if source == .edgeList {
            try check.that(!(edgesPath ?? "").isEmpty, "edgesPath", "source edgeList needs the edge list CSV in data.edgesPath")
            try check.that(!(labelsPath ?? "").isEmpty, "labelsPath", "source edgeList needs the node label CSV in data.labelsPath")
        } else {
            try check.that(edgesPath == nil, "edgesPath", "is read only with source edgeList, but source is \(source.rawValue)")
            try check.that(labelsPath == nil, "labelsPath", "is read only with source edgeList, but source is \(source.rawValue)")
        }
        try check.positive("trainPerClass", trainPerClass)
        try check.nonNegative("validationNodes", validationNodes)
        try check.range("classCount", classCount, 2...100)
        try check.range("nodesPerClass", nodesPerClass, 2...100_000)
        try check.nonNegative("intraDegree", intraDegree)
        try check.nonNegative("interDegree", interDegree)
        try check.that(vocabularySize >= classCount, "vocabularySize", "needs at least one word per class (\(classCount)), found \(vocabularySize)")
        try check.positive("wordsPerNode", wordsPerNode)
        try check.range("topicProbability", topicProbability, 0...1)
        try check.range("graphCount", graphCount, 4...1_000_000)
        try check.range("minimumNodes", minimumNodes, 4...10_000)
        try check.that(maximumNodes >= minimumNodes, "maximumNodes", "must be at least minimumNodes (\(minimumNodes)), found \(maximumNodes)")
        try check.range("testFraction", testFraction, 0.05...0.9)
        try check.positive("batchSize", batchSize)
        try check.range("edgeProbability", edgeProbability, 0.01...1)
    }
}

/// The network. Hidden layers of `kind` with `activation` (and dropout) between them; node tasks
/// end in a layer of the same kind with one output per class (or, with `linearHead`, in a linear
/// layer on the last hidden representation — the karate demo's 2-D embedding); graph tasks pool
/// every layer's node states per graph and read them out with an MLP.
public struct GraphModelSection: Decodable, RecipeValidatable {
    public enum Kind: String, Decodable, CaseIterable {
        /// Kipf & Welling's graph convolution.
        case gcn
        /// Graph attention (Veličković et al.).
        case gat
        /// Graph isomorphism network (Xu et al.).
        case gin
        /// Chebyshev spectral filters (Defferrard et al.).
        case chebyshev
        /// Scarselli et al.'s graph neural network: one contraction iterated to its fixed point.
        case contraction
        /// The same features without the graph: the baseline that shows the edges matter.
        case mlp
    }

    public var kind: Kind
    public var hiddenSizes: [Int]
    public var activation: Activation
    public var dropout: Float
    /// Node tasks: a linear classifier on the last hidden layer instead of a final graph layer.
    public var linearHead: Bool
    /// GAT: attention heads of the hidden layers (concatenated) — the output layer has one.
    public var headCount: Int
    /// Chebyshev: polynomial terms per layer (K).
    public var chebyshevOrder: Int
    /// Graph tasks: `sum`, `mean` or `max` pooling of node states per graph.
    public var readout: String
    /// Contraction GNN: state width, the bound on the transition's Lipschitz constant, the
    /// fixed-point tolerance and iteration limit.
    public var stateSize: Int
    public var contractionFactor: Float
    public var tolerance: Float
    public var maximumIterations: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case kind, hiddenSizes, activation, dropout, linearHead, headCount, chebyshevOrder, readout
        case stateSize, contractionFactor, tolerance, maximumIterations
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(Kind.self, forKey: .kind)
        hiddenSizes = try container.decodeIfPresent([Int].self, forKey: .hiddenSizes) ?? [16]
        activation = try container.decodeIfPresent(Activation.self, forKey: .activation) ?? .relu
        dropout = try container.decodeIfPresent(Float.self, forKey: .dropout) ?? 0
        linearHead = try container.decodeIfPresent(Bool.self, forKey: .linearHead) ?? false
        headCount = try container.decodeIfPresent(Int.self, forKey: .headCount) ?? 4
        chebyshevOrder = try container.decodeIfPresent(Int.self, forKey: .chebyshevOrder) ?? 3
        readout = try container.decodeIfPresent(String.self, forKey: .readout) ?? "sum"
        stateSize = try container.decodeIfPresent(Int.self, forKey: .stateSize) ?? 16
        contractionFactor = try container.decodeIfPresent(Float.self, forKey: .contractionFactor) ?? 0.9
        tolerance = try container.decodeIfPresent(Float.self, forKey: .tolerance) ?? 1e-5
        maximumIterations = try container.decodeIfPresent(Int.self, forKey: .maximumIterations) ?? 200
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.nonEmpty("hiddenSizes", hiddenSizes)
        try check.that(hiddenSizes.allSatisfy { $0 > 0 }, "hiddenSizes", "every width must be positive, found \(hiddenSizes)")
        try check.range("dropout", dropout, 0...0.9)
        try check.range("headCount", headCount, 1...64)
        // A GAT hidden layer concatenates headCount heads of equal width.
        try check.that(kind != .gat || hiddenSizes.allSatisfy { $0 % headCount == 0 }, "hiddenSizes",
                       "GAT splits every hidden width into headCount (\(headCount)) heads; \(hiddenSizes.filter { $0 % headCount != 0 }) do not divide")
        try check.range("chebyshevOrder", chebyshevOrder, 1...20)
        try check.that(["sum", "mean", "max"].contains(readout), "readout", "must be sum, mean or max, found '\(readout)'")
        try check.positive("stateSize", stateSize)
        try check.that(contractionFactor > 0 && contractionFactor < 1, "contractionFactor",
                       "must lie strictly between 0 and 1 for the transition to contract, found \(contractionFactor)")
        try check.positive("tolerance", tolerance)
        try check.range("maximumIterations", maximumIterations, 1...100_000)
    }
}
