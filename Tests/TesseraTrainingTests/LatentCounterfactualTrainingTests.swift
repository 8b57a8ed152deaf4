import Foundation
import Testing
import TesseraCheckpoint
import TesseraConfig
import TesseraData
import TesseraTensor
@testable import TesseraTraining

/// `tessera counterfactual`: on a briefly trained VAE, moving held-out digits in its latent space
/// gives digits the yardstick calls the target class and whose features lie nearer the real
/// digits of that class than those of the same search run on the pixels; bad input stops with a
/// message naming it, a non-zero status and the output untouched.
@Suite(.serialized) struct LatentCounterfactualTrainingTests {
    /// A VAE trained for 400 steps (Adam): blurry, but its latent space knows the classes.
    static let vae = """
        task: generative
        name: counterfactual-vae
        seed: 3
        data: {levels: 16, batchSize: 64}
        model: {kind: vae, hiddenSizes: [128], latentDimensions: 8}
        evaluation: {samples: 8, importanceSamples: 4, yardstick: ""}
        optimizer: {kind: adam, learningRate: 0.002}
        training: {steps: 400, logEvery: 200, evaluateEvery: 400, checkpointEvery: 400}
        """

    /// The yardstick recipe, shortened to 10 epochs (about 0.95 held-out accuracy) to keep the test quick.
    static let yardstick = """
        task: classification
        name: counterfactual-yardstick
        seed: 0
        data: {dataset: digits, layout: flat, testFraction: 0.2, batchSize: 64}
        model: {kind: mlp, hiddenSizes: [128, 32], activation: relu}
        optimizer: {kind: adam, learningRate: 0.002}
        training: {epochs: 10, logEvery: 100, evaluateEvery: 0, checkpointEvery: 0, keepCheckpoints: 1}
        """

    @Test func latentCounterfactualsReachTheTargetAndStayNearerTheDataThanPixelOnes() throws {
        let workspace = CommandLineTool.temporaryDirectory("counterfactual-study")
        defer { try? FileManager.default.removeItem(at: workspace) }
        let (decoded, canonical) = try GenerativeTrainingTests.decode(yaml: Self.vae)
        let run = workspace.appendingPathComponent("vae")
        let trainer = try StepTrainer(recipe: decoded, recipeYAML: canonical, runDirectory: try RunDirectory(path: run.path), showProgress: false)
        _ = try trainer.train()
        let recipePath = workspace.appendingPathComponent("yardstick.yaml")
        try Self.yardstick.write(to: recipePath, atomically: true, encoding: .utf8)
        let cache = workspace.appendingPathComponent("cache")
        var options = LatentCounterfactualStudy.Options(targetClass: 4)
        // Fewer digits, classifier steps and pixel steps than the command's defaults, to keep the
        // test quick (a pixel search that stops at 400 steps has moved less, which favours it).
        options.count = 16
        options.classifierSteps = 800
        options.latentSearch.maximumSteps = 1000
        options.pixelSearch.maximumSteps = 400
        let figure = workspace.appendingPathComponent("figure.png")
        let (study, report) = try GenerativeTasks.counterfactuals(
            checkpoint: run.appendingPathComponent("checkpoints/step-00000400.tsr").path, options: options, yardstick: recipePath.path,
            output: figure.path, yardstickCache: cache)
        let judge = try Yardstick(recipePath: recipePath.path, cacheRoot: cache)
        let (latent, pixel) = (study.latent.measures, study.pixel.measures)
        #expect(study.originalMeasures.successRate == 0 && study.originalClasses.allSatisfy { $0 != 4 })
        #expect(study.latentClassifierAccuracy > 0.7, "latent classifier \(study.latentClassifierAccuracy)")
        #expect(latent.successRate >= 0.75, "the yardstick calls \(latent.successRate) of the latent counterfactuals 4s")
        #expect(latent.nearestFeatureDistance < pixel.nearestFeatureDistance,
                "nearest feature distance: latent \(latent.nearestFeatureDistance), pixel \(pixel.nearestFeatureDistance)")
        #expect(latent.frechetDistance < pixel.frechetDistance, "FID to 4s: latent \(latent.frechetDistance), pixel \(pixel.frechetDistance)")
        #expect(latent.frechetDistance < study.originalMeasures.frechetDistance)
        #expect(report.contains("latent counterfactuals") && report.contains("pixel counterfactuals") && report.contains("step 400"), "\(report)")
        // A decoding that overflowed is a miss, left out of the distances.
        let test = try Digits.split(layout: .flat, testFraction: 0.2, seed: 3).test
        let fours = LatentCounterfactualStudy.rows(of: test.inputs, where: test.labels.scalars.map { $0 == 4 })
        let broken = Tensor.concatenate([fours.slice(alongAxis: 0, start: 0, end: 3), Tensor(shape: [1, 64], scalars: [Float](repeating: .nan, count: 64))], alongAxis: 0)
        let measured = try CounterfactualJudge(yardstick: judge, targetClass: 4, reference: fours).measure(broken, from: nil)
        #expect(measured.nonFiniteCount == 1 && measured.predictedClasses[3] == -1 && measured.successRate <= 0.75, "\(measured)")
        #expect(measured.frechetDistance.isFinite && measured.nearestFeatureDistance.isFinite)
        #expect(try Data(contentsOf: figure).starts(with: [0x89, 0x50, 0x4E, 0x47]))
    }

    /// Every bad input is refused before any work, naming what was wrong; the output file stays as it was.
    @Test func counterfactualRefusesBadInputAndLeavesTheOutputAlone() throws {
        let workspace = CommandLineTool.temporaryDirectory("counterfactual-bad")
        defer { try? FileManager.default.removeItem(at: workspace) }
        let (vae, _) = try GenerativeTrainingTests.trainedCheckpoint("vae", in: workspace)
        let (cvae, _) = try GenerativeTrainingTests.trainedCheckpoint("cvae", in: workspace)
        let (pixelcnn, _) = try GenerativeTrainingTests.trainedCheckpoint("pixelcnn", in: workspace)
        let output = workspace.appendingPathComponent("keep.png")
        try Data("keep".utf8).write(to: output)
        let yardstick = ["--yardstick", "configs/generative-yardstick-digits.yaml"]
        let cases: [([String], String)] = [
            ([vae, "--target", "10"] + yardstick, "--target 10 is out of range"),
            ([vae, "--target=-1"] + yardstick, "--target -1 is out of range"),
            ([vae, "--target", "3", "--count", "1"] + yardstick, "--count must be at least 2"),
            ([vae, "--target", "3", "--pixel-attack", "fgsm"] + yardstick, "--pixel-attack must be one of"),
            ([vae, "--target", "3", "--probability", "1"] + yardstick, "--probability"),
            ([vae, "--target", "3"], "names no yardstick"),
            ([vae, "--target", "3", "--yardstick", "configs/missing.yaml"], "configs/missing.yaml does not exist"),
            ([cvae, "--target", "3"] + yardstick, "a cvae is told the digit's class"),
            ([pixelcnn, "--target", "3"] + yardstick, "a pixelcnn has no latent space"),
            ([workspace.appendingPathComponent("missing.tsr").path, "--target", "3"] + yardstick, "missing.tsr"),
        ]
        for (arguments, message) in cases {
            let result = try CommandLineTool.run(["counterfactual"] + arguments + ["--output", output.path])
            #expect(result.status != 0 && result.errorOutput.contains(message), "\(arguments): \(result.errorOutput)")
            #expect(try Data(contentsOf: output) == Data("keep".utf8), "\(arguments) touched the output")
        }
        let elsewhere = workspace.appendingPathComponent("no-such-folder/figure.png").path
        let result = try CommandLineTool.run(["counterfactual", vae, "--target", "3", "--output", elsewhere] + yardstick)
        #expect(result.status != 0 && result.errorOutput.contains("does not exist"), "\(result.errorOutput)")
    }
}
