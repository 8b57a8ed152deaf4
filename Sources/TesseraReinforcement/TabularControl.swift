import TesseraTensor

/// Settings shared by the tabular methods (Sutton & Barto, "Reinforcement Learning: An
/// Introduction", 2nd ed. 2018, chapters 5 and 6).
public struct TabularConfig: Sendable {
    /// Episodes to learn from.
    public var episodes: Int
    /// Step size α of the incremental updates (Monte Carlo control uses sample averages when nil).
    public var learningRate: Double?
    /// Discount γ.
    public var discount: Double
    /// Exploration: the probability of a random action at episode `t` (see ``epsilonGreedy(_:epsilon:generator:)``).
    public var epsilon: EpsilonSchedule
    /// Seeds the environment's first reset and the exploration stream.
    public var seed: UInt64
    /// Steps after which an episode is abandoned (a guard for environments without a time limit).
    public var maximumEpisodeSteps: Int

    public init(episodes: Int, learningRate: Double? = 0.1, discount: Double = 1, epsilon: EpsilonSchedule = .constant(0.1),
                seed: UInt64 = 0, maximumEpisodeSteps: Int = 10_000) {
        self.episodes = episodes
        self.learningRate = learningRate
        self.discount = discount
        self.epsilon = epsilon
        self.seed = seed
        self.maximumEpisodeSteps = maximumEpisodeSteps
    }
}

/// What a tabular control method learned, with the return of every training episode (the online
/// performance Sutton & Barto plot in Figure 6.4).
public struct TabularResult: Sendable {
    public var q: QTable
    public var episodeReturns: [Double]
}

/// SARSA, on-policy TD control (Rummery & Niranjan, "On-line Q-learning using connectionist
/// systems", 1994; Sutton & Barto §6.4): `Q(s,a) += α(r + γQ(s',a') − Q(s,a))` with `a'` the
/// ε-greedy action actually taken next. It learns the value of the exploring policy, so on the
/// cliff it prefers the path away from the edge.
public func sarsa(_ environment: Environment, config: TabularConfig) -> TabularResult {
    temporalDifferenceControl(environment, config: config, method: "sarsa", offPolicy: false)
}

/// Q-learning, off-policy TD control (Watkins, "Learning from Delayed Rewards", PhD thesis 1989;
/// Sutton & Barto §6.5): `Q(s,a) += α(r + γ maxₐ' Q(s',a') − Q(s,a))`. It learns the greedy
/// policy's values while behaving ε-greedily, so on the cliff it finds the optimal path along
/// the edge (and falls in more often while exploring).
public func qLearning(_ environment: Environment, config: TabularConfig) -> TabularResult {
    temporalDifferenceControl(environment, config: config, method: "qLearning", offPolicy: true)
}

private func temporalDifferenceControl(_ environment: Environment, config: TabularConfig, method: String,
                                       offPolicy: Bool) -> TabularResult {
    let (states, actions) = environment.tabularSizes(method: method)
    let alpha = config.learningRate ?? 0.1
    var q = QTable(states: states, actions: actions)
    var generator = RandomGenerator(seed: config.seed).derived(stream: 1)
    var returns: [Double] = []
    for episode in 0..<config.episodes {
        let epsilon = config.epsilon.epsilon(at: episode)
        var state = Int(environment.reset(seed: episode == 0 ? config.seed : nil)[0])
        var action = epsilonGreedy(q[state], epsilon: epsilon, generator: &generator)
        var total = 0.0
        for _ in 0..<config.maximumEpisodeSteps {
            let result = environment.step(.discrete(action))
            total += result.reward
            let next = Int(result.observation[0])
            let nextAction = epsilonGreedy(q[next], epsilon: epsilon, generator: &generator)
            // Only termination zeroes the future; a truncated episode's next state keeps its value.
            let future = result.terminated ? 0 : (offPolicy ? q[next].max()! : q[next][nextAction])
            q.values[state][action] += alpha * (result.reward + config.discount * future - q.values[state][action])
            if result.isDone { break }
            (state, action) = (next, nextAction)
        }
        returns.append(total)
    }
    return TabularResult(q: q, episodeReturns: returns)
}
