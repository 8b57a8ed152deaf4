import Foundation
import TesseraConfig
import TesseraDistributed

/// The coordinator and worker processes of a data-parallel run under MPI:
///
///     mpirun -np 1 tessera-coordinator RECIPE [options] : -np N tessera-worker
///
/// The coordinator (rank 0) reads and validates the recipe and sends its resolved text to every
/// worker, so workers need no recipe file. Then every rank builds the same trainer and trains:
/// the coordinator also computes gradients (on a small machine every core counts), decides where
/// to resume, evaluates, logs and alone writes checkpoints.
public enum DistributedRun {
    /// What the coordinator tells every worker before training: the run, or why there is none.
    struct Assignment: Codable {
        var recipeYAML: String?
        var recipeFile: String?
        var error: String?
    }

    public struct CoordinatorOptions {
        public var recipePath: String
        public var overrides: [String]
        public var runDirectory: String?
        public var resume: ResumeRequest
        public var quiet: Bool
        /// Initial weights (safetensors) for rank 0; the broadcast hands them to the workers.
        public var weights: String?

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
        var recipe: ClassificationRecipe?
        do {
            let loaded = try loadRecipe(path: options.recipePath, overrides: options.overrides)
            recipe = try loaded.decode(ClassificationRecipe.self)
            assignment.recipeYAML = try loaded.canonicalYAML()
            assignment.recipeFile = options.recipePath
        } catch {
            assignment.error = "\(error)"
        }
        do {
            _ = try communicator.broadcast(bytes: Array(try JSONEncoder().encode(assignment)), root: 0,
                                           timeout: DistributedSection().collectiveTimeoutSeconds)
        } catch {
            fail(communicator, "tessera-coordinator: cannot reach the workers: \(error)")
        }
        guard let recipe, let yaml = assignment.recipeYAML else {
            printError(assignment.error ?? "tessera-coordinator: no recipe")
            try? communicator.finalize()
            return 1
        }
        return train(recipe: recipe, yaml: yaml, recipeFile: options.recipePath, runDirectory: options.runDirectory,
                     resume: options.resume, quiet: options.quiet, weights: options.weights, communicator: communicator)
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
        guard let yaml = assignment.recipeYAML, let file = assignment.recipeFile else {
            try? communicator.finalize()
            return 1  // the coordinator reports the recipe's problem
        }
        do {
            let recipe = try Recipe(yaml: yaml, file: file).decode(ClassificationRecipe.self)
            return train(recipe: recipe, yaml: yaml, recipeFile: file, runDirectory: nil, resume: .none, quiet: true,
                         weights: nil, communicator: communicator)
        } catch {
            fail(communicator, "tessera-worker \(communicator.rank): the coordinator's recipe does not decode: \(error)")
        }
    }

    private static func train(recipe: ClassificationRecipe, yaml: String, recipeFile: String, runDirectory: String?,
                              resume: ResumeRequest, quiet: Bool, weights: String?, communicator: MPICommunicator) -> Int32 {
        communicator.defaultTimeout = recipe.distributed.collectiveTimeoutSeconds
        InterruptSignal.install()
        let isCoordinator = communicator.rank == 0
        do {
            // Workers write nothing; their trainer still needs a directory, so it gets a scratch one.
            let directoryPath = isCoordinator ? (runDirectory ?? "runs/\(recipe.name)")
                : FileManager.default.temporaryDirectory.appendingPathComponent("tessera-worker-\(getpid())").path
            defer { if !isCoordinator { try? FileManager.default.removeItem(atPath: directoryPath) } }
            let collective = CommunicatorCollective(communicator: communicator, settings: recipe.distributed)
            let trainer = try ClassificationTrainer(recipe: recipe, recipeYAML: yaml, recipeFile: recipeFile,
                                                    runDirectory: try RunDirectory(path: directoryPath),
                                                    collective: collective, showProgress: !quiet)
            if let weights, isCoordinator { try trainer.loadInitialWeights(safetensorsPath: weights) }
            let result = try trainer.train(resume: isCoordinator ? resume : .none)
            if isCoordinator {
                printResult(result, name: recipe.name, worldSize: communicator.size, directory: directoryPath)
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

    private static func printResult(_ result: TrainingResult, name: String, worldSize: Int, directory: String) {
        let accuracy = result.finalMetrics["test_accuracy"].map { String(format: "%.2f%%", $0 * 100) } ?? "n/a"
        let run = URL(fileURLWithPath: directory)
        print("""
        trained \(name) on \(worldSize) processes: \(result.steps) steps in \(String(format: "%.1f", result.wallSeconds)) s, test accuracy \(accuracy)
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
