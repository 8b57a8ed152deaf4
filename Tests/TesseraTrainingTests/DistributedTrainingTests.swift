import Foundation
import Testing
import TesseraCheckpoint

@testable import TesseraTraining

/// Data-parallel runs under `mpirun --oversubscribe` (through `tessera train --np N`): the same
/// results as local mode, interchangeable checkpoints, and clean failure on faults.
@Suite(.serialized) struct DistributedTrainingTests {
    /// 69 steps of the default recipe without dropout (dropout streams differ per rank by design),
    /// logging every step so the losses can be compared step by step.
    static let shortRun = ["--set", "training.epochs=3", "--set", "model.dropout=0", "--set", "training.logEvery=1",
                           "--set", "schedule.warmupSteps=10", "--quiet"]

    static func losses(_ directory: URL) throws -> [Int: Double] {
        let text = try String(contentsOf: directory.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        var result: [Int: Double] = [:]
        for line in text.split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            if let step = object["step"] as? Int, let loss = object["loss"] as? Double { result[step] = loss }
        }
        return result
    }

    @Test func localTwoAndThreeProcessRunsAgreeStepByStep() throws {
        var directories: [Int: URL] = [:]
        defer { for url in directories.values { try? FileManager.default.removeItem(at: url) } }
        for processes in [1, 2, 3] {
            let directory = CommandLineTool.temporaryDirectory("np\(processes)")
            directories[processes] = directory
            let result = try CommandLineTool.run(["train", "configs/mlp-digits.yaml", "--np", "\(processes)",
                                                  "--run-dir", directory.path] + Self.shortRun)
            #expect(result.status == 0, "np \(processes): \(result.errorOutput)")
        }
        let local = try Self.losses(directories[1]!)
        #expect(local.count == 69)
        for processes in [2, 3] {
            let distributed = try Self.losses(directories[processes]!)
            #expect(distributed.keys.sorted() == local.keys.sorted())
            for step in local.keys.sorted().prefix(50) {
                let (a, b) = (local[step]!, distributed[step] ?? .nan)
                #expect(abs(a - b) <= 1e-4 * abs(a), "np \(processes) step \(step): loss \(b) vs local \(a)")
            }
        }
        // A checkpoint written by 3 processes evaluates the same in local mode as the local run's.
        let evaluations = try [1, 3].map { processes -> String in
            let path = directories[processes]!.appendingPathComponent("checkpoints/step-00000069.tsr").path
            let result = try CommandLineTool.run(["eval", "configs/mlp-digits.yaml", "--checkpoint", path] + Self.shortRun.dropLast())
            #expect(result.status == 0, "\(result.errorOutput)")
            return result.output
        }
        let accuracies = evaluations.map { $0.components(separatedBy: "\"test_accuracy\":").last?.prefix(6) ?? "" }
        #expect(accuracies[0] == accuracies[1] && !accuracies[0].isEmpty, "\(evaluations)")
    }

    /// The CNN with batch norm: synchronized statistics (the default) make 2 processes train as
    /// local mode does; per-process statistics (`distributed.syncBatchNorm=false`) do not.
    @Test func batchNormStatisticsAreSynchronizedAcrossProcesses() throws {
        let options = ["--set", "model.batchNorm=true", "--set", "model.dropout=0", "--set", "training.epochs=1",
                       "--set", "training.logEvery=1", "--set", "training.evaluateEvery=23", "--set", "schedule.warmupSteps=5",
                       "--quiet"]
        var directories: [String: URL] = [:]
        defer { for url in directories.values { try? FileManager.default.removeItem(at: url) } }
        for (name, processes, sync) in [("local", 1, true), ("synchronized", 2, true), ("per-process", 2, false)] {
            let directory = CommandLineTool.temporaryDirectory("batchnorm-\(name)")
            directories[name] = directory
            let result = try CommandLineTool.run(["train", "configs/cnn-digits.yaml", "--np", "\(processes)", "--run-dir", directory.path,
                                                  "--set", "distributed.syncBatchNorm=\(sync)"] + options)
            #expect(result.status == 0, "\(name): \(result.errorOutput)")
        }
        let local = try Self.losses(directories["local"]!)
        let synchronized = try Self.losses(directories["synchronized"]!)
        let perProcess = try Self.losses(directories["per-process"]!)
        #expect(local.count == 23 && synchronized.keys.sorted() == local.keys.sorted())
        for step in local.keys.sorted() {
            let (a, b) = (local[step]!, synchronized[step] ?? .nan)
            #expect(abs(a - b) <= 1e-4 * abs(a), "step \(step): synchronized loss \(b) vs local \(a)")
        }
        let largestGap = local.keys.map { abs(local[$0]! - (perProcess[$0] ?? .nan)) / abs(local[$0]!) }.max() ?? 0
        #expect(largestGap > 1e-3, "per-process statistics should change the losses; largest relative gap \(largestGap)")
    }

    @Test func resumeWithADifferentNumberOfProcesses() throws {
        let directory = CommandLineTool.temporaryDirectory("regroup")
        defer { try? FileManager.default.removeItem(at: directory) }
        // Train with 2 processes, then continue from the step-46 checkpoint with 3 processes.
        let first = try CommandLineTool.run(["train", "configs/mlp-digits.yaml", "--np", "2", "--run-dir", directory.path]
                                            + Self.shortRun + ["--set", "training.checkpointEvery=23"])
        #expect(first.status == 0, "\(first.errorOutput)")
        let resumed = try CommandLineTool.run(["train", "configs/mlp-digits.yaml", "--np", "3", "--run-dir", directory.path,
                                               "--resume", "\(directory.path)/checkpoints/step-00000046.tsr"] + Self.shortRun)
        #expect(resumed.status == 0, "\(resumed.errorOutput)")
        // Rank 0 alone writes TensorBoard events: one file a launch, the resumed one starting
        // again from the kept history, so its scalars are metrics.jsonl's, record for record.
        let eventFiles = try RunDirectoryEventsTests.eventFiles(directory)
        #expect(eventFiles.count == 2)
        let metrics = try RunRecord.readMetrics(directory.appendingPathComponent("metrics.jsonl"))
        let events = try RunDirectoryEventsTests.records(try #require(eventFiles.last))
        #expect(events.count == 2 + metrics.count + 1)
        for (record, event) in zip(metrics, events.dropFirst(2)) {
            #expect(event == RunDirectoryEventsTests.scalarRecord(record, wallTime: RunDirectoryEventsTests.wallTime(event)), "step \(record.step)")
        }
        let reference = CommandLineTool.temporaryDirectory("regroup-reference")
        defer { try? FileManager.default.removeItem(at: reference) }
        let local = try CommandLineTool.run(["train", "configs/mlp-digits.yaml", "--run-dir", reference.path] + Self.shortRun)
        #expect(local.status == 0)
        let (expected, actual) = (try Self.losses(reference), try Self.losses(directory))
        for step in 47...69 {
            let (a, b) = (expected[step]!, actual[step] ?? .nan)
            #expect(abs(a - b) <= 1e-3 * abs(a), "step \(step): resumed \(b) vs uninterrupted \(a)")
        }
    }

    // MARK: - Faults

    /// A long run (30 epochs) of the default recipe with `processes` processes; returns the
    /// launcher, its pipes, and the ranks' process ids once training is under way.
    static func startLongRun(processes: Int, directory: URL, extra: [String] = []) throws
        -> (launcher: Process, output: Pipe, errors: Pipe, ranks: [Int: pid_t]) {
        let (launcher, output, errors) = try CommandLineTool.start(
            ["train", "configs/mlp-digits.yaml", "--np", "\(processes)", "--run-dir", directory.path,
             "--set", "training.epochs=30", "--set", "training.logEvery=5", "--quiet"] + extra)
        let deadline = Date().addingTimeInterval(60)
        var ranks: [Int: pid_t] = [:]
        while Date() < deadline {
            ranks = rankProcesses(of: launcher.processIdentifier)
            if ranks.count == processes && FileManager.default.fileExists(atPath: directory.appendingPathComponent("metrics.jsonl").path) {
                break
            }
            usleep(50_000)
        }
        return (launcher, output, errors, ranks)
    }

    /// The MPI ranks started under `launcher` (launcher → mpirun → ranks), by rank.
    static func rankProcesses(of launcher: pid_t) -> [Int: pid_t] {
        var ranks: [Int: pid_t] = [:]
        for mpirun in children(of: launcher) {
            for rankProcess in children(of: mpirun) {
                guard let environment = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(rankProcess)/environ")) else { continue }
                for entry in environment.split(separator: 0) {
                    let text = String(decoding: entry, as: UTF8.self)
                    if text.hasPrefix("OMPI_COMM_WORLD_RANK="), let rank = Int(text.dropFirst(21)) { ranks[rank] = rankProcess }
                }
            }
        }
        return ranks
    }

    static func children(of parent: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == parent
        }
    }

    /// Waits for `process` to exit, at most `seconds`; returns whether it did.
    static func waitForExit(_ process: Process, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        return !process.isRunning
    }

    static func cleanUp(_ launcher: Process, ranks: [Int: pid_t]) {
        for pid in ranks.values { kill(pid, SIGCONT); kill(pid, SIGKILL) }
        for mpirun in children(of: launcher.processIdentifier) { kill(mpirun, SIGKILL) }
        if launcher.isRunning { kill(launcher.processIdentifier, SIGKILL) }
        launcher.waitUntilExit()
    }

    @Test func killedWorkerEndsTheJobWithin30SecondsNamingTheRank() throws {
        let directory = CommandLineTool.temporaryDirectory("killed")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (launcher, _, errors, ranks) = try Self.startLongRun(processes: 3, directory: directory)
        defer { Self.cleanUp(launcher, ranks: ranks) }
        let victim = try #require(ranks[2], "rank 2 did not start: \(ranks)")
        kill(victim, SIGKILL)
        let start = Date()
        #expect(Self.waitForExit(launcher, seconds: 30), "the job still runs 30 s after rank 2 died")
        #expect(Date().timeIntervalSince(start) < 30)
        #expect(launcher.terminationStatus != 0)
        let message = String(decoding: errors.fileHandleForReading.availableData, as: UTF8.self)
        #expect(message.contains("rank 2"), "\(message)")
    }

    @Test func stalledRankIsReportedByTheCoordinatorAfterTheTimeout() throws {
        let directory = CommandLineTool.temporaryDirectory("stalled")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (launcher, _, errors, ranks) = try Self.startLongRun(
            processes: 3, directory: directory, extra: ["--set", "distributed.collectiveTimeoutSeconds=3"])
        defer { Self.cleanUp(launcher, ranks: ranks) }
        let stalled = try #require(ranks[1], "rank 1 did not start: \(ranks)")
        kill(stalled, SIGSTOP)  // alive but never joins another collective
        #expect(Self.waitForExit(launcher, seconds: 30), "the job hangs on the stalled rank")
        #expect(launcher.terminationStatus != 0)
        let message = String(decoding: errors.fileHandleForReading.availableData, as: UTF8.self)
        #expect(message.contains("timed out") || message.contains("timeout"), "\(message)")
        #expect(message.contains("[1]"), "the missing rank is not named: \(message)")
    }

    @Test(arguments: ["launcher", "coordinator"])
    func sigtermWritesACheckpointThenEveryProcessExits(target: String) throws {
        let directory = CommandLineTool.temporaryDirectory("preempt-\(target)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (launcher, _, errors, ranks) = try Self.startLongRun(processes: 2, directory: directory)
        defer { Self.cleanUp(launcher, ranks: ranks) }
        let pid = target == "launcher" ? launcher.processIdentifier : try #require(ranks[0])
        kill(pid, SIGTERM)
        #expect(Self.waitForExit(launcher, seconds: 30), "the job did not stop after SIGTERM to the \(target)")
        #expect(launcher.terminationStatus == 143, "\(String(decoding: errors.fileHandleForReading.availableData, as: UTF8.self))")
        for (_, pid) in ranks { #expect(kill(pid, 0) != 0 || isZombie(pid), "rank process \(pid) is still alive") }
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("checkpoints").path)
        let saved = try #require(files.filter { $0.hasPrefix("step-") }.sorted().last)
        let summary = try Checkpoint.verify(directory.appendingPathComponent("checkpoints/\(saved)").path)
        #expect(summary.metadata["kind"] == "tessera.training")
    }

    func isZombie(_ pid: pid_t) -> Bool {
        (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?.contains(") Z ") ?? true
    }
}

extension DistributedTrainingTests {
    /// Every collective of the MPI communicator against serial results, on 3 real MPI ranks.
    @Test func everyCollectivePassesTheMPISelfTestOnThreeRanks() throws {
        let selfTest = try CommandLineTool.executableURL.deletingLastPathComponent().appendingPathComponent("tessera-mpi-selftest")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var arguments = ["mpirun", "--oversubscribe", "-np", "3", "-x", "OPENBLAS_NUM_THREADS=1", selfTest.path, "--no-measure"]
        if getuid() == 0 { arguments.insert("--allow-run-as-root", at: 1) }
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.components(separatedBy: "all MPI checks passed").count - 1 == 3, "\(text)")
    }

    /// Under mpirun the ranks write to pseudo-terminals; when the launcher's own output is a file
    /// or a pipe (`make train > log`) the progress must still be plain lines, without the live
    /// line's carriage returns and erase sequences.
    @Test func progressThroughMpirunIntoAPipeHasNoControlSequences() throws {
        let directory = CommandLineTool.temporaryDirectory("plain-progress")
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try CommandLineTool.run(["train", "configs/mlp-digits.yaml", "--np", "2", "--run-dir", directory.path,
                                              "--set", "training.epochs=2", "--set", "schedule.warmupSteps=5"])
        #expect(result.status == 0, "\(result.errorOutput)")
        #expect(result.output.contains("step 23/46"), "\(result.output)")
        #expect(!result.output.contains("\u{1B}") && !result.output.contains("\r"), "control bytes in: \(result.output.debugDescription)")
    }
}
