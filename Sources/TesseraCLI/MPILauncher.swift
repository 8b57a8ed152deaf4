import ArgumentParser
import Foundation
import TesseraTraining

/// Runs the `mpirun` line of a data-parallel run on this machine and waits for it:
///
///     mpirun -np 1 tessera-coordinator RECIPE … : -np N-1 tessera-worker
///
/// with `--allow-run-as-root` when running as root, `--oversubscribe` when N exceeds the cores,
/// and one BLAS thread per process. A SIGTERM or SIGINT to this launcher (a scheduler's
/// pre-emption, Ctrl-C) is passed to `mpirun` as SIGUSR1, which `mpirun` forwards to every rank
/// (it would answer SIGTERM itself by killing the ranks); the ranks then save a checkpoint and exit.
enum MPILauncher {
    /// The running `mpirun`, for the signal handlers.
    nonisolated(unsafe) private static var child: pid_t = 0

    static func run(processes: Int, coordinatorArguments: [String]) throws -> Int32 {
        let directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        let coordinator = directory.appendingPathComponent("tessera-coordinator").path
        let worker = directory.appendingPathComponent("tessera-worker").path
        for executable in [coordinator, worker] where !FileManager.default.isExecutableFile(atPath: executable) {
            throw ValidationError("--np needs \(executable); build all products (swift build -c release)")
        }
        guard let mpirun = findInPath("mpirun") else {
            throw ValidationError("--np needs mpirun (Debian: apt-get install openmpi-bin)")
        }
        var arguments: [String] = []
        if getuid() == 0 { arguments.append("--allow-run-as-root") }
        if processes > ProcessInfo.processInfo.activeProcessorCount { arguments.append("--oversubscribe") }
        arguments += ["-x", "OPENBLAS_NUM_THREADS=1"]
        // The ranks write through mpirun to our standard output: tell them whether it is a terminal.
        arguments += ["-x", "\(ProgressReporter.styleVariable)=\(isatty(STDOUT_FILENO) == 1 ? "live" : "lines")"]
        arguments += ["-np", "1", coordinator] + coordinatorArguments + [":", "-np", "\(processes - 1)", worker]

        let process = Process()
        process.executableURL = URL(fileURLWithPath: mpirun)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_NUM_THREADS"] = "1"
        process.environment = environment
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber) { _ in if MPILauncher.child > 0 { kill(MPILauncher.child, SIGUSR1) } }
        }
        // A parent may have started us with signals blocked; mpirun and the ranks inherit the mask.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for signalNumber in [SIGTERM, SIGINT, SIGUSR1] { sigaddset(&unblock, signalNumber) }
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        try process.run()
        child = process.processIdentifier
        process.waitUntilExit()
        return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }

    static func findInPath(_ name: String) -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
