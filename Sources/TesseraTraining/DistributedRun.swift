import Foundation
import TesseraConfig
import TesseraDistributed

/// The coordinator and worker processes of a data-parallel run under MPI:
///
///     mpirun -np 1 tessera-coordinator RECIPE [options] : -np N tessera-worker
///
/// The coordinator (rank 0) reads and validates the recipe and sends its task and resolved text to
/// every worker, so workers need no recipe file. Then every rank builds the same trainer for the
/// task (`rankRun(task:recipe:yaml:recipeFile:weights:)`) and trains: the coordinator also
/// computes gradients (on a small machine every core counts), decides where to resume, evaluates,
/// logs and alone writes checkpoints.
public enum DistributedRun {
    /// What the coordinator tells every worker before training: the run, or why there is none.
    struct Assignment: Codable {
        /// The recipe's `task:` (`classification` when it names none).
        var task: String?
        var recipeYAML: String?
        var recipeFile: String?
        var error: String?
    }

    /// One rank's part of a run, as the recipe's task defines it.
    struct RankRun {
        /// The recipe's `name:` (the default run directory is `runs/<name>`).
        var name: String
        var distributed: DistributedSection
        /// Builds this rank's trainer on `collective`, trains into `directory` and returns the result.
        var train: (_ collective: CommunicatorCollective, _ directory: RunDirectory, _ resume: ResumeRequest,
                    _ showProgress: Bool) throws -> TrainingResult
        /// The result's headline for the coordinator's closing lines (`test accuracy 97.50%`).
        var headline: (TrainingResult) -> String
    }

    /// The tasks that train under MPI, by the recipe's `task:`. Both the coordinator (to validate
    /// the recipe before the workers start) and every worker (from the coordinator's text) call it;
    /// a task that trains data-parallel adds its case here.
    static func rankRun(task: String, recipe: Recipe, yaml: String, recipeFile: String, weights: String?) throws -> RankRun {
        switch task {
        case "classification":
            let decoded = try recipe.decode(ClassificationRecipe.self)
            return RankRun(name: decoded.name, distributed: decoded.distributed, train: { collective, directory, resume, showProgress in
                let trainer = try ClassificationTrainer(recipe: decoded, recipeYAML: yaml, recipeFile: recipeFile, runDirectory: directory,
                                                        collective: collective, showProgress: showProgress)
                if let weights, collective.rank == 0 { try trainer.loadInitialWeights(safetensorsPath: weights) }
                return try trainer.train(resume: resume)
            }, headline: { result in
                "test accuracy " + (result.finalMetrics["test_accuracy"].map { String(format: "%.2f%%", $0 * 100) } ?? "n/a")
            })
        case _ where ActorLearnerRun.taskNames.contains(task):
            return try ActorLearnerRun.rankRun(recipe: recipe, yaml: yaml, recipeFile: recipeFile, weights: weights)
        case _ where TransformerTasks.taskNames.contains(task):
            let decoded = try recipe.decode(TransformerRecipe.self)
            return try stepRankRun(family: "transformer", name: decoded.name, distributed: decoded.distributed, weights: weights,
                                   headline: TransformerTasks.headline) { collective, directory, showProgress in
                try StepTrainer(recipe: decoded, recipeYAML: yaml, runDirectory: directory, collective: collective, showProgress: showProgress)
            }
        case GraphTasks.taskName:
            let decoded = try recipe.decode(GraphRecipe.self)
            return try stepRankRun(family: "graph", name: decoded.name, distributed: decoded.distributed, weights: weights,
                                   headline: GraphTasks.headline) { collective, directory, showProgress in
                try StepTrainer(recipe: decoded, recipeYAML: yaml, recipeFile: recipeFile, runDirectory: directory,
                                collective: collective, showProgress: showProgress)
            }
        case ODETasks.taskName:
            let decoded = try recipe.decode(ODERecipe.self)
            return try stepRankRun(family: "ODE", name: decoded.name, distributed: decoded.distributed, weights: weights,
                                   headline: { $0.metricsLine }) { collective, directory, showProgress in
                try StepTrainer(recipe: decoded, recipeYAML: yaml, runDirectory: directory, collective: collective, showProgress: showProgress)
            }
        case SelfSupervisedTasks.taskName:
            let decoded = try recipe.decode(SelfSupervisedRecipe.self)
            return try stepRankRun(family: "self-supervised", name: decoded.name, distributed: decoded.distributed, weights: weights,
                                   headline: { $0.metricsLine }) { collective, directory, showProgress in
                try StepTrainer(recipe: decoded, recipeYAML: yaml, runDirectory: directory, collective: collective, showProgress: showProgress)
            }
        case GenerativeTasks.taskName where PointSetRecipe.handles(recipe):
            let decoded = try recipe.decode(PointSetRecipe.self)
            return try stepRankRun(family: "generative", name: decoded.name, distributed: decoded.distributed, weights: weights,
                                   headline: { $0.metricsLine }) { collective, directory, showProgress in
                try StepTrainer(recipe: decoded, recipeYAML: yaml, runDirectory: directory, collective: collective, showProgress: showProgress)
            }
        case GenerativeTasks.taskName:
            let decoded = try recipe.decode(GenerativeRecipe.self)
            return try stepRankRun(family: "generative", name: decoded.name, distributed: decoded.distributed, weights: weights,
                                   headline: { $0.metricsLine }) { collective, directory, showProgress in
                try StepTrainer(recipe: decoded, recipeYAML: yaml, runDirectory: directory, collective: collective, showProgress: showProgress)
            }
        default:
            let known = ["classification"] + TransformerTasks.taskNames
                + [GraphTasks.taskName, ODETasks.taskName, SelfSupervisedTasks.taskName, GenerativeTasks.taskName]
                + ActorLearnerRun.taskNames
            throw TrainingError("\(recipeFile): task '\(task)' does not train with several processes (these do: \(known.joined(separator: ", "))); train it without --np")
        }
    }

    /// The rank run of a family that ``StepTrainer`` trains. Such recipes start from their seed or
    /// a checkpoint, so `--weights` (classification's start from safetensors) is refused by name.
    private static func stepRankRun(family: String, name: String, distributed: DistributedSection, weights: String?,
                                    headline: @escaping (TrainingResult) -> String,
                                    trainer: @escaping (CommunicatorCollective, RunDirectory, Bool) throws -> StepTrainer) throws -> RankRun {
        if weights != nil { throw TrainingError("--weights loads classification models; \(family) recipes start from their seed or --resume") }
        return RankRun(name: name, distributed: distributed, train: { collective, directory, resume, showProgress in
            try trainer(collective, directory, showProgress).train(resume: resume)
        }, headline: headline)
    }

    public struct CoordinatorOptions {
        public var recipePath: String
        public var overrides: [String]
        public var runDirectory: String?
        public var resume: ResumeRequest
        public var quiet: Bool
        /// Initial weights (safetensors) for rank 0; the broadcast hands them to the workers.
        public var weights: String?
        /// Called on rank 0 with the run directory's path and the resolved recipe once the recipe
        /// is valid, before the workers are told to start (the dashboard starts here); returns
        /// what to call once training has ended. An error stops every rank before training, with
        /// its message.
        public var beforeTraining: ((_ runDirectory: String, _ recipeYAML: String) throws -> () -> Void)?

        public init(recipePath: String, overrides: [String], runDirectory: String?, resume: ResumeRequest, quiet: Bool,
                    weights: String? = nil) {
            self.weights = weights
            self.recipePath = recipePath
            self.overrides = overrides
            self.runDirectory = runDirectory
            self.resume = resume
            self.quiet = quiet
        }
    }

    /// Runs rank 0. Returns the process exit status.
    public static func coordinator(_ options: CoordinatorOptions) -> Int32 {
        let communicator: MPICommunicator
        do { communicator = try MPICommunicator.world() } catch {
            printError("tessera-coordinator: cannot start MPI: \(error)")
            return 1
        }
        guard communicator.rank == 0 else {
            printError("tessera-coordinator: must be rank 0 but is rank \(communicator.rank); start it first: mpirun -np 1 tessera-coordinator RECIPE : -np N tessera-worker")
            communicator.abort(code: 2)
        }
        var assignment = Assignment()
        var run: RankRun?
        var afterTraining: () -> Void = {}
        do {
            let loaded = try loadRecipe(path: options.recipePath, overrides: options.overrides)
            let task = loaded.root.mapping?["task"]?.string ?? "classification"
            let yaml = try loaded.canonicalYAML()
            let rankRun = try rankRun(task: task, recipe: loaded, yaml: yaml, recipeFile: options.recipePath, weights: options.weights)
            if let beforeTraining = options.beforeTraining {
                afterTraining = try beforeTraining(options.runDirectory ?? "runs/\(rankRun.name)", yaml)
            }
            run = rankRun
            (assignment.task, assignment.recipeYAML, assignment.recipeFile) = (task, yaml, options.recipePath)
        } catch {
            assignment.error = "\(error)"
        }
        defer { afterTraining() }
        do {
            _ = try communicator.broadcast(bytes: Array(try JSONEncoder().encode(assignment)), root: 0,
                                           timeout: DistributedSection().collectiveTimeoutSeconds)
        } catch {
            fail(communicator, "tessera-coordinator: cannot reach the workers: \(error)")
        }
        guard let run else {
            printError(assignment.error ?? "tessera-coordinator: no recipe")
            try? communicator.finalize()
            return 1
        }
        return train(run, runDirectory: options.runDirectory ?? "runs/\(run.name)", resume: options.resume, quiet: options.quiet,
                     communicator: communicator)
    }

    /// Runs a worker rank. Returns the process exit status.
    public static func worker() -> Int32 {
        let communicator: MPICommunicator
        do { communicator = try MPICommunicator.world() } catch {
            printError("tessera-worker: cannot start MPI: \(error)")
            return 1
        }
        guard communicator.rank != 0 else {
            printError("tessera-worker: rank 0 must be the coordinator: mpirun -np 1 tessera-coordinator RECIPE : -np N tessera-worker")
            communicator.abort(code: 2)
        }
        let assignment: Assignment
        do {
            let bytes = try communicator.broadcast(bytes: [], root: 0, timeout: DistributedSection().collectiveTimeoutSeconds)
            assignment = try JSONDecoder().decode(Assignment.self, from: Data(bytes))
        } catch {
            fail(communicator, "tessera-worker \(communicator.rank): no assignment from the coordinator: \(error)")
        }
        guard let task = assignment.task, let yaml = assignment.recipeYAML, let file = assignment.recipeFile else {
            try? communicator.finalize()
            return 1  // the coordinator reports the recipe's problem
        }
        let run: RankRun
        do {
            run = try rankRun(task: task, recipe: try Recipe(yaml: yaml, file: file), yaml: yaml, recipeFile: file, weights: nil)
        } catch {
            fail(communicator, "tessera-worker \(communicator.rank): the coordinator's recipe does not decode: \(error)")
        }
        // Workers write nothing; their trainer still needs a directory, so it gets a scratch one.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-worker-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        return train(run, runDirectory: scratch, resume: .none, quiet: true, communicator: communicator)
    }

    /// Trains this rank's part of `run`; rank 0 then prints where the results are.
    private static func train(_ run: RankRun, runDirectory: String, resume: ResumeRequest, quiet: Bool,
                              communicator: MPICommunicator) -> Int32 {
        communicator.defaultTimeout = run.distributed.collectiveTimeoutSeconds
        InterruptSignal.install()
        let isCoordinator = communicator.rank == 0
        do {
            let collective = CommunicatorCollective(communicator: communicator, settings: run.distributed)
            let result = try run.train(collective, try RunDirectory(path: runDirectory), isCoordinator ? resume : .none, !quiet)
            if isCoordinator {
                printResult(result, name: run.name, headline: run.headline(result), worldSize: communicator.size, directory: runDirectory)
            }
            if let signalName = result.interruptedBy {
                // mpirun is already tearing the job down after a signal and no longer answers
                // MPI_Finalize's closing handshake; exit without it (the checkpoint is written).
                return signalName == "SIGINT" ? 130 : 143
            }
            try communicator.finalize()
            return 0
        } catch {
            fail(communicator, "tessera \(isCoordinator ? "coordinator" : "worker \(communicator.rank)"): \(error)")
        }
    }

    /// Reports `message` and ends the whole job: a rank that stops alone would leave the others
    /// waiting in a collective forever.
    private static func fail(_ communicator: MPICommunicator, _ message: String) -> Never {
        printError(message)
        communicator.abort(code: 1)
    }

    private static func printResult(_ result: TrainingResult, name: String, headline: String, worldSize: Int, directory: String) {
        let run = URL(fileURLWithPath: directory)
        print("""
        trained \(name) on \(worldSize) processes: \(result.steps) steps in \(String(format: "%.1f", result.wallSeconds)) s, \(headline)
          checkpoint: \(result.checkpointPath ?? "none")
          metrics:    \(run.appendingPathComponent("metrics.jsonl").path)
          summary:    \(run.appendingPathComponent("summary.json").path)
          curves:     \(run.appendingPathComponent("curves.png").path)
        """)
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
