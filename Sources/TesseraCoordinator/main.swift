import ArgumentParser
import TesseraTensor
import TesseraTraining

/// `tessera-coordinator RECIPE`: rank 0 of a data-parallel run (see `DistributedRun`).
struct CoordinatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tessera-coordinator",
        abstract: "Rank 0 of a data-parallel run: mpirun -np 1 tessera-coordinator RECIPE : -np N tessera-worker")

    @Argument(help: "The recipe (a YAML file).")
    var recipe: String

    @Option(name: .customLong("run-dir"), help: "Where to write metrics, curves and checkpoints.")
    var runDirectory: String?

    @Option(help: "Resume: 'auto' or a checkpoint path.")
    var resume: String?

    @Option(name: .customLong("set"), help: "Override a recipe field (repeatable).")
    var overrides: [String] = []

    @Flag(help: "Print no progress lines.")
    var quiet = false

    @Option(help: "Start from the model weights in this safetensors file.")
    var weights: String?

    func run() throws {
        let request: ResumeRequest = resume == nil ? .none : resume == "auto" ? .automatic : .path(resume!)
        let status = DistributedRun.coordinator(.init(recipePath: recipe, overrides: overrides, runDirectory: runDirectory,
                                                      resume: request, quiet: quiet, weights: weights))
        if status != 0 { throw ExitCode(status) }
    }
}

BLASKernelSelection.selectFastKernel()
CoordinatorCommand.main()
