import Foundation
import Testing
import TesseraCheckpoint
import TesseraConfig
import TesseraData
import TesseraTensor
@testable import TesseraTraining

/// Generative recipes (`task: generative`) on the shared step trainer: two ranks give one
/// process's losses for every generator (Glow's actnorm initialised from the global batch), runs
/// resume bit for bit, `tessera sample` draws from checkpoints and refuses bad input without
/// touching the output, and the yardstick behaves as a distance should.
@Suite(.serialized) struct GenerativeTrainingTests {
    /// Small versions of each generator: batches of 16 (8 per rank), 4 steps, no yardstick (each
    /// would train the classifier into the repository's `runs/`). SGD, not Adam: Adam divides
    /// near-zero gradients by their own size, which turns last-bit differences between one process
    /// and two ranks into differences of a learning rate (see `SelfSupervisedTrainingTests.tiny`).
    static func tiny(_ kind: String, model: String = "") -> String {
        """
        task: generative
        name: tiny-\(kind)
        seed: 5
        data: {levels: 8, batchSize: 16}
        model: {kind: \(kind), hiddenSizes: [32], latentDimensions: 4, couplingLayers: 2, scales: 2, checkerboardCouplings: 1,
                channelCouplings: 1, finalCouplings: 1, levels: 2, stepsPerLevel: 1, hiddenChannels: 8, layers: 1\(model)}
        evaluation: {samples: 8, importanceSamples: 4, yardstick: ""}
        optimizer: {kind: sgd, learningRate: 0.01, momentum: 0.9}
        training: {steps: 4, logEvery: 1, evaluateEvery: 4, checkpointEvery: 4}
        """
    }

    static let kinds = ["vae", "cvae", "nice", "realnvp", "glow", "pixelcnn"]

    static func decode(yaml: String, overrides: [String] = []) throws -> (recipe: GenerativeRecipe, yaml: String) {
        var recipe = try Recipe(yaml: yaml, file: "tiny-generative.yaml")
        try recipe.apply(overrides: overrides)
        return (try recipe.decode(GenerativeRecipe.self), try recipe.canonicalYAML())
    }

    static func train(yaml: String, processes: Int, overrides: [String] = [], directories: [URL]? = nil,
                      resume: ResumeRequest = .none) throws -> [RankOutcome] {
        let (recipe, canonical) = try decode(yaml: yaml, overrides: overrides)
        return try RankRuns.train(processes: processes, distributed: recipe.distributed, prefix: "generative", directories: directories,
                                  resume: resume) { runDirectory, collective in
            try StepTrainer(recipe: recipe, recipeYAML: canonical, runDirectory: runDirectory, collective: collective, showProgress: false)
        }
    }

    /// Every generator's loss, step by step, with two ranks equals one process's, and both ranks
    /// end with the same parameters. The noise (dequantisation, the VAE's latents) is drawn for
    /// the global batch, so a rank's share is the same numbers either way; Glow's actnorms start
    /// from the whole first batch on both ranks.
    @Test(arguments: kinds)
    func twoRanksMatchOneProcess(kind: String) throws {
        let local = try Self.train(yaml: Self.tiny(kind), processes: 1)
        defer { RankOutcome.remove(local) }
        let ranks = try Self.train(yaml: Self.tiny(kind), processes: 2)
        defer { RankOutcome.remove(ranks) }
        #expect(!local[0].parameters.isEmpty)
        for (name, values) in local[0].parameters {
            #expect(ranks[1].parameters[name] == ranks[0].parameters[name], "\(kind): \(name) differs between the ranks")
            let other = try #require(ranks[0].parameters[name])
            let gap = zip(values, other).map { abs($0 - $1) }.max() ?? .infinity
            #expect(gap < 1e-5, "\(kind): \(name) parts from one process's by \(gap)")
        }
        try RunComparisons.expectSameLosses(local[0].directory, ranks[0].directory, steps: 4, "\(kind), 2 ranks against one process",
                                            relativeTolerance: 1e-5)
    }

    /// Through the executables, with `batchShards: 2`: `--np 1` (two shards on threads) and
    /// `--np 2` (two processes under mpirun) log the same losses and write the same checkpoint
    /// bytes, for the flow whose actnorms initialise from data and the autoregressive model.
    @Test(arguments: ["glow", "pixelcnn"])
    func batchShardsTrainOneProcessBitForBitLikeTwo(kind: String) throws {
        try RunComparisons.expectMpirunMatchesOneProcess(
            recipe: Self.tiny(kind), named: "tiny-\(kind)-shards", steps: 4,
            overrides: ["training.batchShards=2", "optimizer.kind=adam", "optimizer.learningRate=0.003", "optimizer.momentum=0"],
            relativeTolerance: 1e-15, sameMetrics: ["test_bits_per_dim"], sameCheckpoint: "checkpoints/step-00000004.tsr")
    }

    /// Stopped after 3 steps and resumed to 6, every generator's step-6 checkpoint holds the bytes
    /// of an uninterrupted run's (Glow's initialised-actnorm flags are buffers in it).
    @Test(arguments: kinds)
    func resumeIsBitExact(kind: String) throws {
        try RankRuns.expectResumeIsBitExact(options: ["training.checkpointEvery=1", "training.evaluateEvery=3"],
                                            prefix: "generative-\(kind)") { overrides, directories, resume in
            try Self.train(yaml: Self.tiny(kind), processes: 2, overrides: overrides, directories: directories, resume: resume)
        }
    }

    /// A run killed with SIGKILL after its first checkpoint and resumed with `auto` ends with the
    /// uninterrupted run's bytes.
    @Test func killedGlowRunResumedMatchesTheUninterruptedRunBitForBit() throws {
        let workspace = CommandLineTool.temporaryDirectory("generative-killed")
        defer { try? FileManager.default.removeItem(at: workspace) }
        let recipe = workspace.appendingPathComponent("tiny-glow.yaml")
        try Self.tiny("glow").write(to: recipe, atomically: true, encoding: .utf8)
        let settings = ["training.steps=80", "training.checkpointEvery=5", "training.logEvery=10", "training.evaluateEvery=40"]
            .flatMap { ["--set", $0] } + ["--quiet"]
        try RunComparisons.expectKilledRunResumesBitForBit(recipe: recipe.path, settings: settings,
                                                           lastCheckpoint: "checkpoints/step-00000080.tsr",
                                                           maximumDelay: 300_000, in: workspace)
    }

    /// Every evaluation logs the likelihood in both units (consistent with each other), the
    /// independent-pixel baseline, and writes the sample grid; a VAE adds its ELBO, which the
    /// importance-weighted bound must not fall below.
    @Test(arguments: ["vae", "glow"])
    func evaluationLogsLikelihoodsAndSamples(kind: String) throws {
        let (recipe, canonical) = try Self.decode(yaml: Self.tiny(kind))
        let directory = CommandLineTool.temporaryDirectory("generative-metrics-\(kind)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let trainer = try StepTrainer(recipe: recipe, recipeYAML: canonical, runDirectory: try RunDirectory(path: directory.path),
                                      showProgress: false)
        let metrics = try trainer.train().finalMetrics
        let nats = try #require(metrics["test_nll_nats"]), bits = try #require(metrics["test_bits_per_dim"])
        #expect(abs(bits - nats / (64 * log(2))) < 1e-9 && bits > 0, "\(bits) bits/dim against \(nats) nats")
        let baseline = try #require(metrics["baseline_bits_per_dim"])
        #expect(baseline > 0.5 && baseline < 3, "8 grey levels hold at most 3 bits: \(baseline)")
        if kind == "vae" {
            let elbo = try #require(metrics["test_elbo_nats"])
            #expect(nats <= elbo + 1e-3, "the IWAE bound (\(nats) nats) must be at least as tight as the ELBO's (\(elbo))")
        }
        let png = try Data(contentsOf: directory.appendingPathComponent("samples.png"))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
    }

    /// With `data.outlierClass` the class is left out of training and its test digits are scored
    /// by the likelihood: both AUROCs are logged, and a trained model ranks the unseen class above
    /// chance.
    @Test func outlierClassIsHeldOutAndScored() throws {
        let (recipe, canonical) = try Self.decode(yaml: Self.tiny("vae"),
                                                  overrides: ["data.outlierClass=0", "training.steps=300", "training.evaluateEvery=300",
                                                              "training.checkpointEvery=300", "training.logEvery=100",
                                                              "optimizer.kind=adam", "optimizer.momentum=0"])
        let directory = CommandLineTool.temporaryDirectory("generative-outlier")
        defer { try? FileManager.default.removeItem(at: directory) }
        let trainer = try StepTrainer(recipe: recipe, recipeYAML: canonical, runDirectory: try RunDirectory(path: directory.path),
                                      showProgress: false)
        let metrics = try trainer.train().finalMetrics
        let outlier = try #require(metrics["outlier_auroc"]), blurred = try #require(metrics["blurred_auroc"])
        #expect(outlier > 0.6 && outlier <= 1, "outlier AUROC \(outlier)")
        #expect(blurred >= 0 && blurred <= 1)
    }

    /// The independent-pixel baseline: pixels that are always the same value cost no bits beyond
    /// the smoothing, and a pixel uniform over its levels costs log2(levels) bits.
    @Test func independentPixelBaselineCountsBits() {
        let constant = Tensor.zeros([200, 4])
        #expect(independentPixelBitsPerDimension(train: constant, test: constant, levels: 4) < 0.03)
        let cycle = Tensor(shape: [400, 1], scalars: (0..<400).map { Float($0 % 4) / 3 })
        #expect(abs(independentPixelBitsPerDimension(train: cycle, test: cycle, levels: 4) - 2) < 1e-6)
    }

    /// The quantisation keeps the digits' order and uses every level: 17 levels change nothing.
    @Test func quantizationKeepsSeventeenLevelsExactly() throws {
        let pixels = try Digits.split(seed: 0).train.inputs
        #expect(quantizedDigits(pixels, levels: 17).scalars.map { ($0 * 16).rounded() } == pixels.scalars.map { ($0 * 16).rounded() })
        let four = Set(quantizedDigits(pixels, levels: 4).scalars.map { ($0 * 3).rounded() })
        #expect(four == [0, 1, 2, 3])
    }

    /// The yardstick's Fréchet distance in its own classifier's features: held-out digits are near,
    /// noise is far, and blurring moves away monotonically; real digits are classified well and
    /// confidently, noise is not confident.
    @Test func yardstickScoresRealDigitsNearNoiseFarAndBlurMonotonically() throws {
        let cache = CommandLineTool.temporaryDirectory("yardstick")
        defer { try? FileManager.default.removeItem(at: cache) }
        let path = CommandLineTool.repositoryRoot.appendingPathComponent("configs/generative-yardstick-digits.yaml").path
        let yardstick = try Yardstick(recipePath: path, cacheRoot: cache)
        let test = try Digits.split(layout: .image, testFraction: 0.2, seed: 0).test
        let labels = test.labels.scalars.map { Int($0) }
        let real = try yardstick.scores(test.inputs, labels: labels)
        var generator = RandomGenerator(seed: 9)
        let noise = try yardstick.scores(Tensor.randomUniform(test.inputs.shape, generator: &generator), labels: labels)
        #expect(try #require(real.accuracy) > 0.9 && real.confidence > 0.85, "real digits: \(real)")
        #expect(real.frechetDistance < 0.05 * noise.frechetDistance, "real \(real.frechetDistance) against noise \(noise.frechetDistance)")
        #expect(noise.confidence < real.confidence)

        var images = test.inputs, distances = [real.frechetDistance]
        for _ in 0..<3 {
            images = images.conv2d(weight: Tensor.full([1, 1, 3, 3], 1 / 9), padding: 1)
            distances.append(try yardstick.scores(images, labels: nil).frechetDistance)
        }
        for (sharper, blurrier) in zip(distances, distances.dropFirst()) {
            #expect(blurrier > sharper, "blurring must move away from the data: \(distances)")
        }
        // A second yardstick of the same recipe reuses the cached run instead of training again.
        let cached = try FileManager.default.contentsOfDirectory(atPath: cache.path).filter { !$0.hasPrefix(".") }
        #expect(cached.count == 1, "\(cached)")
        let again = try Yardstick(recipePath: path, cacheRoot: cache)
        #expect(try again.scores(test.inputs, labels: labels).frechetDistance == real.frechetDistance)
    }

    /// `tessera sample` on a trained checkpoint writes a PNG; a cVAE takes `--class`.
    @Test func sampleDrawsFromACheckpoint() throws {
        let workspace = CommandLineTool.temporaryDirectory("generative-sample")
        defer { try? FileManager.default.removeItem(at: workspace) }
        let (checkpoint, _) = try Self.trainedCheckpoint("cvae", in: workspace)
        let output = workspace.appendingPathComponent("grid.png")
        let result = try CommandLineTool.run(["sample", checkpoint, "--output", output.path, "--class", "3", "--count", "10"])
        #expect(result.status == 0, "\(result.errorOutput)")
        #expect(result.output.contains("cvae") && result.output.contains(output.path), "\(result.output)")
        #expect(try Data(contentsOf: output).starts(with: [0x89, 0x50, 0x4E, 0x47]))
    }

    /// Bad input stops with a message naming what was wrong, a non-zero status, and the output
    /// file as it was.
    @Test func sampleRefusesBadInputAndLeavesTheOutputAlone() throws {
        let workspace = CommandLineTool.temporaryDirectory("generative-sample-bad")
        defer { try? FileManager.default.removeItem(at: workspace) }
        let (cvae, _) = try Self.trainedCheckpoint("cvae", in: workspace)
        let (glow, _) = try Self.trainedCheckpoint("glow", in: workspace)
        let output = workspace.appendingPathComponent("keep.png")
        try Data("keep".utf8).write(to: output)
        let classifier = workspace.appendingPathComponent("classifier.yaml")
        try """
        task: classification
        name: tiny-classifier
        data: {dataset: digits, layout: flat, batchSize: 64}
        model: {kind: mlp, hiddenSizes: [8]}
        optimizer: {kind: sgd, learningRate: 0.1}
        training: {epochs: 1, checkpointEvery: 0}
        """.write(to: classifier, atomically: true, encoding: .utf8)
        let trained = try CommandLineTool.run(["train", classifier.path, "--run-dir", workspace.appendingPathComponent("classifier").path, "--quiet"])
        #expect(trained.status == 0, "\(trained.errorOutput)")
        let notGenerator = try #require(try CheckpointDirectory(path: workspace.appendingPathComponent("classifier/checkpoints").path)
            .stepFiles().last).path
        let cases: [([String], String)] = [
            ([cvae, "--temperature", "0"], "--temperature"),
            ([cvae, "--temperature", "-1"], "--temperature"),
            ([cvae, "--class", "10"], "--class 10 is out of range"),
            ([glow, "--class", "2"], "unconditional glow"),
            ([notGenerator], "not a generator's checkpoint"),
            ([workspace.appendingPathComponent("missing.tsr").path], "missing.tsr"),
        ]
        for (arguments, message) in cases {
            let result = try CommandLineTool.run(["sample"] + arguments + ["--output", output.path])
            #expect(result.status != 0 && result.errorOutput.contains(message), "\(arguments): \(result.errorOutput)")
            #expect(try Data(contentsOf: output) == Data("keep".utf8), "\(arguments) touched the output")
        }
    }

    /// A recipe the model cannot be built from is refused by key before training.
    @Test(arguments: [
        ("model.kind=glow", "model.levels=4", "model.levels"),
        ("model.kind=realnvp", "model.scales=5", "model.scales"),
        ("model.kind=pixelcnn", "model.kernelSize=4", "model.kernelSize"),
        ("model.kind=vae", "evaluation.temperature=0", "evaluation.temperature"),
        ("model.kind=vae", "data.levels=1", "data.levels"),
        ("model.kind=gan", "data.levels=8", "model.kind"),
        ("model.kind=cvae", "data.outlierClass=3", "data.outlierClass"),
        ("model.kind=vae", "data.outlierClass=10", "data.outlierClass"),
    ])
    func badRecipesAreRefusedNamingTheKey(kind: String, override: String, key: String) throws {
        do {
            _ = try Self.decode(yaml: Self.tiny("vae"), overrides: [kind, override])
            Issue.record("\(override) was accepted")
        } catch {
            #expect("\(error)".contains(key), "\(override): \(error)")
        }
    }

    /// A flow whose log-determinant turns non-finite stops the run before the update, naming the
    /// layer and the step, and leaves the parameters as they were (here NICE's scaling holds NaN).
    @Test func nonFiniteLogDeterminantStopsTheRunNamingTheLayer() throws {
        let (recipe, canonical) = try Self.decode(yaml: Self.tiny("nice"))
        let directory = CommandLineTool.temporaryDirectory("generative-nan")
        defer { try? FileManager.default.removeItem(at: directory) }
        let trainer = try StepTrainer(recipe: recipe, recipeYAML: canonical, runDirectory: try RunDirectory(path: directory.path),
                                      showProgress: false)
        let parameters = trainer.model.namedParameters()
        let scale = try #require(parameters.first { $0.name.contains("logScale") }, "\(parameters.map(\.name))").parameter
        scale.assign(Tensor(shape: scale.shape, scalars: [Float](repeating: .nan, count: scale.count)))
        let before = parameters.filter { !$0.name.contains("logScale") }.map(\.parameter.scalars)
        do {
            _ = try trainer.train()
            Issue.record("a NaN log-determinant trained on")
        } catch {
            #expect("\(error)".contains("step 1") && "\(error)".contains("DiagonalScaling"), "\(error)")
        }
        #expect(parameters.filter { !$0.name.contains("logScale") }.map(\.parameter.scalars) == before)
    }

    /// Trains the tiny recipe of `kind` to its step-4 checkpoint in `workspace`.
    static func trainedCheckpoint(_ kind: String, in workspace: URL) throws -> (String, URL) {
        let recipe = workspace.appendingPathComponent("tiny-\(kind).yaml")
        try Self.tiny(kind).write(to: recipe, atomically: true, encoding: .utf8)
        let run = workspace.appendingPathComponent(kind)
        let result = try CommandLineTool.run(["train", recipe.path, "--run-dir", run.path, "--quiet"])
        #expect(result.status == 0, "\(result.errorOutput)")
        return (run.appendingPathComponent("checkpoints/step-00000004.tsr").path, run)
    }
}
