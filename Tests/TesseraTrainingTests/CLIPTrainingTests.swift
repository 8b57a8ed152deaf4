import Foundation
import Testing
import TesseraCheckpoint
import TesseraConfig
import TesseraTraining

/// CLIP recipes (`method.kind: clip`) on the shared step trainer: two ranks give one process's
/// losses (both modalities' embeddings gathered over the ranks), a killed run resumes bit for bit
/// with the learned temperature in the checkpoint, the evaluation reports zero-shot accuracy and
/// retrieval, and bad captions or settings are refused by key.
@Suite(.serialized) struct CLIPTrainingTests {
    /// A small CLIP: 160 pairs on a 12×12 canvas (128 train), an MLP image encoder, a one-layer
    /// transformer of width 16, batches of 16 (8 per rank), 4 steps of SGD (see
    /// ``SelfSupervisedTrainingTests/tiny(_:)`` for why not Adam).
    static let tiny = """
        task: selfsupervised
        name: tiny-clip
        seed: 3
        method: {kind: clip, projectionSize: 16}
        encoder: {kind: mlp, hiddenSizes: [32], representationSize: 32}
        textEncoder: {layerCount: 1, headCount: 2, modelDimensions: 16}
        captions: {count: 160, canvasSize: 12}
        data: {batchSize: 16}
        optimizer: {kind: sgd, learningRate: 0.1, momentum: 0.9}
        training: {steps: 4, logEvery: 1}
        """

    /// Each step's loss with two ranks equals one process's, and the ranks end with the same
    /// parameters (the logit scale too). Without the gathered embeddings a rank would contrast its
    /// 8 pairs alone, among 8 candidates instead of 16, and its loss would be another.
    /// A batch of 15 splits into shards of 7 and 8: each rank's pairs are still matched with their
    /// own rows of the gathered embeddings.
    @Test(arguments: [16, 15])
    func twoRanksMatchOneProcess(batchSize: Int) throws {
        let overrides = ["data.batchSize=\(batchSize)"]
        let local = try SelfSupervisedTrainingTests.train(yaml: Self.tiny, processes: 1, overrides: overrides)
        defer { RankOutcome.remove(local) }
        let ranks = try SelfSupervisedTrainingTests.train(yaml: Self.tiny, processes: 2, overrides: overrides)
        defer { RankOutcome.remove(ranks) }
        #expect(local[0].parameters["logitScale"] != nil)
        for (name, _) in local[0].parameters {
            #expect(ranks[1].parameters[name] == ranks[0].parameters[name], "\(name) differs between the ranks")
        }
        try RunComparisons.expectSameLosses(local[0].directory, ranks[0].directory, steps: 4, "clip, batch \(batchSize), 2 ranks against one process",
                                            relativeTolerance: 1e-5)
    }

    /// Through the executables: `tessera train --np 2` (a coordinator and a worker under mpirun)
    /// logs the losses of `--np 1`, the embeddings gathered over real MPI ranks.
    @Test func mpirunWithTwoProcessesLogsTheLossesOfOneProcess() throws {
        try RunComparisons.expectMpirunMatchesOneProcess(recipe: Self.tiny, named: "tiny-clip", steps: 4, relativeTolerance: 1e-5)
    }

    /// A run killed with SIGKILL after its first checkpoint and resumed with `auto` ends with the
    /// uninterrupted run's bytes (the logit scale and the Adam slots included).
    @Test func killedRunResumedMatchesTheUninterruptedRunBitForBit() throws {
        let workspace = CommandLineTool.temporaryDirectory("clip-killed")
        defer { try? FileManager.default.removeItem(at: workspace) }
        let recipe = workspace.appendingPathComponent("tiny-clip.yaml")
        try Self.tiny.write(to: recipe, atomically: true, encoding: .utf8)
        let settings = ["training.steps=60", "training.checkpointEvery=5", "training.logEvery=10", "optimizer.kind=adam",
                        "optimizer.learningRate=0.003"].flatMap { ["--set", $0] } + ["--quiet"]
        try RunComparisons.expectKilledRunResumesBitForBit(recipe: recipe.path, settings: settings,
                                                           lastCheckpoint: "checkpoints/step-00000060.tsr",
                                                           maximumDelay: 300_000, in: workspace)
    }

    /// Zero-shot accuracy (24 shape × colour classes, and shapes and colours alone), retrieval
    /// recall@1 both ways, the test loss and τ are logged; after 150 Adam steps the colours, the
    /// easiest attribute, are named well above chance (1/8) and τ has moved from 0.07.
    @Test func evaluationReportsZeroShotAccuracyAndRetrieval() throws {
        let (recipe, canonical) = try SelfSupervisedTrainingTests.decode(
            yaml: Self.tiny, overrides: ["training.steps=150", "optimizer.kind=adam", "optimizer.learningRate=0.003", "captions.count=400"])
        let directory = CommandLineTool.temporaryDirectory("clip-metrics")
        defer { try? FileManager.default.removeItem(at: directory) }
        let trainer = try StepTrainer(recipe: recipe, recipeYAML: canonical, runDirectory: try RunDirectory(path: directory.path),
                                      showProgress: false)
        let metrics = try trainer.train().finalMetrics
        for key in ["zero_shot_accuracy", "zero_shot_shape_accuracy", "zero_shot_color_accuracy",
                    "image_to_text_recall_at_1", "text_to_image_recall_at_1"] {
            let value = try #require(metrics[key], "\(key) missing from \(metrics.keys.sorted())")
            #expect(value >= 0 && value <= 1, "\(key) \(value)")
        }
        #expect(try #require(metrics["zero_shot_color_accuracy"]) > 0.4)
        #expect(metrics["best_zero_shot_accuracy"] != nil)
        let temperature = try #require(metrics["temperature"])
        #expect(temperature >= 0.01 && temperature <= 1 && abs(temperature - 0.07) > 1e-4, "τ \(temperature)")
        #expect(try #require(metrics["test_loss"]).isFinite)
        #expect(metrics["evaluation_failed"] == nil)
    }

    @Test(arguments: [
        ("captions.template=a {size} {color} {shape} near the {position}", "captions.template"),
        ("captions.template=a {size} {shape} at the {position}", "captions.template"),
        ("method.temperature=0", "method.temperature"),
        ("method.temperature=-0.5", "method.temperature"),
        ("method.temperature=0.005", "method.temperature"),
        ("captions.canvasSize=8", "captions.canvasSize"),
        ("textEncoder.modelDimensions=15", "textEncoder.modelDimensions"),
        ("captions.templates=x", "captions.templates"),
        ("textEncoder.layers=2", "textEncoder.layers"),
    ])
    func badSettingsAreRefusedNamingTheKey(override: String, key: String) throws {
        do {
            _ = try SelfSupervisedTrainingTests.decode(yaml: Self.tiny, overrides: [override])
            Issue.record("\(override) was accepted")
        } catch {
            #expect("\(error)".contains(key), "\(override): \(error)")
        }
    }

    /// A caption word outside the vocabulary: the error names the key, the word and the caption.
    @Test func anUnknownCaptionWordNamesTheWordAndTheCaption() throws {
        do {
            _ = try SelfSupervisedTrainingTests.decode(yaml: Self.tiny, overrides: ["captions.template=a {size} {color} {shape} near the {position}"])
            Issue.record("the unknown word was accepted")
        } catch {
            let message = "\(error)"
            #expect(message.contains("captions.template") && message.contains("\"near\"")
                    && message.contains("a small black square near the top left"), "\(message)")
        }
    }
}
