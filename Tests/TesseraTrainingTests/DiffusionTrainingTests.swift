import Foundation
import Testing
import TesseraCheckpoint
import TesseraConfig
import TesseraTensor
@testable import TesseraTraining

/// Diffusion recipes (`task: generative`, `model.kind: ddpm`) on the shared step trainer: two
/// ranks give one process's losses (the timesteps and the noise are drawn for the global batch),
/// runs resume bit for bit, evaluation logs the ε-MSE, the consistency and the step sweep, and
/// `tessera sample` takes `--sampler/--steps/--eta` and refuses them where they do not apply.
@Suite(.serialized) struct DiffusionTrainingTests {
    /// A 20-step chain and a U-Net of 8 and 16 channels: seconds per run.
    static func tiny(conditional: Bool = false) -> String {
        GenerativeTrainingTests.tiny("ddpm", model: ", timesteps: 20, groups: 4, classConditional: \(conditional)")
            .replacingOccurrences(of: "name: tiny-ddpm", with: "name: tiny-ddpm\(conditional ? "-conditional" : "")")
    }

    static func train(conditional: Bool = false, processes: Int, overrides: [String] = [], directories: [URL]? = nil,
                      resume: ResumeRequest = .none) throws -> [RankOutcome] {
        try GenerativeTrainingTests.train(yaml: tiny(conditional: conditional), processes: processes, overrides: overrides,
                                          directories: directories, resume: resume)
    }

    @Test(arguments: [false, true])
    func twoRanksMatchOneProcess(conditional: Bool) throws {
        let local = try Self.train(conditional: conditional, processes: 1)
        defer { RankOutcome.remove(local) }
        let ranks = try Self.train(conditional: conditional, processes: 2)
        defer { RankOutcome.remove(ranks) }
        #expect(local[0].parameters.keys.contains { $0.contains("labelEmbedding") } == conditional)
        for (name, values) in local[0].parameters {
            #expect(ranks[1].parameters[name] == ranks[0].parameters[name], "\(name) differs between the ranks")
            let other = try #require(ranks[0].parameters[name])
            let gap = zip(values, other).map { abs($0 - $1) }.max() ?? .infinity
            #expect(gap < 1e-5, "\(name) parts from one process's by \(gap)")
        }
        try RunComparisons.expectSameLosses(local[0].directory, ranks[0].directory, steps: 4, "ddpm, 2 ranks against one process",
                                            relativeTolerance: 1e-5)
    }

    /// Through the executables with `batchShards: 2`: `--np 1` (two shards in one process) and
    /// `--np 2` (mpirun) log the same losses and write the same checkpoint bytes.
    @Test func batchShardsTrainOneProcessBitForBitLikeTwo() throws {
        try RunComparisons.expectMpirunMatchesOneProcess(
            recipe: Self.tiny(), named: "tiny-ddpm-shards", steps: 4,
            overrides: ["training.batchShards=2", "optimizer.kind=adam", "optimizer.learningRate=0.003", "optimizer.momentum=0"],
            relativeTolerance: 1e-15, sameMetrics: ["test_loss"], sameCheckpoint: "checkpoints/step-00000004.tsr")
    }

    @Test func resumeIsBitExact() throws {
        try RankRuns.expectResumeIsBitExact(options: ["training.checkpointEvery=1", "training.evaluateEvery=3"], prefix: "generative-ddpm") {
            overrides, directories, resume in
            try Self.train(processes: 2, overrides: overrides, directories: directories, resume: resume)
        }
    }

    /// The evaluation's ε-MSE is the primary metric; the consistency and the sweep are logged for
    /// each step count asked; samples.png is written.
    @Test func evaluationLogsTheNoiseErrorConsistencyAndSweep() throws {
        let (recipe, canonical) = try GenerativeTrainingTests.decode(
            yaml: Self.tiny(), overrides: ["evaluation.sampler=ddim", "evaluation.samplingSteps=5", "evaluation.eta=0.5",
                                           "evaluation.consistencySteps=[20, 4]", "evaluation.stepSweep=[2, 10]"])
        let directory = CommandLineTool.temporaryDirectory("generative-ddpm-metrics")
        defer { try? FileManager.default.removeItem(at: directory) }
        let trainer = try StepTrainer(recipe: recipe, recipeYAML: canonical, runDirectory: try RunDirectory(path: directory.path),
                                      showProgress: false)
        let metrics = try trainer.train().finalMetrics
        let loss = try #require(metrics["test_loss"])
        #expect(loss > 0 && loss < 5, "ε-MSE \(loss)")
        #expect(metrics["test_bits_per_dim"] == nil, "a diffusion model reports no likelihood")
        let distance = try #require(metrics["consistency_20_4_pixel_distance"])
        #expect(distance > 0 && distance < 1, "\(distance)")
        #expect(metrics["ddim2_seconds"] != nil && metrics["ddim10_seconds"] != nil)
        #expect(metrics["consistency_20_4_class_agreement"] == nil, "no yardstick, no classes")
        for figure in ["samples.png", "ddim_steps.png", "interpolation.png"] {
            #expect(try Data(contentsOf: directory.appendingPathComponent(figure)).starts(with: [0x89, 0x50, 0x4E, 0x47]), "\(figure)")
        }
    }

    @Test(arguments: [
        ("model.timesteps=1", "model.timesteps"),
        ("model.betaEnd=1.5", "model.betaEnd"),
        ("model.betaStart=0", "model.betaStart"),
        ("model.betaStart=0.1", "model.betaStart"),
        ("model.noiseSchedule=quadratic", "noiseSchedule"),
        ("model.channelMultipliers=[1, 2, 2, 2, 2]", "model.channelMultipliers"),
        ("model.hiddenChannels=6", "model.hiddenChannels"),
        ("evaluation.samplingSteps=0", "evaluation.samplingSteps"),
        ("evaluation.samplingSteps=21", "evaluation.samplingSteps"),
        ("evaluation.eta=-1", "evaluation.eta"),
        ("evaluation.eta=0.5", "evaluation.eta"),
        ("evaluation.temperature=0.7", "evaluation.temperature"),
        ("evaluation.consistencySteps=[10]", "evaluation.consistencySteps"),
        ("evaluation.stepSweep=[10, 50]", "evaluation.stepSweep"),
        ("evaluation.sampler=euler", "sampler"),
    ])
    func badRecipesAreRefusedNamingTheKey(override: String, key: String) throws {
        do {
            _ = try GenerativeTrainingTests.decode(yaml: Self.tiny(), overrides: [override])
            Issue.record("\(override) was accepted")
        } catch {
            #expect("\(error)".contains(key), "\(override): \(error)")
        }
    }

    /// `tessera sample` on a ddpm checkpoint with DDIM's settings, and a class-conditional one
    /// with `--class`; wrong settings stop it naming the flag, the output untouched.
    @Test func sampleTakesTheSamplerStepsAndEta() throws {
        let workspace = CommandLineTool.temporaryDirectory("generative-ddpm-sample")
        defer { try? FileManager.default.removeItem(at: workspace) }
        let recipe = workspace.appendingPathComponent("tiny-ddpm.yaml")
        try Self.tiny(conditional: true).write(to: recipe, atomically: true, encoding: .utf8)
        let run = workspace.appendingPathComponent("ddpm")
        let trained = try CommandLineTool.run(["train", recipe.path, "--run-dir", run.path, "--quiet"])
        #expect(trained.status == 0, "\(trained.errorOutput)")
        let checkpoint = run.appendingPathComponent("checkpoints/step-00000004.tsr").path
        let output = workspace.appendingPathComponent("grid.png")
        let result = try CommandLineTool.run(["sample", checkpoint, "--output", output.path, "--sampler", "ddim", "--steps", "5",
                                              "--eta", "0.3", "--class", "7", "--count", "6"])
        #expect(result.status == 0, "\(result.errorOutput)")
        #expect(result.output.contains("ddim in 5 steps at eta 0.3"), "\(result.output)")
        #expect(try Data(contentsOf: output).starts(with: [0x89, 0x50, 0x4E, 0x47]))

        let (glow, _) = try GenerativeTrainingTests.trainedCheckpoint("glow", in: workspace)
        let keep = workspace.appendingPathComponent("keep.png")
        try Data("keep".utf8).write(to: keep)
        let cases: [([String], String)] = [
            ([checkpoint, "--steps", "21"], "--steps 21 is out of range"),
            ([checkpoint, "--steps", "0"], "--steps 0 is out of range"),
            ([checkpoint, "--sampler", "ddim", "--eta", "-1"], "--eta"),
            ([checkpoint, "--eta", "0.5"], "--sampler ddim"),
            ([checkpoint, "--sampler", "heun"], "--sampler heun"),
            ([checkpoint, "--temperature", "0.5"], "--temperature"),
            ([checkpoint, "--class", "10"], "--class 10 is out of range"),
            ([glow, "--steps", "5"], "holds a glow"),
        ]
        for (arguments, message) in cases {
            let result = try CommandLineTool.run(["sample"] + arguments + ["--output", keep.path])
            #expect(result.status != 0 && result.errorOutput.contains(message), "\(arguments): \(result.errorOutput)")
            #expect(try Data(contentsOf: keep) == Data("keep".utf8), "\(arguments) touched the output")
        }
    }
}
