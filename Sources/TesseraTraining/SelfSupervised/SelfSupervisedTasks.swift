import Foundation
import TesseraConfig

/// The CLI's entry point for self-supervised recipes (`task: selfsupervised`): `tessera train`
/// and the MPI ranks dispatch here, and the shared ``StepTrainer`` runs the method's workload.
public enum SelfSupervisedTasks {
    public static let taskName = "selfsupervised"

    /// Whether `recipe`'s top-level `task:` is `selfsupervised`.
    public static func handles(_ recipe: Recipe) -> Bool {
        recipe.root.mapping?["task"]?.string == taskName
    }

    /// The `name:` of a self-supervised recipe (for the default run directory `runs/<name>`).
    public static func name(of recipe: Recipe) throws -> String {
        try recipe.decode(SelfSupervisedRecipe.self).name
    }

    /// Decodes and validates `recipe`, trains it in this process into `runDirectory`, and returns
    /// the result (`DistributedRun` trains it with several processes). With `training.batchShards`
    /// S the shards meet in every step (gathered projections, batch statistics, DINO's centre), so
    /// S ranks train on threads of this process (`InProcessRanks`), as S processes would.
    public static func train(recipe: Recipe, runDirectory: RunDirectory, resume: ResumeRequest,
                             showProgress: Bool) throws -> TrainingResult {
        let decoded = try recipe.decode(SelfSupervisedRecipe.self)
        let yaml = try recipe.canonicalYAML()
        guard decoded.training.batchShards > 1 else {
            let trainer = try StepTrainer(recipe: decoded, recipeYAML: yaml, runDirectory: runDirectory, showProgress: showProgress)
            return try trainer.train(resume: resume)
        }
        return try InProcessRanks.train(count: decoded.training.batchShards, distributed: decoded.distributed, resume: resume,
                                        showProgress: showProgress) { collective, showProgress in
            try StepTrainer(recipe: decoded, recipeYAML: yaml, runDirectory: runDirectory, collective: collective, showProgress: showProgress)
        }
    }
}

extension StepTrainer {
    /// A trainer for a self-supervised recipe: the method's workload in the shared step loop, each
    /// process on its rows of every batch, batch norm over the global batch (unless
    /// `distributed.syncBatchNorm` is off).
    public convenience init(recipe: SelfSupervisedRecipe, recipeYAML: String, runDirectory: RunDirectory,
                            collective: (any TrainingCollective)? = nil, showProgress: Bool = true) throws {
        let worldSize = collective?.worldSize ?? 1
        guard recipe.data.batchSize >= 2 * worldSize else {
            throw TrainingError("data.batchSize \(recipe.data.batchSize) gives some of the \(worldSize) processes fewer than 2 samples a step; batch norm and the contrastive losses need at least 2 each")
        }
        try self.init(recipe: recipe as any StepRecipe, recipeYAML: recipeYAML, runDirectory: runDirectory, collective: collective,
                      showProgress: showProgress) { generator in
            let workload: any StepWorkload
            switch recipe.method.kind {
            case .simclr: workload = try SimCLRWorkload(recipe, collective: collective, generator: &generator)
            case .supervised: workload = try SupervisedBaselineWorkload(recipe, collective: collective, generator: &generator)
            case .byol: workload = try BYOLWorkload(recipe, collective: collective, generator: &generator)
            case .dino: workload = try DINOWorkload(recipe, collective: collective, generator: &generator)
            case .clip: workload = try CLIPWorkload(recipe, collective: collective, generator: &generator)
            }
            if let collective, worldSize > 1, recipe.distributed.syncBatchNorm, let failure = workload.collectiveFailure {
                collective.synchronizeBatchNorms(in: workload.model, failure: failure)
            }
            return workload
        }
    }
}

/// A self-supervised workload: its shared setting (data, views, processes).
protocol RepresentationWorkload {
    var setting: RepresentationSetting { get }
}

/// What every self-supervised workload reports the same way: the probe's accuracy marks the best
/// checkpoint, kNN and the effective rank show in the progress line, and the setting's collective
/// failures reach the trainer.
extension StepWorkload where Self: RepresentationWorkload {
    var primaryMetric: String { "probe_accuracy" }
    var progressMetrics: [String] { ["knn_accuracy", "effective_rank"] }
    var collectiveFailure: CollectiveFailure? { setting.failure }
}
