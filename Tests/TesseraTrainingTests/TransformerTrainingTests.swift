import Foundation
import Testing
import TesseraCheckpoint
import TesseraConfig
import TesseraTensor
import TesseraTraining

/// The transformer recipes through `TransformerTasks`, with tiny budgets: learning progress,
/// exact resume, generation from a checkpoint, and recipe errors that name the key and value.
@Suite(.serialized) struct TransformerTrainingTests {
    static func temporaryDirectory(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("tessera-transformer-\(name)-\(UUID().uuidString)")
    }

    static let reverseRecipe = """
        task: sequence-to-sequence
        name: tiny-reverse
        seed: 3
        data: {source: reverse, minimumLength: 3, maximumLength: 5, batchSize: 32, evaluationExamples: 64}
        model: {layerCount: 1, headCount: 2, modelDimensions: 32, dropout: 0.1}
        optimizer: {kind: adamw, learningRate: 0.003}
        training: {steps: 120, logEvery: 20, evaluateEvery: 60, checkpointEvery: 30}
        """

    static func train(_ yaml: String, in directory: URL, overrides: [String] = [], resume: ResumeRequest = .none) throws -> TrainingResult {
        var recipe = try Recipe(yaml: yaml, file: "tiny.yaml")
        try recipe.apply(overrides: overrides)
        return try TransformerTasks.train(recipe: recipe, recipeFile: "tiny.yaml", runDirectory: try RunDirectory(path: directory.path),
                                          resume: resume, showProgress: false)
    }

    static func entries(_ path: String) throws -> [String: [UInt8]] {
        Dictionary(uniqueKeysWithValues: try Checkpoint.read(from: path).entries.map { ($0.name, $0.bytes) })
    }

    @Test func reversalRecipeLearnsAndWritesTheRunDirectory() throws {
        let directory = Self.temporaryDirectory("reverse")
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try Self.train(Self.reverseRecipe, in: directory)
        #expect(result.steps == 120)
        let tokenAccuracy = try #require(result.finalMetrics["token_accuracy"])
        #expect(tokenAccuracy > 0.5, "held-out token accuracy \(tokenAccuracy) after 120 steps (chance is about 0.1)")
        for file in ["metrics.jsonl", "summary.json", "curves.png", "checkpoints/step-00000120.tsr"] {
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent(file).path), "\(file) is missing")
        }
        let reversed = try TransformerTasks.generate(checkpoint: directory.appendingPathComponent("checkpoints/step-00000120.tsr").path,
                                                     prompt: "3141", maxTokens: 0, temperature: 0)
        #expect(reversed.count >= 1 && reversed.allSatisfy(\.isNumber), "decoded '\(reversed)'")
    }

    @Test func resumedRunMatchesUninterruptedRunBitForBit() throws {
        let reference = Self.temporaryDirectory("reference"), resumed = Self.temporaryDirectory("resumed")
        defer {
            try? FileManager.default.removeItem(at: reference)
            try? FileManager.default.removeItem(at: resumed)
        }
        _ = try Self.train(Self.reverseRecipe, in: reference, overrides: ["training.steps=60"])
        // Stop after 30 steps (its last checkpoint), then resume to 60 from that checkpoint.
        _ = try Self.train(Self.reverseRecipe, in: resumed, overrides: ["training.steps=30"])
        _ = try Self.train(Self.reverseRecipe, in: resumed, overrides: ["training.steps=60"],
                           resume: .path(resumed.appendingPathComponent("checkpoints/step-00000030.tsr").path))
        let expected = try Self.entries(reference.appendingPathComponent("checkpoints/step-00000060.tsr").path)
        let actual = try Self.entries(resumed.appendingPathComponent("checkpoints/step-00000060.tsr").path)
        #expect(expected.keys.sorted() == actual.keys.sorted())
        for (name, bytes) in expected { #expect(actual[name] == bytes, "\(name) differs after resume") }
    }

    @Test func corpusLanguageModelStoresItsTokenizerAndGenerates() throws {
        let directory = Self.temporaryDirectory("corpus")
        defer { try? FileManager.default.removeItem(at: directory) }
        let yaml = """
            task: language-model
            name: tiny-corpus
            data: {source: corpus, paragraphs: 40, tokenizer: bytePair, vocabularySize: 96, contextLength: 16, batchSize: 8, evaluationExamples: 16}
            model: {layerCount: 1, headCount: 2, modelDimensions: 16}
            optimizer: {kind: adam, learningRate: 0.003}
            training: {steps: 40, logEvery: 10}
            """
        let result = try Self.train(yaml, in: directory)
        let perplexity = try #require(result.finalMetrics["perplexity"])
        #expect(perplexity < 96, "held-out perplexity \(perplexity) must beat the uniform guess over 96 tokens")
        let path = directory.appendingPathComponent("checkpoints/step-00000040.tsr").path
        let checkpoint = try Checkpoint.read(from: path)
        #expect(checkpoint.metadata["tokenizer"]?.contains("merges") == true)
        let text = try TransformerTasks.generate(checkpoint: path, prompt: "The river", maxTokens: 5, temperature: 0.8, topK: 5)
        #expect(text.hasPrefix("The river") && text.count > "The river".count)
        // The prompt's attention, every layer and head, as a heatmap image.
        let map = directory.appendingPathComponent("attention.png")
        _ = try TransformerTasks.generate(checkpoint: path, prompt: "The river", maxTokens: 1, attentionMapPath: map.path)
        let png = try Data(contentsOf: map)
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        #expect(png.count > 1000)
        #expect(throws: TrainingError.self) {
            _ = try TransformerTasks.generate(checkpoint: path, prompt: String(repeating: "a", count: 40), maxTokens: 1)
        }
    }

    /// A user's text file trains like the generated corpus: `source: textFile` with `data.path`.
    /// The shipped corpus recipes (character and byte-pair tokens, GPT and masked LM) load and
    /// learn, shrunk by overrides to a few seconds: the training loss falls by more than half a nat.
    @Test(arguments: ["gpt-corpus.yaml", "gpt-corpus-bpe.yaml", "transformer-masked-lm.yaml"])
    func shippedCorpusRecipeLoadsAndLearns(_ file: String) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let directory = Self.temporaryDirectory("shipped-\(file)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let recipe = try loadRecipe(path: root.appendingPathComponent("configs/\(file)").path, overrides: [
            "data.paragraphs=150", "data.batchSize=8", "data.contextLength=32", "data.evaluationExamples=16",
            "model.layerCount=1", "model.headCount=2", "model.modelDimensions=32", "model.dropout=0",
            "optimizer.learningRate=0.01", "schedule.warmupSteps=5", "training.steps=60", "training.logEvery=10",
            "training.evaluateEvery=60", "training.checkpointEvery=60",
        ])
        let result = try TransformerTasks.train(recipe: recipe, recipeFile: file, runDirectory: try RunDirectory(path: directory.path),
                                                resume: .none, showProgress: false)
        #expect(result.steps == 60)
        let text = try String(contentsOf: directory.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        let losses = text.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["loss"] as? Double
        }
        let (first, last) = (try #require(losses.first), try #require(losses.last))
        #expect(losses.count == 6 && last < first - 0.5, "\(file): training losses \(losses)")
    }

    @Test func languageModelTrainsOnATextFileTheRecipeNames() throws {
        let directory = Self.temporaryDirectory("text-file")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // Lines without blank lines between them: the split falls back to a line boundary.
        let lines = (0..<300).map { "line \($0 % 7): the quick brown fox jumps over the lazy dog \($0 % 3)" }
        let file = directory.appendingPathComponent("text.txt")
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        let yaml = """
            task: language-model
            name: tiny-text-file
            data: {source: textFile, path: \(file.path), contextLength: 16, batchSize: 8, evaluationExamples: 16}
            model: {layerCount: 1, headCount: 2, modelDimensions: 16}
            optimizer: {kind: adam, learningRate: 0.01}
            training: {steps: 60, logEvery: 10}
            """
        let run = directory.appendingPathComponent("run")
        let result = try Self.train(yaml, in: run)
        let perplexity = try #require(result.finalMetrics["perplexity"])
        // The file uses 30-odd distinct characters; a model that learned nothing scores about that.
        let distinct = Set(lines.joined()).count
        #expect(perplexity < Double(distinct) / 3, "held-out perplexity \(perplexity) against \(distinct) characters")
        let checkpoint = run.appendingPathComponent("checkpoints/step-00000060.tsr").path
        let text = try TransformerTasks.generate(checkpoint: checkpoint, prompt: "line", maxTokens: 4, temperature: 0.5, topK: 3)
        #expect(text.hasPrefix("line") && text.count == "line".count + 4)

        let missing = yaml.replacingOccurrences(of: file.path, with: directory.appendingPathComponent("absent.txt").path)
        #expect { try Self.train(missing, in: run) } throws: { "\($0)".contains("data.path") && "\($0)".contains("absent.txt") }
        let pathWithoutTextFile = yaml.replacingOccurrences(of: "source: textFile", with: "source: corpus")
        #expect { try Self.train(pathWithoutTextFile, in: run) } throws: { "\($0)".contains("path") && "\($0)".contains("textFile") }
        let noPath = yaml.replacingOccurrences(of: "path: \(file.path), ", with: "")
        #expect { try Self.train(noPath, in: run) } throws: { "\($0)".contains("data.path") }
    }

    static let classifyRecipe = """
        task: sequence-classification
        name: tiny-classify
        seed: 2
        data: {source: majorityToken, contextLength: 8, markerCount: 3, fillerCount: 4, batchSize: 32, evaluationExamples: 300}
        model: {layerCount: 1, headCount: 2, modelDimensions: 16, feedForwardDimensions: 32}
        optimizer: {kind: adam, learningRate: 0.01}
        training: {steps: 150, logEvery: 50, evaluateEvery: 150, checkpointEvery: 150}
        """

    /// The majority-token classifier learns in a few seconds, and its checkpoint alone rebuilds a
    /// classifier that scores the same on sequences it never saw.
    @Test func sequenceClassifierLearnsTheMajorityTokenAndItsCheckpointRebuildsIt() throws {
        let directory = Self.temporaryDirectory("classify")
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try Self.train(Self.classifyRecipe, in: directory)
        #expect(result.steps == 150)
        let accuracy = try #require(result.finalMetrics["test_accuracy"])
        #expect(accuracy >= 0.9, "held-out accuracy \(accuracy) after 150 steps (chance is 1/3)")

        let (model, task) = try TransformerTasks.sequenceClassifier(
            checkpoint: directory.appendingPathComponent("checkpoints/step-00000150.tsr").path)
        #expect(task.markerCount == 3 && task.sequenceLength == 8 && task.vocabularySize == 7)
        var generator = RandomGenerator(seed: 99)
        let fresh = task.batch(count: 300, generator: &generator)
        let rebuilt = withoutGradients { model(fresh.tokens).argmax(alongAxis: 1).equal(fresh.labels).mean().item }
        #expect(Double(rebuilt) >= 0.9, "the rebuilt classifier scores \(rebuilt)")
        #expect(Swift.abs(Double(rebuilt) - accuracy) < 0.06, "rebuilt \(rebuilt) against the run's \(accuracy)")

        let reverse = directory.appendingPathComponent("reverse")
        _ = try Self.train(Self.reverseRecipe, in: reverse, overrides: ["training.steps=1", "training.checkpointEvery=1"])
        #expect { _ = try TransformerTasks.sequenceClassifier(checkpoint: reverse.appendingPathComponent("checkpoints/step-00000001.tsr").path) }
            throws: { "\($0)".contains("sequence-to-sequence") }
    }

    /// The shipped recipe decodes and learns: cut to 60 of its 400 steps it already scores ≥ 90% (chance is 1/4).
    @Test func shippedClassifyRecipeLoadsAndLearns() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let directory = Self.temporaryDirectory("shipped-classify")
        defer { try? FileManager.default.removeItem(at: directory) }
        let recipe = try loadRecipe(path: root.appendingPathComponent("configs/transformer-classify.yaml").path, overrides: [
            "data.evaluationExamples=200", "schedule.warmupSteps=10", "training.steps=60", "training.evaluateEvery=60",
            "training.checkpointEvery=60",
        ])
        let result = try TransformerTasks.train(recipe: recipe, recipeFile: "transformer-classify.yaml",
                                                runDirectory: try RunDirectory(path: directory.path), resume: .none, showProgress: false)
        let accuracy = try #require(result.finalMetrics["test_accuracy"])
        #expect(accuracy >= 0.9, "held-out accuracy \(accuracy) after 60 of the recipe's steps")
    }

    @Test(arguments: [
        ("data.source=digits", "data.source: task sequence-classification trains on majorityToken, found 'digits'"),
        ("data.markerCount=8", "data.contextLength: 8 tokens cannot hold a winning marker twice and the other 7 markers once"),
        ("data.markerCount=1", "data.markerCount: must be in 2...64, found 1"),
        ("data.fillerCount=0", "data.fillerCount: must be in 1...10000, found 0"),
        ("model.pooling=mean", "model.pooling: unknown key"),
    ])
    func sequenceClassificationRecipeErrorsNameTheKey(_ override: String, _ key: String) throws {
        let directory = Self.temporaryDirectory("classify-errors")
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect { try Self.train(Self.classifyRecipe, in: directory, overrides: [override]) } throws: { "\($0)".contains(key) }
    }

    @Test func recipeErrorsNameTheKeyAndTheValue() throws {
        let directory = Self.temporaryDirectory("errors")
        defer { try? FileManager.default.removeItem(at: directory) }
        let vit = """
            task: vision-transformer
            name: bad-vit
            data: {source: digits}
            model: {patchSize: 3}
            optimizer: {kind: adam, learningRate: 0.001}
            training: {steps: 10}
            """
        do {
            _ = try Self.train(vit, in: directory)
            Issue.record("a patch size of 3 on 8×8 digits must be rejected")
        } catch {
            #expect("\(error)".contains("model.patchSize") && "\(error)".contains("patch size 3 does not divide"), "\(error)")
        }
        do {
            _ = try Self.train(Self.reverseRecipe, in: directory, overrides: ["data.source=addition"])
            Issue.record("addition is not a sequence-to-sequence source")
        } catch {
            #expect("\(error)".contains("data.source") && "\(error)".contains("addition"), "\(error)")
        }
    }
}
