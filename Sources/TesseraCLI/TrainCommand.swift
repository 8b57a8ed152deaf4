import ArgumentParser
import Foundation
import TesseraConfig
import TesseraTraining

/// `tessera train RECIPE`: trains in local mode (one process) and writes the run directory.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a recipe on this machine.",
        discussion: """
        Writes metrics.jsonl, summary.json, curves.png, checkpoints/ and a TensorBoard event file \
        (events.out.tfevents.*: `tensorboard --logdir runs`) into the run directory \
        (runs/<recipe name> unless --run-dir is given). SIGINT or SIGTERM saves a checkpoint, then exits.
        """)

    @Argument(help: "The recipe (a YAML file, e.g. configs/mlp-digits.yaml).")
    var recipe: String

    @Option(name: .customLong("run-dir"), help: "Where to write metrics, curves and checkpoints.")
    var runDirectory: String?

    @Option(help: "Resume: 'auto' takes the newest checkpoint in the run directory that verifies; or a checkpoint path.")
    var resume: String?

    @Option(name: .customLong("set"), help: "Override a recipe field: --set optimizer.learningRate=0.01 (repeatable).")
    var overrides: [String] = []

    @Flag(help: "Print no progress lines.")
    var quiet = false

    @Option(help: "Train with N processes on this machine under mpirun: a coordinator and N-1 workers.")
    var np: Int?

    @Option(help: "Start from the model weights in this safetensors file (e.g. exported from PyTorch).")
    var weights: String?

    @Option(help: ArgumentHelp("Serve the live dashboard on this port while training (--dashboard alone: 6070; 0: any free port). Only rank 0 serves; it stops when training ends.", valueName: "port"))
    var dashboard: Int?

    @Option(name: .customLong("dashboard-host"), help: "The address the dashboard listens on; 0.0.0.0 serves other machines too.")
    var dashboardHost = "127.0.0.1"

    func run() throws {
        if let np {
            guard np >= 1 else { throw ValidationError("--np must be at least 1, got \(np)") }
            if np > 1 {
                var forwarded = [recipe] + overrides.flatMap { ["--set", $0] }
                if let runDirectory { forwarded += ["--run-dir", runDirectory] }
                if let resume { forwarded += ["--resume", resume] }
                if quiet { forwarded.append("--quiet") }
                if let weights { forwarded += ["--weights", weights] }
                if let dashboard { forwarded += ["--dashboard", String(dashboard), "--dashboard-host", dashboardHost] }
                let status = try MPILauncher.run(processes: np, coordinatorArguments: forwarded)
                if status != 0 { throw ExitCode(status) }
                return
            }
        }
        let recipeValue = try loadRecipe(path: recipe, overrides: overrides)
        if TransformerTasks.handles(recipeValue) {
            try trainTransformer(recipeValue)
            return
        }
        if GraphTasks.handles(recipeValue) {
            try trainGraph(recipeValue)
            return
        }
        if ODETasks.handles(recipeValue) {
            try trainODE(recipeValue)
            return
        }
        if SelfSupervisedTasks.handles(recipeValue) {
            try trainStepFamily("self-supervised", recipeValue, name: try SelfSupervisedTasks.name(of: recipeValue), headline: { $0.metricsLine }) {
                try SelfSupervisedTasks.train(recipe: recipeValue, runDirectory: $0, resume: $1, showProgress: !quiet)
            }
            return
        }
        if GenerativeTasks.handles(recipeValue) {
            try trainStepFamily("generative", recipeValue, name: try GenerativeTasks.name(of: recipeValue), headline: { $0.metricsLine }) {
                try GenerativeTasks.train(recipe: recipeValue, runDirectory: $0, resume: $1, showProgress: !quiet)
            }
            return
        }
        let task = recipeValue.root.mapping?["task"]?.string ?? "classification"
        if ReinforcementTasks.taskNames.contains(task) {
            try trainReinforcement(recipeValue, task: task)
            return
        }
        let loaded = try LoadedRecipe(recipeValue)
        let path = runDirectory ?? "runs/\(loaded.classification.name)"
        // Before the run directory exists: a port in use leaves nothing behind.
        let server = try startDashboard(path, recipeYAML: loaded.yaml)
        let directory = try RunDirectory(path: path)
        defer { server?.stop() }
        InterruptSignal.install()
        let trainer = try ClassificationTrainer(recipe: loaded.classification, recipeYAML: loaded.yaml, recipeFile: recipe,
                                                runDirectory: directory, showProgress: !quiet)
        if let weights { try trainer.loadInitialWeights(safetensorsPath: weights) }
        let request: ResumeRequest = resume == nil ? .none : resume == "auto" ? .automatic : .path(resume!)
        let result = try trainer.train(resume: request)
        if let signalName = result.interruptedBy {
            throw ExitCode(signalName == "SIGINT" ? 130 : 143)
        }
        let accuracy = result.finalMetrics["test_accuracy"].map { String(format: "%.2f%%", $0 * 100) } ?? "n/a"
        print("""
        trained \(loaded.classification.name): \(result.steps) steps in \(String(format: "%.1f", result.wallSeconds)) s, test accuracy \(accuracy)
          checkpoint: \(result.checkpointPath ?? "none")
          metrics:    \(directory.metricsURL.path)
          summary:    \(directory.summaryURL.path)
          curves:     \(directory.curvesURL.path)
        """)
    }
}

extension TrainCommand {
    /// A recipe of a family that `StepTrainer` trains (transformers, graphs, neural ODEs, generative models) in this
    /// process. With `--np N` (N > 1) `run()` has already started it under `mpirun` through
    /// `MPILauncher`, where `DistributedRun` picks the same trainer by the recipe's task.
    func trainStepFamily(_ family: String, _ recipeValue: Recipe, name: @autoclosure () throws -> String, headline: (TrainingResult) -> String,
                         train: (RunDirectory, ResumeRequest) throws -> TrainingResult) throws {
        if weights != nil { throw ValidationError("--weights loads classification models; \(family) recipes start from their seed or --resume") }
        let path = try runDirectory ?? "runs/\(name())"
        let server = try startDashboard(path, recipeYAML: try recipeValue.canonicalYAML())
        let directory = try RunDirectory(path: path)
        defer { server?.stop() }
        InterruptSignal.install()
        let request: ResumeRequest = resume == nil ? .none : resume == "auto" ? .automatic : .path(resume!)
        let result = try train(directory, request)
        if let signalName = result.interruptedBy { throw ExitCode(signalName == "SIGINT" ? 130 : 143) }
        print("trained: \(result.steps) steps in \(String(format: "%.1f", result.wallSeconds)) s; " + headline(result))
        print("  checkpoint: \(result.checkpointPath ?? "none")\n  metrics:    \(directory.metricsURL.path)\n  summary:    \(directory.summaryURL.path)\n  curves:     \(directory.curvesURL.path)")
    }

    /// The transformer tasks: sequence-to-sequence, language models, masked LM, ViT.
    func trainTransformer(_ recipeValue: Recipe) throws {
        try trainStepFamily("transformer", recipeValue, name: try TransformerTasks.name(of: recipeValue), headline: TransformerTasks.headline) {
            try TransformerTasks.train(recipe: recipeValue, recipeFile: recipe, runDirectory: $0, resume: $1, showProgress: !quiet)
        }
    }

    /// Graph recipes (`task: graph`).
    func trainGraph(_ recipeValue: Recipe) throws {
        try trainStepFamily("graph", recipeValue, name: try GraphTasks.name(of: recipeValue), headline: GraphTasks.headline) {
            try GraphTasks.train(recipe: recipeValue, runDirectory: $0, resume: $1, showProgress: !quiet)
        }
    }

    /// Neural-ODE recipes (`task: ode`).
    func trainODE(_ recipeValue: Recipe) throws {
        try trainStepFamily("ODE", recipeValue, name: try ODETasks.name(of: recipeValue), headline: { $0.metricsLine }) {
            try ODETasks.train(recipe: recipeValue, runDirectory: $0, resume: $1, showProgress: !quiet)
        }
    }
}

extension TrainCommand {
    /// The reinforcement-learning tasks in this process. With `--np N` (N > 1) `run()` has already
    /// started the recipe under `mpirun`, where `DistributedRun` runs `impala` and `ddppo` and
    /// refuses the tasks that train in one process.
    func trainReinforcement(_ recipeValue: Recipe, task: String) throws {
        if let np, np > 1, !ActorLearnerRun.taskNames.contains(task) {
            throw ValidationError("reinforcement-learning task '\(task)' trains in one process; drop --np")
        }
        let name = recipeValue.root.mapping?["name"]?.string ?? task
        let path = runDirectory ?? "runs/\(name)"
        let server = try startDashboard(path, recipeYAML: try recipeValue.canonicalYAML())
        let directory = try RunDirectory(path: path)
        defer { server?.stop() }
        InterruptSignal.install()
        let request: ResumeRequest = resume == nil ? .none : resume == "auto" ? .automatic : .path(resume!)
        let result = try ReinforcementTasks.train(recipe: recipeValue, recipeFile: recipe, runDirectory: directory,
                                                  resume: request, showProgress: !quiet)
        if let signalName = result.interruptedBy { throw ExitCode(signalName == "SIGINT" ? 130 : 143) }
        let evaluation = result.finalMetrics["eval_return_mean"].map { String(format: "%.1f", $0) } ?? "n/a"
        print("trained \(name): \(result.steps) steps in \(String(format: "%.1f", result.wallSeconds)) s, eval_return_mean \(evaluation)")
        print("  checkpoint: \(result.checkpointPath ?? "none")\n  metrics:    \(directory.metricsURL.path)\n  summary:    \(directory.summaryURL.path)")
    }
}

/// A recipe file after `--set` overrides: its decoded form and the canonical YAML that is stored
/// in checkpoints.
struct LoadedRecipe {
    let classification: ClassificationRecipe
    let yaml: String

    init(path: String, overrides: [String]) throws {
        let recipe = try loadRecipe(path: path, overrides: overrides)
        try self.init(recipe)
    }

    init(_ recipe: Recipe) throws {
        let task = recipe.root.mapping?["task"]?.string ?? "classification"
        guard task == "classification" else {
            throw ValidationError("\(recipe.file): task '\(task)' is not one this version of tessera trains (known: classification, \((TransformerTasks.taskNames + [GraphTasks.taskName, ODETasks.taskName, SelfSupervisedTasks.taskName, GenerativeTasks.taskName] + ReinforcementTasks.taskNames).joined(separator: ", ")))")
        }
        classification = try recipe.decode(ClassificationRecipe.self)
        yaml = try recipe.canonicalYAML()
    }
}
