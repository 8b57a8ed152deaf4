import Foundation
import TesseraCheckpoint
import TesseraConfig
import TesseraGenerative
import TesseraTensor

/// The point-set side of `task: generative` (`model.kind: gschnet`): `GenerativeTasks` hands
/// recipes and checkpoints of that kind here.
enum PointSetTasks {
    static func train(recipe: Recipe, runDirectory: RunDirectory, resume: ResumeRequest, showProgress: Bool) throws -> TrainingResult {
        let decoded = try recipe.decode(PointSetRecipe.self)
        let trainer = try StepTrainer(recipe: decoded, recipeYAML: try recipe.canonicalYAML(), runDirectory: runDirectory,
                                      showProgress: showProgress)
        return try trainer.train(resume: resume)
    }

    /// `tessera sample` of a G-SchNet checkpoint: `count` sets drawn at `temperature` into a PNG
    /// (the first 24), with their valid share in the returned line. `--class` means nothing here.
    static func sample(checkpoint: Checkpoint, path: String, recipe: PointSetRecipe, count: Int, classIndex: Int?,
                       temperature: Float, seed: UInt64, output: String) throws -> String {
        if let classIndex {
            throw TrainingError("--class \(classIndex): \(path) holds a gschnet, which draws molecules of no chosen class; drop --class")
        }
        var initialization = RandomGenerator(seed: recipe.seed).derived(stream: RandomStreams.initialization)
        let network = try GSchNet(config: recipe.model.config, generator: &initialization)
        _ = try TrainingCheckpoint.restore(checkpoint, path: path, model: network, optimizer: nil)
        var generator = RandomGenerator(seed: seed)
        let sets = try network.sample(count: count, temperature: temperature, generator: &generator)
        let tolerance = recipe.evaluation.tolerance
        try PointSetWorkload.drawSamples(Array(sets.prefix(24)), tolerance: tolerance).writePNG(to: URL(fileURLWithPath: output))
        let valid = MoleculeTemplates.validShare(sets, tolerance: tolerance)
        return "wrote \(min(count, 24)) of \(count) gschnet molecules at temperature \(temperature) to \(output) (valid share \(String(format: "%.3f", valid)))"
    }
}

extension StepTrainer {
    /// A trainer for a G-SchNet recipe: each process takes its share of every step's batch of
    /// sets; rank 0 evaluates and writes `samples.png` into `runDirectory`.
    public convenience init(recipe: PointSetRecipe, recipeYAML: String, runDirectory: RunDirectory,
                            collective: (any TrainingCollective)? = nil, showProgress: Bool = true) throws {
        let worldSize = collective?.worldSize ?? 1
        if recipe.data.batchSize < worldSize * recipe.training.batchShards {
            throw TrainingError("data.batchSize \(recipe.data.batchSize) is smaller than the \(worldSize * recipe.training.batchShards) shards (processes × training.batchShards): each trains on its share of every batch and needs at least one set per step")
        }
        try self.init(recipe: recipe as any StepRecipe, recipeYAML: recipeYAML, runDirectory: runDirectory, collective: collective,
                      showProgress: showProgress) { generator in
            try PointSetWorkload(recipe, runDirectory: runDirectory, generator: &generator)
        }
    }
}
