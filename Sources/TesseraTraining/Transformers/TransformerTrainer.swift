import TesseraTransformers

extension StepTrainer {
    /// A trainer for a transformer recipe: the task's workload (`makeTransformerWorkload(_:generator:)`)
    /// in the shared step loop.
    public convenience init(recipe: TransformerRecipe, recipeYAML: String, runDirectory: RunDirectory,
                            collective: (any TrainingCollective)? = nil, showProgress: Bool = true) throws {
        let worldSize = collective?.worldSize ?? 1
        guard recipe.data.batchSize >= worldSize else {
            throw TrainingError("data.batchSize \(recipe.data.batchSize) is smaller than the \(worldSize) processes: each trains on its share of the global batch and needs at least one example per step")
        }
        try self.init(recipe: recipe as any StepRecipe, recipeYAML: recipeYAML, runDirectory: runDirectory, collective: collective,
                      showProgress: showProgress) { generator in try makeTransformerWorkload(recipe, generator: &generator) }
    }
}
