import TesseraConfig
import TesseraReinforcement

/// A reinforcement-learning recipe (`task: ppo | trpo | dqn | a2c | reinforce | qac | offpac | tabular`): which
/// environment, which learner with which settings, and how to evaluate. Keys are the Swift
/// property names; `algorithm` keys left out keep the learner's defaults (its config struct,
/// e.g. `PPOConfig`, documents each), and a key the task does not read is an error.
///
/// ```yaml
/// task: ppo
/// name: rl-ppo-cartpole
/// seed: 1
/// environment: CartPole-v1
/// algorithm: {totalSteps: 500000, learningRate: 0.00025}
/// evaluation: {episodes: 100}
/// ```
public struct ReinforcementRecipe: Decodable, RecipeValidatable {
    /// The learner: `ppo`, `trpo`, `dqn`, `a2c`, `reinforce`, `qac` (actor–critic with a Q critic), `offpac`
    /// (off-policy actor–critic), `tabular` (Q-learning, SARSA, Monte Carlo), or the multi-process
    /// `impala` (asynchronous actor–learner) and `ddppo` (see `ActorLearnerRun`).
    public var task: String
    /// Names the run directory.
    public var name: String
    /// Fixes the network initialisation, environment seeds and action sampling.
    public var seed: UInt64
    /// A built-in environment (`Environments.names`).
    public var environment: String
    public var algorithm: AlgorithmSection
    public var evaluation: EvaluationSection
    public var training: ReinforcementTrainingSection
    /// `task: impala` only: how the learner and the actors exchange data (`ActorLearnerSection`).
    public var actorLearner: ActorLearnerSection

    /// Whether the recipe wrote an `actorLearner` section.
    var givesActorLearner = false

    enum CodingKeys: String, CodingKey, CaseIterable { case task, name, seed, environment, algorithm, evaluation, training, actorLearner }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        task = try container.decode(String.self, forKey: .task)
        name = try container.decode(String.self, forKey: .name)
        seed = try container.decodeIfPresent(UInt64.self, forKey: .seed) ?? 1
        environment = try container.decode(String.self, forKey: .environment)
        algorithm = try container.decodeIfPresent(AlgorithmSection.self, forKey: .algorithm) ?? AlgorithmSection()
        evaluation = try container.decodeIfPresent(EvaluationSection.self, forKey: .evaluation) ?? EvaluationSection()
        training = try container.decodeIfPresent(ReinforcementTrainingSection.self, forKey: .training) ?? ReinforcementTrainingSection()
        actorLearner = try container.decodeIfPresent(ActorLearnerSection.self, forKey: .actorLearner) ?? ActorLearnerSection()
        givesActorLearner = container.contains(.actorLearner)
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.that(ReinforcementTasks.taskNames.contains(task), "task", "must be one of \(ReinforcementTasks.taskNames), found '\(task)'")
        try check.that(!givesActorLearner || task == "impala", "actorLearner", "is read only by task impala, not by task '\(task)'")
        try check.that(!name.isEmpty && !name.contains("/"), "name", "must be a non-empty name without '/', found '\(name)'")
        try check.that(Environments.names.contains(environment), "environment", "must be one of \(Environments.names), found '\(environment)'")
        let allowed = AlgorithmSection.keys(for: task)
        for key in algorithm.givenKeys where !allowed.contains(key) {
            throw check.error("algorithm", "key '\(key)' is not read by task '\(task)' (it reads \(allowed.sorted()))")
        }
    }
}

/// The learner's settings. Every key is optional; see the learner's config struct for meanings
/// and defaults (`PPOConfig`, `TRPOConfig`, `DQNConfig`, `A2CConfig`, `REINFORCEConfig`, `QActorCriticConfig`,
/// `OffPolicyActorCriticConfig`, `TabularConfig`).
public struct AlgorithmSection: Decodable, RecipeValidatable {
    public enum PolicyKind: String, Decodable, CaseIterable { case categorical, gaussian }
    public enum TabularMethod: String, Decodable, CaseIterable { case qLearning, sarsa, monteCarloFirstVisit, monteCarloEveryVisit }

    /// The policy's distribution; checked against the environment's action space.
    public var policy: PolicyKind?
    public var totalSteps: Int?
    public var environmentCount: Int?
    public var rolloutSteps: Int?
    public var learningRate: Float?
    public var annealLearningRate: Bool?
    public var discount: Float?
    public var lambda: Float?
    public var minibatches: Int?
    public var epochs: Int?
    public var clip: Float?
    /// TRPO's trust region δ.
    public var maximumKL: Float?
    public var clipValueLoss: Bool?
    public var entropyCoefficient: Float?
    public var valueCoefficient: Float?
    public var maximumGradientNorm: Float?
    public var normalizeAdvantages: Bool?
    public var hiddenSizes: [Int]?
    public var bufferSize: Int?
    public var batchSize: Int?
    public var learningStarts: Int?
    public var trainFrequency: Int?
    public var gradientSteps: Int?
    public var targetUpdateInterval: Int?
    public var epsilonStart: Double?
    public var epsilonEnd: Double?
    public var explorationFraction: Double?
    public var huber: Bool?
    public var double: Bool?
    public var episodesPerUpdate: Int?
    public var updates: Int?
    /// IMPALA's V-trace clipping thresholds ρ̄ and c̄ (positive; see `IMPALAConfig`).
    public var importanceClip: Float?
    public var traceClip: Float?
    /// QAC: subtract the critic's state value from `Q(s, a)` in the actor's step; the actor's
    /// learning rate (`learningRate` is the critic's).
    public var subtractBaseline: Bool?
    public var actorLearningRate: Float?
    /// Off-PAC: c in `min(π/β, c)` (positive), the behaviour policy's ε (in [0, 1)) and the
    /// iterations between copies of the actor into it.
    public var ratioTruncation: Float?
    public var behaviourEpsilon: Float?
    public var behaviourUpdateInterval: Int?
    /// Tabular: the methods to run (their online returns share one plot), episodes, ε, step size.
    public var methods: [TabularMethod]?
    public var episodes: Int?
    public var epsilon: Double?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case policy, totalSteps, environmentCount, rolloutSteps, learningRate, annealLearningRate, discount, lambda, minibatches,
             epochs, clip, maximumKL, clipValueLoss, entropyCoefficient, valueCoefficient, maximumGradientNorm, normalizeAdvantages,
             hiddenSizes, bufferSize, batchSize, learningStarts, trainFrequency, gradientSteps, targetUpdateInterval,
             epsilonStart, epsilonEnd, explorationFraction, huber, double, episodesPerUpdate, updates, methods, episodes, epsilon,
             subtractBaseline, actorLearningRate, ratioTruncation, behaviourEpsilon, behaviourUpdateInterval, importanceClip, traceClip
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        policy = try c.decodeIfPresent(PolicyKind.self, forKey: .policy)
        totalSteps = try c.decodeIfPresent(Int.self, forKey: .totalSteps)
        environmentCount = try c.decodeIfPresent(Int.self, forKey: .environmentCount)
        rolloutSteps = try c.decodeIfPresent(Int.self, forKey: .rolloutSteps)
        learningRate = try c.decodeIfPresent(Float.self, forKey: .learningRate)
        annealLearningRate = try c.decodeIfPresent(Bool.self, forKey: .annealLearningRate)
        discount = try c.decodeIfPresent(Float.self, forKey: .discount)
        lambda = try c.decodeIfPresent(Float.self, forKey: .lambda)
        minibatches = try c.decodeIfPresent(Int.self, forKey: .minibatches)
        epochs = try c.decodeIfPresent(Int.self, forKey: .epochs)
        clip = try c.decodeIfPresent(Float.self, forKey: .clip)
        maximumKL = try c.decodeIfPresent(Float.self, forKey: .maximumKL)
        clipValueLoss = try c.decodeIfPresent(Bool.self, forKey: .clipValueLoss)
        entropyCoefficient = try c.decodeIfPresent(Float.self, forKey: .entropyCoefficient)
        valueCoefficient = try c.decodeIfPresent(Float.self, forKey: .valueCoefficient)
        maximumGradientNorm = try c.decodeIfPresent(Float.self, forKey: .maximumGradientNorm)
        normalizeAdvantages = try c.decodeIfPresent(Bool.self, forKey: .normalizeAdvantages)
        hiddenSizes = try c.decodeIfPresent([Int].self, forKey: .hiddenSizes)
        bufferSize = try c.decodeIfPresent(Int.self, forKey: .bufferSize)
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize)
        learningStarts = try c.decodeIfPresent(Int.self, forKey: .learningStarts)
        trainFrequency = try c.decodeIfPresent(Int.self, forKey: .trainFrequency)
        gradientSteps = try c.decodeIfPresent(Int.self, forKey: .gradientSteps)
        targetUpdateInterval = try c.decodeIfPresent(Int.self, forKey: .targetUpdateInterval)
        epsilonStart = try c.decodeIfPresent(Double.self, forKey: .epsilonStart)
        epsilonEnd = try c.decodeIfPresent(Double.self, forKey: .epsilonEnd)
        explorationFraction = try c.decodeIfPresent(Double.self, forKey: .explorationFraction)
        huber = try c.decodeIfPresent(Bool.self, forKey: .huber)
        double = try c.decodeIfPresent(Bool.self, forKey: .double)
        episodesPerUpdate = try c.decodeIfPresent(Int.self, forKey: .episodesPerUpdate)
        updates = try c.decodeIfPresent(Int.self, forKey: .updates)
        importanceClip = try c.decodeIfPresent(Float.self, forKey: .importanceClip)
        traceClip = try c.decodeIfPresent(Float.self, forKey: .traceClip)
        subtractBaseline = try c.decodeIfPresent(Bool.self, forKey: .subtractBaseline)
        actorLearningRate = try c.decodeIfPresent(Float.self, forKey: .actorLearningRate)
        ratioTruncation = try c.decodeIfPresent(Float.self, forKey: .ratioTruncation)
        behaviourEpsilon = try c.decodeIfPresent(Float.self, forKey: .behaviourEpsilon)
        behaviourUpdateInterval = try c.decodeIfPresent(Int.self, forKey: .behaviourUpdateInterval)
        methods = try c.decodeIfPresent([TabularMethod].self, forKey: .methods)
        episodes = try c.decodeIfPresent(Int.self, forKey: .episodes)
        epsilon = try c.decodeIfPresent(Double.self, forKey: .epsilon)
        givenKeys = CodingKeys.allCases.filter { c.contains($0) }.map(\.stringValue)
    }

    /// The keys the recipe wrote (for the per-task check).
    var givenKeys: [String] = []

    /// The keys each task reads.
    static func keys(for task: String) -> Set<String> {
        let network: Set<String> = ["policy", "hiddenSizes", "learningRate", "discount"]
        switch task {
        case "ppo":
            return network.union(["totalSteps", "environmentCount", "rolloutSteps", "annealLearningRate", "lambda", "minibatches", "epochs",
                                  "clip", "clipValueLoss", "entropyCoefficient", "valueCoefficient", "maximumGradientNorm", "normalizeAdvantages"])
        case "trpo":
            return network.union(["totalSteps", "environmentCount", "rolloutSteps", "maximumKL", "lambda", "minibatches", "epochs",
                                  "normalizeAdvantages"])
        case "a2c":
            return network.union(["totalSteps", "environmentCount", "rolloutSteps", "lambda", "entropyCoefficient", "valueCoefficient",
                                  "maximumGradientNorm", "normalizeAdvantages"])
        case "dqn":
            return ["hiddenSizes", "learningRate", "discount", "totalSteps", "bufferSize", "batchSize", "learningStarts", "trainFrequency",
                    "gradientSteps", "targetUpdateInterval", "epsilonStart", "epsilonEnd", "explorationFraction", "huber", "double",
                    "maximumGradientNorm"]
        case "impala":
            return network.union(["totalSteps", "environmentCount", "rolloutSteps", "annealLearningRate", "importanceClip", "traceClip",
                                  "entropyCoefficient", "valueCoefficient", "maximumGradientNorm"])
        case "ddppo":
            return keys(for: "ppo")
        case "reinforce":
            return network.union(["episodesPerUpdate", "updates"])
        case "qac":
            return network.union(["totalSteps", "environmentCount", "rolloutSteps", "subtractBaseline", "actorLearningRate",
                                  "entropyCoefficient", "maximumGradientNorm"])
        case "offpac":
            return network.union(["totalSteps", "environmentCount", "rolloutSteps", "ratioTruncation", "behaviourEpsilon",
                                  "behaviourUpdateInterval", "entropyCoefficient", "valueCoefficient", "maximumGradientNorm"])
        default:
            return ["methods", "episodes", "epsilon", "learningRate", "discount", "epsilonStart", "epsilonEnd", "explorationFraction"]
        }
    }

    public func validate(_ check: RecipeValidator) throws {
        for (key, value) in [("totalSteps", totalSteps), ("environmentCount", environmentCount), ("rolloutSteps", rolloutSteps),
                             ("minibatches", minibatches), ("epochs", epochs), ("bufferSize", bufferSize), ("batchSize", batchSize),
                             ("trainFrequency", trainFrequency), ("targetUpdateInterval", targetUpdateInterval),
                             ("episodesPerUpdate", episodesPerUpdate), ("updates", updates), ("episodes", episodes),
                             ("behaviourUpdateInterval", behaviourUpdateInterval)] {
            if let value { try check.positive(key, value) }
        }
        if let discount { try check.range("discount", discount, 0...1) }
        if let lambda { try check.range("lambda", lambda, 0...1) }
        if let maximumKL { try check.range("maximumKL", maximumKL, 1e-6...1) }
        if let epsilon { try check.range("epsilon", epsilon, 0...1) }
        if let ratioTruncation {
            try check.that(ratioTruncation > 0, "ratioTruncation", "must be positive (c in min(π/β, c); .inf for none), found \(ratioTruncation)")
        }
        if let behaviourEpsilon {
            try check.that(behaviourEpsilon >= 0 && behaviourEpsilon < 1, "behaviourEpsilon", "must be in [0, 1), found \(behaviourEpsilon)")
        }
        if let learningRate { try check.range("learningRate", learningRate, 1e-8...10) }
        if let actorLearningRate { try check.range("actorLearningRate", actorLearningRate, 1e-8...10) }
        if let importanceClip { try check.positive("importanceClip", importanceClip) }
        if let traceClip { try check.positive("traceClip", traceClip) }
        if let hiddenSizes { try check.that(hiddenSizes.allSatisfy { $0 > 0 }, "hiddenSizes", "every width must be positive, found \(hiddenSizes)") }
    }
}

/// How the final policy is scored: the mean undiscounted return of its greedy actions over
/// `episodes` episodes, episode `k` seeded `seed + k`.
public struct EvaluationSection: Decodable, RecipeValidatable {
    public var episodes = 100
    public var seed: UInt64 = 1_000_000
    /// The mean return the recipe aims for: the greedy policy is evaluated at every log line until
    /// it reaches it, and `summary.json` reports the environment steps and wall time that took
    /// (`environment_steps_to_target`, `wall_seconds_to_target`; see `ReturnTarget`).
    public var target: Double?

    enum CodingKeys: String, CodingKey, CaseIterable { case episodes, seed, target }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        episodes = try c.decodeIfPresent(Int.self, forKey: .episodes) ?? episodes
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? seed
        target = try c.decodeIfPresent(Double.self, forKey: .target)
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.positive("episodes", episodes)
        try check.that(target?.isFinite ?? true, "target", "must be a finite return, found \(target ?? 0)")
    }
}

/// How often to log and save (counted in learner iterations: one rollout and its update).
public struct ReinforcementTrainingSection: Decodable, RecipeValidatable {
    public var logEvery = 10
    /// Iterations between checkpoints (0: only at the end).
    public var checkpointEvery = 0
    public var keepCheckpoints = 3

    enum CodingKeys: String, CodingKey, CaseIterable { case logEvery, checkpointEvery, keepCheckpoints }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        logEvery = try c.decodeIfPresent(Int.self, forKey: .logEvery) ?? logEvery
        checkpointEvery = try c.decodeIfPresent(Int.self, forKey: .checkpointEvery) ?? checkpointEvery
        keepCheckpoints = try c.decodeIfPresent(Int.self, forKey: .keepCheckpoints) ?? keepCheckpoints
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.positive("logEvery", logEvery)
        try check.nonNegative("checkpointEvery", checkpointEvery)
        try check.positive("keepCheckpoints", keepCheckpoints)
    }
}
