import Foundation
import Testing
import TesseraCheckpoint
import TesseraConfig
import TesseraDistributed
import TesseraTraining

/// Self-supervised recipes (`task: selfsupervised`) on the shared step trainer: two ranks give one
/// process's losses (SimCLR's negatives gathered over the ranks, batch norm over the global batch,
/// DINO's centre summed over them), runs resume bit for bit with the EMA teacher, the target and
/// the centre in the checkpoint, and bad settings are refused by key.
@Suite(.serialized) struct SelfSupervisedTrainingTests {
    /// Small versions of each method: a 64-wide MLP encoder, batches of 16 (8 per rank), 4 steps.
    /// SGD with momentum, not Adam: Adam's first steps divide each gradient by its own size, so a
    /// gradient that is zero but for rounding (the bias before a batch norm) moves by a whole
    /// learning rate in a direction the rounding picks, and the 2-rank and 1-process runs part by
    /// 3e-4 after one step for that reason alone (measured; with SGD they agree to 2e-7).
    static func tiny(_ method: String) -> String {
        """
        task: selfsupervised
        name: tiny-\(method)
        seed: 3
        method: {kind: \(method), hiddenSize: 32, projectionSize: 16, outputDimensions: 32, bottleneckSize: 16, localCrops: 2}
        encoder: {kind: mlp, hiddenSizes: [64], representationSize: 32}
        data: {batchSize: 16, labelFraction: 0.2}
        optimizer: {kind: sgd, learningRate: 0.1, momentum: 0.9}
        training: {steps: 4, logEvery: 1}
        """
    }

    static func decode(yaml: String, overrides: [String] = []) throws -> (recipe: SelfSupervisedRecipe, yaml: String) {
        var recipe = try Recipe(yaml: yaml, file: "tiny-ssl.yaml")
        try recipe.apply(overrides: overrides)
        return (try recipe.decode(SelfSupervisedRecipe.self), try recipe.canonicalYAML())
    }

    static func train(yaml: String, processes: Int, overrides: [String] = [], directories: [URL]? = nil,
                      resume: ResumeRequest = .none) throws -> [RankOutcome] {
        let (recipe, canonical) = try decode(yaml: yaml, overrides: overrides)
        return try RankRuns.train(processes: processes, distributed: recipe.distributed, prefix: "ssl", directories: directories,
                                  resume: resume) { runDirectory, collective in
            try StepTrainer(recipe: recipe, recipeYAML: canonical, runDirectory: runDirectory, collective: collective, showProgress: false)
        }
    }

    /// Every method's loss, step by step, with two ranks equals one process's (to float rounding),
    /// and both ranks end with the same parameters. For SimCLR this needs the gathered negatives:
    /// a rank contrasting its 8 samples alone has a loss of another size (log 15 against log 31
    /// at the start).
    @Test(arguments: ["simclr", "byol", "dino", "supervised"])
    func twoRanksMatchOneProcess(method: String) throws {
        let local = try Self.train(yaml: Self.tiny(method), processes: 1)
        defer { RankOutcome.remove(local) }
        let ranks = try Self.train(yaml: Self.tiny(method), processes: 2)
        defer { RankOutcome.remove(ranks) }
        for (name, _) in local[0].parameters {
            #expect(ranks[1].parameters[name] == ranks[0].parameters[name], "\(method): \(name) differs between the ranks")
        }
        try RunComparisons.expectSameLosses(local[0].directory, ranks[0].directory, steps: 4, "\(method), 2 ranks against one process",
                                            relativeTolerance: 1e-5)
    }

    /// Through the executables: `tessera train --np 2` (a coordinator and a worker under mpirun)
    /// logs SimCLR's losses of `--np 1`, the negatives gathered over real MPI ranks.
    @Test func mpirunWithTwoProcessesLogsTheLossesOfOneProcess() throws {
        try RunComparisons.expectMpirunMatchesOneProcess(recipe: Self.tiny("simclr"), named: "tiny-simclr", steps: 4,
                                                         relativeTolerance: 1e-5)
    }

    /// With `training.batchShards: 2` and Adam (which amplifies last-bit differences, see `tiny`):
    /// `tessera train --np 1` runs two ranks on threads of its process and `--np 2` two processes
    /// under mpirun, and both log the same losses and write the same checkpoint bytes, the
    /// negatives gathered, batch norm synchronised and DINO's centre all-reduced either way.
    @Test(arguments: ["simclr", "byol", "dino"])
    func batchShardsTrainOneProcessBitForBitLikeTwo(method: String) throws {
        try RunComparisons.expectMpirunMatchesOneProcess(
            recipe: Self.tiny(method), named: "tiny-\(method)-shards", steps: 8,
            overrides: ["training.batchShards=2", "optimizer.kind=adam", "optimizer.learningRate=0.003", "optimizer.momentum=0"],
            relativeTolerance: 1e-15, sameCheckpoint: "checkpoints/step-00000008.tsr")
    }

    /// A rank of the in-process pair that fails (rank 0 cannot read the checkpoint to resume from)
    /// releases the other, which waits for rank 0's progress: the run stops at once naming the
    /// file, instead of waiting for the collective timeout.
    @Test func inProcessRanksStopTogetherWhenOneFails() throws {
        let workspace = CommandLineTool.temporaryDirectory("ssl-shards-fail")
        defer { try? FileManager.default.removeItem(at: workspace) }
        let recipe = workspace.appendingPathComponent("tiny.yaml")
        try Self.tiny("simclr").write(to: recipe, atomically: true, encoding: .utf8)
        let missing = workspace.appendingPathComponent("missing.tsr").path
        let started = Date()
        let result = try CommandLineTool.run(["train", recipe.path, "--set", "training.batchShards=2", "--resume", missing,
                                              "--run-dir", workspace.appendingPathComponent("run").path, "--quiet"])
        #expect(result.status != 0, "expected a failure, got: \(result.output)")
        #expect(result.errorOutput.contains("missing.tsr") && !result.errorOutput.contains("another rank stopped"), "\(result.errorOutput)")
        #expect(Date().timeIntervalSince(started) < 30, "the other rank waited for its timeout")
    }

    /// A run killed with SIGKILL after its first checkpoint and resumed with `auto` ends with the
    /// uninterrupted run's bytes: BYOL's target and DINO's teacher and centre are in the
    /// checkpoint, and their decay schedules follow the step. (Stopping a run by giving it fewer
    /// steps would not do: the cosine schedules of the EMA stretch over the run's length.)
    @Test(arguments: ["byol", "dino"])
    func killedRunResumedMatchesTheUninterruptedRunBitForBit(method: String) throws {
        let workspace = CommandLineTool.temporaryDirectory("ssl-killed-\(method)")
        defer { try? FileManager.default.removeItem(at: workspace) }
        let recipe = workspace.appendingPathComponent("tiny-\(method).yaml")
        try Self.tiny(method).write(to: recipe, atomically: true, encoding: .utf8)
        let settings = ["training.steps=60", "training.checkpointEvery=5", "training.logEvery=10"].flatMap { ["--set", $0] } + ["--quiet"]
        try RunComparisons.expectKilledRunResumesBitForBit(recipe: recipe.path, settings: settings,
                                                           lastCheckpoint: "checkpoints/step-00000060.tsr",
                                                           maximumDelay: 300_000, in: workspace)
    }

    /// The evaluation scores the encoder with the labelled share: all the downstream metrics are
    /// there and in range.
    @Test func evaluationReportsTheDownstreamMetrics() throws {
        let (recipe, canonical) = try Self.decode(yaml: Self.tiny("simclr"))
        let directory = CommandLineTool.temporaryDirectory("ssl-metrics")
        defer { try? FileManager.default.removeItem(at: directory) }
        let trainer = try StepTrainer(recipe: recipe, recipeYAML: canonical, runDirectory: try RunDirectory(path: directory.path),
                                      showProgress: false)
        let metrics = try trainer.train().finalMetrics
        for key in ["probe_accuracy", "knn_accuracy", "kmeans_nmi", "kmeans_ari"] {
            let value = try #require(metrics[key], "\(key) missing from \(metrics.keys.sorted())")
            #expect(value > 0.1 && value <= 1, "\(key) \(value)")
        }
        let rank = try #require(metrics["effective_rank"])
        #expect(rank > 1 && rank <= 32)
    }

    @Test(arguments: [
        ("method.temperature=0", "method.temperature"),
        ("method.kind=simsiam", "method.kind"),
        ("data.labelFraction=0", "data.labelFraction"),
        ("views.scale=[0.5, 2]", "views.scale"),
        ("views.localScale=[0]", "views.localScale"),
        ("method.centerMomentum=1", "method.centerMomentum"),
        ("encoder.channels=[8, 8, 8, 8]", "encoder.channels"),
    ])
    func badSettingsAreRefusedNamingTheKey(override: String, key: String) throws {
        do {
            _ = try Self.decode(yaml: Self.tiny("dino"), overrides: [override])
            Issue.record("\(override) was accepted")
        } catch {
            #expect("\(error)".contains(key), "\(override): \(error)")
        }
    }
}
