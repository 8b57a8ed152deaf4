import ArgumentParser
import Foundation
import TesseraDashboard
import TesseraTraining

/// `tessera dashboard DIR`: the live dashboard over runs already on disk (finished, interrupted,
/// or training in another process), served until Ctrl-C.
struct DashboardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard", abstract: "Serve the dashboard of a run directory, or of every run in a directory, until Ctrl-C.",
        discussion: """
        The page follows the files as they change, so a run that is still training (say under \
        another shell's `tessera train`) shows live. /metrics serves the runs' latest values in \
        Prometheus's text format.
        """)

    @Argument(help: "A run directory (runs/mlp-digits) or a directory of runs (runs).")
    var directory = "runs"

    @Option(help: "The port to listen on (0: any free port).")
    var port = DashboardArgument.defaultPort

    @Option(help: "The address to listen on; 0.0.0.0 serves other machines too.")
    var host = "127.0.0.1"

    func run() throws {
        let url = URL(fileURLWithPath: directory, isDirectory: true)
        let runs: [DashboardServer.Run]
        if (try? RunRecord(url: url)) != nil {
            runs = [.init(directory: url)]
        } else {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("\(directory): no such directory")
            }
            let found = try RunRecord.runs(in: url)
            guard !found.isEmpty else {
                throw ValidationError("\(directory) is not a run directory (no metrics.jsonl or summary.json) and holds no runs")
            }
            runs = found.map { .init(directory: $0.url) }
        }
        let server = try DashboardServer.start(runs: runs, host: host, port: port)
        print("dashboard: \(server.url) (\(runs.count == 1 ? "1 run" : "\(runs.count) runs"); Ctrl-C stops it)")
        fflush(stdout)
        server.waitForInterrupt()
    }
}

/// `--dashboard [PORT]` of `tessera train`: the port may be left out.
enum DashboardArgument {
    /// The port when `--dashboard` names none (TensorBoard's 6006 is often taken by TensorBoard).
    static let defaultPort = 6070

    /// The arguments with the default port after a `--dashboard` that names none (the next
    /// argument is missing, an option, or not a number).
    static func normalized(_ arguments: [String]) -> [String] {
        var result: [String] = []
        for (index, argument) in arguments.enumerated() {
            result.append(argument)
            if argument == "--dashboard" {
                let next = index + 1 < arguments.count ? arguments[index + 1] : nil
                if next.flatMap(Int.init) == nil { result.append(String(defaultPort)) }
            }
        }
        return result
    }
}

extension TrainCommand {
    /// Starts the dashboard over `directory` when `--dashboard` asked for it; it stops when
    /// training returns (`tessera dashboard` keeps serving a finished run).
    func startDashboard(_ path: String, recipeYAML: String?) throws -> DashboardServer? {
        guard let port = dashboard else { return nil }
        let server = try DashboardServer.start(runs: [.init(directory: URL(fileURLWithPath: path, isDirectory: true), recipe: recipeYAML)],
                                               host: dashboardHost, port: port)
        print("dashboard: \(server.url) (until training ends; afterwards: tessera dashboard \(path))")
        fflush(stdout)
        return server
    }
}
