import Foundation
import TesseraCheckpoint
import TesseraConfig
import TesseraGenerative
import TesseraTensor

/// The CLI's entry point for generative recipes (`task: generative`): `tessera train` and the MPI
/// ranks dispatch here, and the shared `StepTrainer` runs the recipe's workload; `tessera sample`
/// draws from a finished run's checkpoint.
public enum GenerativeTasks {
    public static let taskName = "generative"

    /// Whether `recipe`'s top-level `task:` is `generative`.
    public static func handles(_ recipe: Recipe) -> Bool {
        recipe.root.mapping?["task"]?.string == taskName
    }

    /// The `name:` of a generative recipe (for the default run directory `runs/<name>`).
    public static func name(of recipe: Recipe) throws -> String {
        if PointSetRecipe.handles(recipe) { return try recipe.decode(PointSetRecipe.self).name }
        return try recipe.decode(GenerativeRecipe.self).name
    }

    /// Decodes and validates `recipe`, trains it in this process into `runDirectory`, and returns
    /// the result (`DistributedRun` trains it with several processes).
    public static func train(recipe: Recipe, runDirectory: RunDirectory, resume: ResumeRequest,
                             showProgress: Bool) throws -> TrainingResult {
        if PointSetRecipe.handles(recipe) {
            return try PointSetTasks.train(recipe: recipe, runDirectory: runDirectory, resume: resume, showProgress: showProgress)
        }
        let decoded = try recipe.decode(GenerativeRecipe.self)
        let trainer = try StepTrainer(recipe: decoded, recipeYAML: try recipe.canonicalYAML(), runDirectory: runDirectory,
                                      showProgress: showProgress)
        return try trainer.train(resume: resume)
    }

    /// Draws `count` digits from the generator in `checkpoint` and writes them as a PNG grid to
    /// `output`. Everything is checked before anything is written: `temperature` must be positive,
    /// `classIndex` is for a conditional model and must be one of its classes, and the checkpoint
    /// must be one of a `task: generative` run. A diffusion model (`ddpm`) samples with the
    /// recipe's `evaluation` sampler unless `sampler`, `steps` (at most its `T`) or `eta` (≥ 0,
    /// DDIM's) say otherwise; they are refused for the other models. Returns a line describing
    /// what was written.
    public static func sample(checkpoint path: String, count: Int, classIndex: Int?, temperature: Float, seed: UInt64,
                              output: String, sampler: String? = nil, steps: Int? = nil, eta: Double? = nil) throws -> String {
        guard temperature > 0, temperature.isFinite else {
            throw TrainingError("--temperature must be positive and finite (the base noise is scaled by it), got \(temperature)")
        }
        guard count >= 1 else { throw TrainingError("--count must be at least 1, got \(count)") }
        let checkpoint = try Checkpoint.read(from: path)
        guard checkpoint.metadata["task"] == taskName else {
            throw TrainingError("\(path): not a generator's checkpoint (its task is \(checkpoint.metadata["task"] ?? "not recorded")); tessera sample takes checkpoints of task: \(taskName) runs")
        }
        let stored = try Recipe(yaml: try TrainingCheckpoint.recipe(of: checkpoint, path: path), file: path)
        if PointSetRecipe.handles(stored) {
            guard sampler == nil, steps == nil, eta == nil else {
                throw TrainingError("--sampler, --steps and --eta are a diffusion model's; \(path) holds a point-set generator (gschnet)")
            }
            return try PointSetTasks.sample(checkpoint: checkpoint, path: path, recipe: try stored.decode(PointSetRecipe.self), count: count,
                                            classIndex: classIndex, temperature: temperature, seed: seed, output: output)
        }
        let recipe = try stored.decode(GenerativeRecipe.self)
        var diffusion = GenerativeNetwork.DiffusionSampling(recipe.evaluation)
        if recipe.model.kind == .ddpm {
            if let sampler {
                guard let kind = DiffusionSamplerKind(rawValue: sampler) else {
                    throw TrainingError("--sampler \(sampler): expected one of \(DiffusionSamplerKind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                diffusion.sampler = kind
                // The recipe's η belongs to its own sampler.
                if kind == .ddpm { diffusion.eta = 0 }
            }
            if let steps {
                guard (1...recipe.model.timesteps).contains(steps) else {
                    throw TrainingError("--steps \(steps) is out of range: \(path)'s chain has \(recipe.model.timesteps) steps, so 1…\(recipe.model.timesteps)")
                }
                diffusion.steps = steps
            }
            if let eta {
                guard eta >= 0, eta.isFinite else { throw TrainingError("--eta must be non-negative and finite (0: deterministic DDIM, 1: DDPM's variance), got \(eta)") }
                guard diffusion.sampler == .ddim else { throw TrainingError("--eta \(eta) is the DDIM sampler's; add --sampler ddim") }
                diffusion.eta = eta
            }
            guard temperature == 1 else {
                throw TrainingError("--temperature \(temperature): a ddpm has no sampling temperature (its noise is the chain's own); use --sampler ddim --eta for its stochasticity")
            }
        } else if sampler != nil || steps != nil || eta != nil {
            throw TrainingError("--sampler, --steps and --eta are a diffusion model's; \(path) holds a \(recipe.model.kind.rawValue)")
        }
        var initialization = RandomGenerator(seed: recipe.seed).derived(stream: RandomStreams.initialization)
        let network = try GenerativeNetwork(recipe.model, levels: recipe.data.levels, generator: &initialization)
        if let classIndex {
            guard network.classCount > 0 else {
                throw TrainingError("--class \(classIndex): \(path) holds an unconditional \(recipe.model.kind.rawValue), which draws digits of no chosen class; drop --class (a cvae or a class-conditional ddpm takes one)")
            }
            guard (0..<network.classCount).contains(classIndex) else {
                throw TrainingError("--class \(classIndex) is out of range: \(path)'s \(recipe.model.kind.rawValue) draws classes 0…\(network.classCount - 1)")
            }
        }
        _ = try TrainingCheckpoint.restore(checkpoint, path: path, model: network.module, optimizer: nil)
        network.module.eval()
        let labels = network.classCount == 0 ? [] : (0..<count).map { classIndex ?? $0 % network.classCount }
        var generator = RandomGenerator(seed: seed)
        let samples = try network.sample(count: count, labels: labels, temperature: temperature, diffusion: diffusion, generator: &generator)
        try GenerativeWorkload.writeGrid(samples, columns: classIndex == nil && network.classCount > 0 ? network.classCount : nil,
                                         to: URL(fileURLWithPath: output))
        let how = recipe.model.kind == .ddpm
            ? "with \(diffusion.sampler.rawValue) in \(diffusion.steps ?? recipe.model.timesteps) steps" + (diffusion.sampler == .ddim ? " at eta \(diffusion.eta)" : "")
            : "at temperature \(temperature)"
        return "wrote \(min(count, 64)) of \(count) \(recipe.model.kind.rawValue) samples \(how) to \(output)"
    }
}

extension StepTrainer {
    /// A trainer for a generative recipe: each process takes its share of every step's batch of
    /// digits; rank 0 evaluates and writes `samples.png` into `runDirectory`.
    public convenience init(recipe: GenerativeRecipe, recipeYAML: String, runDirectory: RunDirectory,
                            collective: (any TrainingCollective)? = nil, showProgress: Bool = true) throws {
        let worldSize = collective?.worldSize ?? 1
        if recipe.data.batchSize < worldSize {
            throw TrainingError("data.batchSize \(recipe.data.batchSize) is smaller than the \(worldSize) processes: each trains on its share of every batch and needs at least one image per step")
        }
        try self.init(recipe: recipe as any StepRecipe, recipeYAML: recipeYAML, runDirectory: runDirectory, collective: collective,
                      showProgress: showProgress) { generator in
            try GenerativeWorkload(recipe, runDirectory: runDirectory, generator: &generator)
        }
    }
}
