import Foundation
import TesseraReinforcement

/// How long a reinforcement-learning run took to reach the return its recipe aims for
/// (`evaluation.target`): at every log line, until it is reached, the greedy policy plays the
/// recipe's fixed-seed evaluation episodes (the same ones as the final `eval_return_mean`), and
/// the first time their mean return reaches the target, the run's environment steps and
/// training wall time are kept. The checks' own time is not training time, so it is left out.
struct ReturnTarget: Codable {
    /// Environment steps when the target was first reached.
    var environmentSteps: Int?
    /// Wall seconds of training, checks excluded, when the target was first reached.
    var wallSeconds: Double?
    /// Seconds spent in the checks so far.
    var checkSeconds = 0.0

    /// At a log line: plays the evaluation episodes unless the recipe sets no target or it is
    /// already reached, and returns their mean return. `elapsedSeconds` is the run's wall time
    /// so far, checks included.
    mutating func check(_ recipe: ReinforcementRecipe, environmentSteps: Int, elapsedSeconds: Double,
                        act: ([Float]) -> Action) -> Double? {
        guard let target = recipe.evaluation.target, self.environmentSteps == nil else { return nil }
        let started = Date()
        let returns = evaluate({ Environments.make(recipe.environment)! }, episodes: recipe.evaluation.episodes,
                               seed: recipe.evaluation.seed, act: act)
        let mean = returns.reduce(0, +) / Double(returns.count)
        if mean >= target {
            self.environmentSteps = environmentSteps
            wallSeconds = elapsedSeconds - checkSeconds
        }
        checkSeconds += Date().timeIntervalSince(started)
        return mean
    }

    /// `eval_target`, and `environment_steps_to_target` and `wall_seconds_to_target` once reached.
    func summary(_ recipe: ReinforcementRecipe) -> [String: Double] {
        guard let target = recipe.evaluation.target else { return [:] }
        var values = ["eval_target": target]
        if let environmentSteps, let wallSeconds {
            values["environment_steps_to_target"] = Double(environmentSteps)
            values["wall_seconds_to_target"] = wallSeconds
        }
        return values
    }
}
