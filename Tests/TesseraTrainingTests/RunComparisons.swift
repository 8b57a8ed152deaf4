import Foundation
import Testing
import TesseraCheckpoint
import TesseraDistributed
import TesseraTraining

/// The checks every family's data-parallel and resume tests make on finished runs: the logged
/// losses of two runs agree step by step, two checkpoints hold the same bytes, and `tessera train
/// --np 2` logs the losses of `--np 1`.
enum RunComparisons {
    /// The losses in `expected`'s and `actual`'s `metrics.jsonl` are logged at steps 1…`steps` and
    /// agree to `relativeTolerance` at each (the issues' 1e-4 unless a family promises more).
    static func expectSameLosses(_ expected: URL, _ actual: URL, steps: Int, _ label: String, relativeTolerance: Double = 1e-4,
                                 sourceLocation: SourceLocation = #_sourceLocation) throws {
        let (reference, other) = (try TransformerDistributedTests.losses(expected), try TransformerDistributedTests.losses(actual))
        #expect(reference.keys.sorted() == Array(1...steps) && other.keys.sorted() == Array(1...steps),
                "\(label): logged steps \(reference.keys.sorted()) and \(other.keys.sorted())", sourceLocation: sourceLocation)
        for step in 1...steps {
            let (a, b) = (reference[step] ?? .nan, other[step] ?? .nan)
            #expect(abs(a - b) <= relativeTolerance * abs(a), "\(label) step \(step): loss \(b) vs \(a) (\(abs(a - b) / abs(a)) relative)",
                    sourceLocation: sourceLocation)
        }
    }

    /// The checkpoint at `path` in both run directories has the same entries with the same bytes.
    static func expectSameCheckpoint(_ path: String, in expected: URL, _ actual: URL,
                                     sourceLocation: SourceLocation = #_sourceLocation) throws {
        let reference = try Checkpoint.read(from: expected.appendingPathComponent(path).path).entries
        let other = try Checkpoint.read(from: actual.appendingPathComponent(path).path).entries
        #expect(reference.map(\.name) == other.map(\.name) && !reference.isEmpty, sourceLocation: sourceLocation)
        for (a, b) in zip(reference, other) {
            let same = a.bytes == b.bytes
            #expect(same, "\(a.name) differs in \(path)", sourceLocation: sourceLocation)
        }
    }

    /// Through the built executables: `tessera train RECIPE --np 1` and `--np 2` (a coordinator and a
    /// worker under mpirun) both succeed and log the same losses at steps 1…`steps`, each run with
    /// `overrides` (`--set`) besides the step count, and the same last values of `sameMetrics`
    /// (and, given `sameCheckpoint`, the same bytes in that checkpoint).
    static func expectMpirunMatchesOneProcess(recipe yaml: String, named name: String, steps: Int, overrides: [String] = [],
                                              relativeTolerance: Double = 1e-4, sameMetrics: [String] = [],
                                              sameCheckpoint: String? = nil,
                                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        let workspace = CommandLineTool.temporaryDirectory("\(name)-mpi")
        defer { try? FileManager.default.removeItem(at: workspace) }
        let recipeFile = workspace.appendingPathComponent("\(name).yaml")
        try yaml.write(to: recipeFile, atomically: true, encoding: .utf8)
        let directories = [1, 2].map { workspace.appendingPathComponent("np\($0)") }
        for (processes, directory) in zip([1, 2], directories) {
            let settings = (["training.steps=\(steps)"] + overrides).flatMap { ["--set", $0] }
            let result = try CommandLineTool.run(["train", recipeFile.path, "--np", "\(processes)", "--run-dir", directory.path,
                                                  "--quiet"] + settings)
            #expect(result.status == 0, "np \(processes): \(result.errorOutput)", sourceLocation: sourceLocation)
        }
        try expectSameLosses(directories[0], directories[1], steps: steps, "\(name), np 2 against np 1",
                             relativeTolerance: relativeTolerance, sourceLocation: sourceLocation)
        let (alone, together) = (try lastMetrics(directories[0]), try lastMetrics(directories[1]))
        for key in sameMetrics {
            #expect(alone[key] != nil && together[key] == alone[key], "\(name) \(key): np 2 \(together[key] ?? .nan), np 1 \(alone[key] ?? .nan)",
                    sourceLocation: sourceLocation)
        }
        if let sameCheckpoint {
            try expectSameCheckpoint(sameCheckpoint, in: directories[0], directories[1], sourceLocation: sourceLocation)
        }
    }

    /// Trains `recipe` with `settings` once uninterrupted and once killed with SIGKILL at a random
    /// moment (up to `maximumDelay` µs) after its first checkpoint, then resumes the killed run
    /// with `--resume auto`; both must end with the same model and optimizer bytes in
    /// `lastCheckpoint`. Returns the two run directories (reference, interrupted) inside `workspace`.
    @discardableResult
    static func expectKilledRunResumesBitForBit(recipe: String, settings: [String], lastCheckpoint: String,
                                                maximumDelay: UInt32, in workspace: URL,
                                                sourceLocation: SourceLocation = #_sourceLocation) throws -> (URL, URL) {
        let (reference, interrupted) = (workspace.appendingPathComponent("reference"), workspace.appendingPathComponent("interrupted"))
        let uninterrupted = try CommandLineTool.run(["train", recipe, "--run-dir", reference.path] + settings)
        #expect(uninterrupted.status == 0, "\(uninterrupted.errorOutput)", sourceLocation: sourceLocation)

        let (process, _, _) = try CommandLineTool.start(["train", recipe, "--run-dir", interrupted.path] + settings)
        let checkpoints = interrupted.appendingPathComponent("checkpoints")
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: checkpoints.path)) ?? []
            if files.contains(where: { $0.hasPrefix("step-") && $0.hasSuffix(".tsr") }) { break }
            usleep(5_000)
        }
        usleep(UInt32.random(in: 0...maximumDelay))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "the run finished before it could be killed", sourceLocation: sourceLocation)

        let resumed = try CommandLineTool.run(["train", recipe, "--run-dir", interrupted.path, "--resume", "auto"] + settings)
        #expect(resumed.status == 0, "\(resumed.errorOutput)", sourceLocation: sourceLocation)
        let expected = try ExactResumeTests.modelEntries(reference.appendingPathComponent(lastCheckpoint).path)
        let actual = try ExactResumeTests.modelEntries(interrupted.appendingPathComponent(lastCheckpoint).path)
        #expect(expected.keys.sorted() == actual.keys.sorted() && !expected.isEmpty, sourceLocation: sourceLocation)
        for (name, bytes) in expected where name.hasPrefix("model/") || name.hasPrefix("optimizer/") {
            #expect(actual[name] == bytes, "\(name) differs after resume", sourceLocation: sourceLocation)
        }
        return (reference, interrupted)
    }

    /// Each metric's last logged value in the run directory's `metrics.jsonl` (evaluation metrics
    /// appear only on evaluation steps).
    static func lastMetrics(_ directory: URL) throws -> [String: Double] {
        let text = try String(contentsOf: directory.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        var result: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            for (key, value) in object { if let number = value as? Double { result[key] = number } }
        }
        return result
    }
}

/// What one rank of an in-process run ends with: its parameters by name and its run directory.
struct RankOutcome {
    let parameters: [String: [Float]]
    let directory: URL

    static func remove(_ outcomes: [RankOutcome]) {
        for outcome in outcomes { try? FileManager.default.removeItem(at: outcome.directory) }
    }
}

/// Step-trainer runs with several ranks in one process, as the graph and ODE tests make them.
enum RankRuns {
    /// Trains with `processes` ranks, each a thread with the trainer `makeTrainer` builds on its
    /// run directory (`directories[rank]`, or a fresh one named after `prefix`) and collective
    /// (none for one process); rank 0 alone gets `resume`, as under `mpirun`.
    static func train(processes: Int, distributed: DistributedSection, prefix: String, directories: [URL]? = nil,
                      resume: ResumeRequest = .none,
                      makeTrainer: @escaping (RunDirectory, (any TrainingCollective)?) throws -> StepTrainer) throws -> [RankOutcome] {
        let directories = directories ?? (0..<processes).map { CommandLineTool.temporaryDirectory("\(prefix)-rank\($0)") }
        let group = LocalCommunicator.group(size: processes)
        return try onThreads(processes) { rank in
            let collective = processes == 1 ? nil : CommunicatorCollective(communicator: group[rank], settings: distributed)
            let trainer = try makeTrainer(try RunDirectory(path: directories[rank].path), collective)
            _ = try trainer.train(resume: rank == 0 ? resume : .none)
            let parameters = Dictionary(uniqueKeysWithValues: trainer.model.namedParameters().map { ($0.name, $0.parameter.scalars) })
            return RankOutcome(parameters: parameters, directory: directories[rank])
        }
    }

    /// A 2-rank run of 6 steps against one stopped after 3 and resumed with `auto`: the step-6
    /// checkpoints must hold the same bytes. `train(overrides, directories, resume)` runs 2 ranks.
    static func expectResumeIsBitExact(options: [String], prefix: String,
                                       train: ([String], [URL]?, ResumeRequest) throws -> [RankOutcome],
                                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let reference = try train(options + ["training.steps=6"], nil, .none)
        defer { RankOutcome.remove(reference) }
        let directories = (0..<2).map { CommandLineTool.temporaryDirectory("\(prefix)-resumed\($0)") }
        defer { for url in directories { try? FileManager.default.removeItem(at: url) } }
        _ = try train(options + ["training.steps=3"], directories, .none)
        _ = try train(options + ["training.steps=6"], directories, .automatic)
        try RunComparisons.expectSameCheckpoint("checkpoints/step-00000006.tsr", in: reference[0].directory, directories[0],
                                                sourceLocation: sourceLocation)
    }
}
