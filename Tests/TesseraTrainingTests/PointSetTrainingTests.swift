import Foundation
import Testing
import TesseraCheckpoint
import TesseraConfig
import TesseraGenerative
import TesseraTensor
@testable import TesseraTraining

/// G-SchNet recipes (`task: generative`, `model.kind: gschnet`) on the shared step trainer: two
/// ranks give one process's losses, `batchShards: 2` makes `--np 2` bit-identical to one process,
/// runs resume bit for bit, evaluations score validity and histogram distances against the data
/// and the baselines, `tessera sample` draws molecules, and bad keys are refused by name.
@Suite(.serialized) struct PointSetTrainingTests {
    /// A small G-SchNet on 32 sets, batches of 8 (4 per rank), 4 steps, a coarse sampling grid.
    static let tiny = """
        task: generative
        name: tiny-gschnet
        seed: 7
        data: {trainSets: 32, testSets: 16, batchSize: 8}
        model: {kind: gschnet, features: 8, interactions: 1, basisCount: 8, distanceBins: 16, gridSpacing: 0.25}
        evaluation: {samples: 8}
        optimizer: {kind: adam, learningRate: 0.003}
        training: {steps: 4, logEvery: 1, evaluateEvery: 4, checkpointEvery: 4}
        """

    static func decode(yaml: String = tiny, overrides: [String] = []) throws -> (recipe: PointSetRecipe, yaml: String) {
        var recipe = try Recipe(yaml: yaml, file: "tiny-gschnet.yaml")
        try recipe.apply(overrides: overrides)
        return (try recipe.decode(PointSetRecipe.self), try recipe.canonicalYAML())
    }

    static func train(processes: Int, overrides: [String] = [], directories: [URL]? = nil,
                      resume: ResumeRequest = .none) throws -> [RankOutcome] {
        let (recipe, canonical) = try decode(overrides: overrides)
        return try RankRuns.train(processes: processes, distributed: recipe.distributed, prefix: "gschnet", directories: directories,
                                  resume: resume) { runDirectory, collective in
            try StepTrainer(recipe: recipe, recipeYAML: canonical, runDirectory: runDirectory, collective: collective, showProgress: false)
        }
    }

    @Test func twoRanksMatchOneProcess() throws {
        let local = try Self.train(processes: 1)
        defer { RankOutcome.remove(local) }
        let ranks = try Self.train(processes: 2)
        defer { RankOutcome.remove(ranks) }
        #expect(local[0].parameters.keys.contains("firstTypeLogits"), "\(local[0].parameters.keys.sorted())")
        for (name, values) in local[0].parameters {
            #expect(ranks[1].parameters[name] == ranks[0].parameters[name], "\(name) differs between the ranks")
            let other = try #require(ranks[0].parameters[name])
            let gap = zip(values, other).map { abs($0 - $1) }.max() ?? .infinity
            #expect(gap < 1e-5, "\(name) parts from one process's by \(gap)")
        }
        try RunComparisons.expectSameLosses(local[0].directory, ranks[0].directory, steps: 4, "gschnet, 2 ranks against one process",
                                            relativeTolerance: 1e-5)
    }

    /// Through the executables: `--np 1` with two shards and `--np 2` write the same checkpoint bytes.
    @Test func batchShardsTrainOneProcessBitForBitLikeTwo() throws {
        try RunComparisons.expectMpirunMatchesOneProcess(
            recipe: Self.tiny, named: "tiny-gschnet-shards", steps: 4, overrides: ["training.batchShards=2"],
            relativeTolerance: 1e-15, sameMetrics: ["valid_share", "test_nll_nats"], sameCheckpoint: "checkpoints/step-00000004.tsr")
    }

    @Test func resumeIsBitExact() throws {
        try RankRuns.expectResumeIsBitExact(options: ["training.checkpointEvery=1", "training.evaluateEvery=3"],
                                            prefix: "generative-gschnet") { overrides, directories, resume in
            try Self.train(processes: 2, overrides: overrides, directories: directories, resume: resume)
        }
    }

    /// Every evaluation logs the likelihood, validity and histogram distances of the samples, of
    /// held-out sets (valid, near the training histogram) and of the baselines, and draws `samples.png`.
    @Test func evaluationScoresSamplesDataAndBaselines() throws {
        let (recipe, canonical) = try Self.decode(overrides: ["evaluation.samples=24"])
        let directory = CommandLineTool.temporaryDirectory("gschnet-metrics")
        defer { try? FileManager.default.removeItem(at: directory) }
        let trainer = try StepTrainer(recipe: recipe, recipeYAML: canonical, runDirectory: try RunDirectory(path: directory.path),
                                      showProgress: false)
        let metrics = try trainer.train().finalMetrics
        #expect(try #require(metrics["test_nll_nats"]) > 0)
        for prefix in ["", "data_", "random_", "bonded_"] {
            for name in ["valid_share", "distance_histogram_tv", "type_histogram_tv", "size_histogram_tv"] {
                let value = try #require(metrics[prefix + name], "\(prefix + name) missing from \(metrics.keys.sorted())")
                #expect(value >= 0 && value <= 1, "\(prefix + name) = \(value)")
            }
        }
        #expect(try #require(metrics["data_valid_share"]) > 0.9, "held-out sets are templates with 0.02 of jitter")
        #expect(try #require(metrics["random_valid_share"]) < 0.2)
        #expect(try #require(metrics["data_distance_histogram_tv"]) < metrics["random_distance_histogram_tv"]!)
        let png = try Data(contentsOf: directory.appendingPathComponent("samples.png"))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
    }

    /// `tessera train` and `tessera sample` take G-SchNet recipes and checkpoints; `--class` is refused.
    @Test func sampleDrawsMoleculesFromACheckpoint() throws {
        let workspace = CommandLineTool.temporaryDirectory("gschnet-sample")
        defer { try? FileManager.default.removeItem(at: workspace) }
        let recipe = workspace.appendingPathComponent("tiny-gschnet.yaml")
        try Self.tiny.write(to: recipe, atomically: true, encoding: .utf8)
        let run = workspace.appendingPathComponent("run")
        let trained = try CommandLineTool.run(["train", recipe.path, "--run-dir", run.path, "--quiet"])
        #expect(trained.status == 0, "\(trained.errorOutput)")
        let checkpoint = run.appendingPathComponent("checkpoints/step-00000004.tsr").path
        let output = workspace.appendingPathComponent("molecules.png")
        let result = try CommandLineTool.run(["sample", checkpoint, "--count", "6", "--output", output.path])
        #expect(result.status == 0 && result.output.contains("gschnet") && result.output.contains("valid share"), "\(result.errorOutput)")
        #expect(try Data(contentsOf: output).starts(with: [0x89, 0x50, 0x4E, 0x47]))
        try Data("keep".utf8).write(to: output)
        let refused = try CommandLineTool.run(["sample", checkpoint, "--class", "1", "--output", output.path])
        #expect(refused.status != 0 && refused.errorOutput.contains("--class 1"), "\(refused.errorOutput)")
        #expect(try Data(contentsOf: output) == Data("keep".utf8))
    }

    /// A recipe the model cannot be built or sampled from is refused by key before training.
    @Test(arguments: [
        ("model.gridExtent=2", "model.gridExtent"),
        ("model.maximumAtoms=3", "model.maximumAtoms"),
        ("model.gridSpacing=0", "model.gridSpacing"),
        ("model.levels=2", "levels"),
        ("data.noise=-0.1", "data.noise"),
        ("data.trainSets=0", "data.trainSets"),
        ("evaluation.tolerance=0", "evaluation.tolerance"),
        ("evaluation.temperature=0", "evaluation.temperature"),
    ])
    func badRecipesAreRefusedNamingTheKey(override: String, key: String) throws {
        do {
            _ = try Self.decode(overrides: [override])
            Issue.record("\(override) was accepted")
        } catch {
            #expect("\(error)".contains(key), "\(override): \(error)")
        }
    }
}
