import TesseraTensor

/// Whether a Monte Carlo method averages the return after the first visit to a state in an
/// episode only, or after every visit (Singh & Sutton, "Reinforcement learning with replacing
/// eligibility traces", Machine Learning 1996; Sutton & Barto §5.1). Both converge to v_π;
/// first-visit averages independent samples, every-visit has lower variance early on.
public enum VisitRule: String, Sendable, CaseIterable {
    case firstVisit
    case everyVisit
}

/// One episode as `(state, action, reward)` triples, following `choose`.
func generateEpisode(_ environment: Environment, seed: UInt64?, maximumSteps: Int,
                     choose: (Int) -> Int) -> [(state: Int, action: Int, reward: Double)] {
    var state = Int(environment.reset(seed: seed)[0])
    var episode: [(state: Int, action: Int, reward: Double)] = []
    for _ in 0..<maximumSteps {
        let action = choose(state)
        let result = environment.step(.discrete(action))
        episode.append((state, action, result.reward))
        if result.isDone { break }
        state = Int(result.observation[0])
    }
    return episode
}

/// Monte Carlo prediction of v_π (Sutton & Barto §5.1): the average of the returns observed after
/// visits to each state, computed backwards through each episode. `policy(state, &generator)`
/// picks the action. States never visited keep the value 0.
///
/// Truncated episodes are used as they are (their returns are cut short); Monte Carlo has no
/// value estimate to bootstrap from, so give it episodes that terminate.
public func monteCarloPrediction(_ environment: Environment, policy: (Int, inout RandomGenerator) -> Int,
                                 config: TabularConfig, rule: VisitRule) -> [Double] {
    let (states, _) = environment.tabularSizes(method: "monteCarloPrediction")
    var generator = RandomGenerator(seed: config.seed).derived(stream: 1)
    var sums = [Double](repeating: 0, count: states), counts = [Double](repeating: 0, count: states)
    for episodeIndex in 0..<config.episodes {
        let episode = generateEpisode(environment, seed: episodeIndex == 0 ? config.seed : nil,
                                      maximumSteps: config.maximumEpisodeSteps) { policy($0, &generator) }
        let firstVisit = firstVisitIndices(episode.map(\.state))
        var g = 0.0
        for t in episode.indices.reversed() {
            g = config.discount * g + episode[t].reward
            let state = episode[t].state
            if rule == .everyVisit || firstVisit[state] == t {
                sums[state] += g
                counts[state] += 1
            }
        }
    }
    return zip(sums, counts).map { $1 > 0 ? $0 / $1 : 0 }
}

/// On-policy Monte Carlo control with ε-soft policies (Sutton & Barto §5.4): generate an episode
/// with ε-greedy actions, then move `Q(s,a)` toward the return after each (first or every) visit
/// of the pair, by sample averages (`learningRate == nil`) or a constant step α.
public func monteCarloControl(_ environment: Environment, config: TabularConfig, rule: VisitRule) -> TabularResult {
    let (states, actions) = environment.tabularSizes(method: "monteCarloControl")
    var q = QTable(states: states, actions: actions)
    var counts = QTable(states: states, actions: actions)
    var generator = RandomGenerator(seed: config.seed).derived(stream: 1)
    var returns: [Double] = []
    for episodeIndex in 0..<config.episodes {
        let epsilon = config.epsilon.epsilon(at: episodeIndex)
        let episode = generateEpisode(environment, seed: episodeIndex == 0 ? config.seed : nil,
                                      maximumSteps: config.maximumEpisodeSteps) {
            epsilonGreedy(q[$0], epsilon: epsilon, generator: &generator)
        }
        returns.append(episode.reduce(0) { $0 + $1.reward })
        let pairs = episode.map { $0.state * actions + $0.action }
        let firstVisit = firstVisitIndices(pairs)
        var g = 0.0
        for t in episode.indices.reversed() {
            g = config.discount * g + episode[t].reward
            let (state, action) = (episode[t].state, episode[t].action)
            guard rule == .everyVisit || firstVisit[pairs[t]] == t else { continue }
            counts.values[state][action] += 1
            let step = config.learningRate ?? 1 / counts.values[state][action]
            q.values[state][action] += step * (g - q.values[state][action])
        }
    }
    return TabularResult(q: q, episodeReturns: returns)
}

/// TD(0) prediction of v_π (Sutton, "Learning to predict by the methods of temporal
/// differences", Machine Learning 1988): `V(s) += α(r + γV(s') − V(s))` after every step, with
/// `V(s') = 0` only when the episode terminated (a truncated episode bootstraps).
public func temporalDifferencePrediction(_ environment: Environment, policy: (Int, inout RandomGenerator) -> Int,
                                         config: TabularConfig) -> [Double] {
    let (states, _) = environment.tabularSizes(method: "temporalDifferencePrediction")
    let alpha = config.learningRate ?? 0.1
    var values = [Double](repeating: 0, count: states)
    var generator = RandomGenerator(seed: config.seed).derived(stream: 1)
    for episode in 0..<config.episodes {
        var state = Int(environment.reset(seed: episode == 0 ? config.seed : nil)[0])
        for _ in 0..<config.maximumEpisodeSteps {
            let result = environment.step(.discrete(policy(state, &generator)))
            let next = Int(result.observation[0])
            let future = result.terminated ? 0 : values[next]
            values[state] += alpha * (result.reward + config.discount * future - values[state])
            if result.isDone { break }
            state = next
        }
    }
    return values
}

/// For each key, the index of its first occurrence.
private func firstVisitIndices(_ keys: [Int]) -> [Int: Int] {
    var first: [Int: Int] = [:]
    for (index, key) in keys.enumerated() where first[key] == nil { first[key] = index }
    return first
}
