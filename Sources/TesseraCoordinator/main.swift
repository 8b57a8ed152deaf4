import ArgumentParser
import Foundation
import TesseraDashboard
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

    @Option(help: "Serve the live dashboard on this port (0: any free port) while training; rank 0 alone serves.")
    var dashboard: Int?

    @Option(name: .customLong("dashboard-host"), help: "The address the dashboard listens on.")
    var dashboardHost = "127.0.0.1"

    func run() throws {
        let request: ResumeRequest = resume == nil ? .none : resume == "auto" ? .automatic : .path(resume!)
        var options = DistributedRun.CoordinatorOptions(recipePath: recipe, overrides: overrides, runDirectory: runDirectory,
                                                        resume: request, quiet: quiet, weights: weights)
        if let port = dashboard {
            let host = dashboardHost
            options.beforeTraining = { directory, yaml in
                let server = try DashboardServer.start(runs: [.init(directory: URL(fileURLWithPath: directory, isDirectory: true), recipe: yaml)],
                                                       host: host, port: port)
                print("dashboard: \(server.url) (until training ends; afterwards: tessera dashboard \(directory))")
                fflush(stdout)
                return { server.stop() }
            }
        }
        let status = DistributedRun.coordinator(options)
        if status != 0 { throw ExitCode(status) }
    }
}

BLASKernelSelection.selectFastKernel()
CoordinatorCommand.main()
