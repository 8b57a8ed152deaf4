import Foundation
import TesseraConfig
import TesseraGraph

/// The CLI's entry point for graph recipes (`task: graph`): `tessera train` and the MPI ranks
/// dispatch here, and the shared ``StepTrainer`` runs the recipe's workload.
public enum GraphTasks {
    public static let taskName = "graph"

    /// Whether `recipe`'s top-level `task:` is `graph`.
    public static func handles(_ recipe: Recipe) -> Bool {
        recipe.root.mapping?["task"]?.string == taskName
    }

    /// The `name:` of a graph recipe (for the default run directory `runs/<name>`).
    public static func name(of recipe: Recipe) throws -> String {
        try recipe.decode(GraphRecipe.self).name
    }

    /// A finished run's final metrics on one line, by name.
    public static func headline(_ result: TrainingResult) -> String { result.metricsLine }

    /// Decodes and validates `recipe`, trains it in this process into `runDirectory`, and returns
    /// the result (`DistributedRun` trains it with several processes).
    public static func train(recipe: Recipe, runDirectory: RunDirectory, resume: ResumeRequest,
                             showProgress: Bool) throws -> TrainingResult {
        let decoded = try recipe.decode(GraphRecipe.self)
        let trainer = try StepTrainer(recipe: decoded, recipeYAML: try recipe.canonicalYAML(), recipeFile: recipe.file,
                                      runDirectory: runDirectory, showProgress: showProgress)
        return try trainer.train(resume: resume)
    }
}

extension StepTrainer {
    /// A trainer for a graph recipe: a node task (the whole graph every step, the loss over this
    /// process's share of the labelled nodes) or a graph task (this process's share of each
    /// step's batch of graphs) in the shared step loop. `recipeFile` locates relative data paths.
    public convenience init(recipe: GraphRecipe, recipeYAML: String, recipeFile: String, runDirectory: RunDirectory,
                            collective: (any TrainingCollective)? = nil, showProgress: Bool = true) throws {
        let worldSize = collective?.worldSize ?? 1
        if recipe.data.source.isGraphTask, recipe.data.batchSize < worldSize {
            throw TrainingError("data.batchSize \(recipe.data.batchSize) is smaller than the \(worldSize) processes: each trains on its share of every batch of graphs and needs at least one graph per step")
        }
        try self.init(recipe: recipe as any StepRecipe, recipeYAML: recipeYAML, runDirectory: runDirectory, collective: collective,
                      showProgress: showProgress) { generator in
            if recipe.data.source.isGraphTask { return try GraphLevelWorkload(recipe, generator: &generator) }
            let workload = try NodeLevelWorkload(recipe, recipeFile: recipeFile, generator: &generator)
            guard workload.trainNodes.count >= worldSize else {
                throw TrainingError("the recipe labels \(workload.trainNodes.count) training nodes, fewer than the \(worldSize) processes that share them")
            }
            return workload
        }
    }
}
