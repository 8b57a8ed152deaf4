import Foundation
import TesseraPicture
import TesseraReinforcement

/// `task: tabular`: runs each listed method (Q-learning, SARSA, Monte Carlo control) on a tabular
/// environment, plots their online returns into one image (`returns.png`, smoothed over 10
/// episodes as Sutton & Barto's Figure 6.4) and reports each greedy policy's return.
enum ReinforcementTabularRun {
    static func train(_ recipe: ReinforcementRecipe, runDirectory: RunDirectory) throws -> TrainingResult {
        let start = Date()
        let algorithm = recipe.algorithm
        let environment = Environments.make(recipe.environment)!
        guard environment.observationSpace.count != nil, environment.actionSpace.count != nil else {
            throw TrainingError("task tabular needs discrete observations and actions, but \(recipe.environment) has observation space \(environment.observationSpace) and action space \(environment.actionSpace)")
        }
        let epsilon: EpsilonSchedule = algorithm.epsilonStart.map { start in
            .linear(start: start, end: algorithm.epsilonEnd ?? 0.05,
                    steps: Int((algorithm.explorationFraction ?? 0.5) * Double(algorithm.episodes ?? 500)))
        } ?? .constant(algorithm.epsilon ?? 0.1)
        let config = TabularConfig(episodes: algorithm.episodes ?? 500, learningRate: algorithm.learningRate.map(Double.init),
                                   discount: Double(algorithm.discount ?? 1), epsilon: epsilon, seed: recipe.seed)
        var metrics: [String: Double] = [:]
        var series: [LineChart.Series] = []
        var firstReturn: Double? = nil
        var onlineReturns: [(method: String, returns: [Double])] = []
        for method in algorithm.methods ?? [.qLearning, .sarsa] {
            let learnerEnvironment = Environments.make(recipe.environment)!
            let result: TabularResult
            switch method {
            case .qLearning: result = qLearning(learnerEnvironment, config: config)
            case .sarsa: result = sarsa(learnerEnvironment, config: config)
            case .monteCarloFirstVisit: result = monteCarloControl(learnerEnvironment, config: config, rule: .firstVisit)
            case .monteCarloEveryVisit: result = monteCarloControl(learnerEnvironment, config: config, rule: .everyVisit)
            }
            let path = followPolicy(result.q.greedyPolicy, in: Environments.make(recipe.environment)!)
            metrics["\(method.rawValue)_greedy_return"] = path.return
            metrics["\(method.rawValue)_greedy_length"] = Double(path.states.count - 1)
            metrics["\(method.rawValue)_online_return_mean"] = result.episodeReturns.reduce(0, +) / Double(result.episodeReturns.count)
            firstReturn = firstReturn ?? path.return
            let smoothed = result.episodeReturns.indices.map { index -> (x: Double, y: Double) in
                let window = result.episodeReturns[max(0, index - 9)...index]
                return (Double(index + 1), window.reduce(0, +) / Double(window.count))
            }
            series.append(.init(name: method.rawValue, points: smoothed))
            onlineReturns.append((method.rawValue, result.episodeReturns))
            let policyText = result.q.greedyPolicy.map(String.init).joined(separator: " ")
            try Data("\(policyText)\n".utf8).write(to: runDirectory.url.appendingPathComponent("\(method.rawValue)-policy.txt"))
        }
        metrics["eval_return_mean"] = firstReturn
        // metrics.jsonl: one record per episode with every method's online return.
        let episodeCount = onlineReturns.map(\.returns.count).max() ?? 0
        try runDirectory.rewriteMetrics((0..<episodeCount).map { episode in
            var values: [String: Double] = [:]
            for (method, returns) in onlineReturns where episode < returns.count { values["\(method)_return"] = returns[episode] }
            return MetricsRecord(step: episode + 1, values: values)
        })
        var chart = LineChart(panels: [.init(title: "online return per episode (\(recipe.environment))", series: series)], xLabel: "episode")
        chart.panelHeight = 400
        try chart.render().writePNG(to: runDirectory.url.appendingPathComponent("returns.png"))
        let seconds = Date().timeIntervalSince(start)
        try runDirectory.writeSummary(steps: config.episodes, wallSeconds: seconds, metrics: metrics,
                                      extra: ["recipe": recipe.name, "task": recipe.task, "environment": recipe.environment,
                                              "plot": runDirectory.url.appendingPathComponent("returns.png").path])
        return TrainingResult(steps: config.episodes, wallSeconds: seconds, finalMetrics: metrics, interruptedBy: nil, checkpointPath: nil)
    }
}
