import Foundation
import TesseraConfig

/// The CLI's entry point for neural-ODE recipes (`task: ode`): `tessera train` and the MPI ranks
/// dispatch here, and the shared ``StepTrainer`` runs the recipe's workload.
public enum ODETasks {
    public static let taskName = "ode"

    /// Whether `recipe`'s top-level `task:` is `ode`.
    public static func handles(_ recipe: Recipe) -> Bool {
        recipe.root.mapping?["task"]?.string == taskName
    }

    /// The `name:` of an ODE recipe (for the default run directory `runs/<name>`).
    public static func name(of recipe: Recipe) throws -> String {
        try recipe.decode(ODERecipe.self).name
    }

    /// Decodes and validates `recipe`, trains it in this process into `runDirectory`, and returns
    /// the result (`DistributedRun` trains it with several processes).
    public static func train(recipe: Recipe, runDirectory: RunDirectory, resume: ResumeRequest,
                             showProgress: Bool) throws -> TrainingResult {
        let decoded = try recipe.decode(ODERecipe.self)
        let trainer = try StepTrainer(recipe: decoded, recipeYAML: try recipe.canonicalYAML(), runDirectory: runDirectory,
                                      showProgress: showProgress)
        return try trainer.train(resume: resume)
    }
}

extension StepTrainer {
    /// A trainer for an ODE recipe: a supervised ODE network or an FFJORD flow, each process
    /// solving its share of every step's batch with the steps one process would take for all of it.
    public convenience init(recipe: ODERecipe, recipeYAML: String, runDirectory: RunDirectory,
                            collective: (any TrainingCollective)? = nil, showProgress: Bool = true) throws {
        let worldSize = collective?.worldSize ?? 1
        if recipe.data.batchSize < worldSize {
            throw TrainingError("data.batchSize \(recipe.data.batchSize) is smaller than the \(worldSize) processes: each solves its share of every batch and needs at least one example per step")
        }
        try self.init(recipe: recipe as any StepRecipe, recipeYAML: recipeYAML, runDirectory: runDirectory, collective: collective,
                      showProgress: showProgress) { generator in
            if recipe.model.kind == .ffjord { return try ODEFlowWorkload(recipe, collective: collective, generator: &generator) }
            return try ODESupervisedWorkload(recipe, collective: collective, generator: &generator)
        }
    }
}
