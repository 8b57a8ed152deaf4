import Foundation
import TesseraCheckpoint
import TesseraConfig
import TesseraNN
import TesseraPicture
import TesseraTensor
import TesseraTransformers

/// The CLI's entry points for transformer recipes: `tessera train` dispatches here when the
/// recipe's `task:` is one of ``taskNames``, and `tessera generate` calls
/// ``TransformerTasks/generate(checkpoint:prompt:maxTokens:temperature:topK:seed:attentionMapPath:)``.
public enum TransformerTasks {
    public static let taskNames = ["sequence-to-sequence", "language-model", "masked-language-model", "vision-transformer",
                                        "sequence-classification"]

    /// Whether `recipe`'s top-level `task:` names a transformer task.
    public static func handles(_ recipe: Recipe) -> Bool {
        recipe.root.mapping?["task"]?.string.map(taskNames.contains) ?? false
    }

    /// The `name:` of a transformer recipe (for the default run directory `runs/<name>`).
    public static func name(of recipe: Recipe) throws -> String {
        try recipe.decode(TransformerRecipe.self).name
    }

    /// A finished run's final metrics on one line, by name (`exact_match 0.996, test_loss 0.012, …`).
    public static func headline(_ result: TrainingResult) -> String {
        result.finalMetrics.keys.sorted().map { "\($0) \(result.finalMetrics[$0]!)" }.joined(separator: ", ")
    }

    /// Decodes and validates `recipe`, trains it in this process into `runDirectory`, and returns
    /// the result (`DistributedRun` trains it with several processes).
    public static func train(recipe: Recipe, recipeFile: String, runDirectory: RunDirectory, resume: ResumeRequest,
                             showProgress: Bool) throws -> TrainingResult {
        let decoded = try recipe.decode(TransformerRecipe.self)
        let trainer = try StepTrainer(recipe: decoded, recipeYAML: try recipe.canonicalYAML(), runDirectory: runDirectory,
                                             showProgress: showProgress)
        return try trainer.train(resume: resume)
    }

    /// Continues `prompt` with the model of a transformer checkpoint and returns the text:
    /// - a corpus language model writes `maxTokens` tokens after the prompt text;
    /// - an addition model reads `a+b=` and returns `a+b=sum`;
    /// - a sequence-to-sequence model reads a digit string and returns its decoded output.
    ///
    /// `temperature` 0 decodes greedily; `topK` keeps only the k most likely tokens.
    public static func generate(checkpoint path: String, prompt: String, maxTokens: Int, temperature: Float = 1,
                                topK: Int? = nil, seed: UInt64 = 0, attentionMapPath: String? = nil) throws -> String {
        guard maxTokens >= 0 else { throw TrainingError("--max-tokens must not be negative, got \(maxTokens)") }
        guard temperature >= 0 else { throw TrainingError("--temperature must not be negative, got \(temperature)") }
        guard topK.map({ $0 > 0 }) ?? true else { throw TrainingError("--top-k must be positive, got \(topK!)") }
        let checkpoint = try Checkpoint.read(from: path)
        let recipe = try Recipe(yaml: try TrainingCheckpoint.recipe(of: checkpoint, path: path), file: path)
            .decode(TransformerRecipe.self)
        var initialization = RandomGenerator(seed: 0)
        var sampling = RandomGenerator(seed: seed)
        let strategy = TokenSampling(temperature: temperature, topK: topK)
        switch (recipe.task, recipe.data.source) {
        case ("language-model", .addition):
            let task = AdditionTask(digits: recipe.data.digits)
            let model = GPT(AdditionWorkload.configuration(recipe), generator: &initialization)
            _ = try TrainingCheckpoint.restore(checkpoint, path: path, model: model, optimizer: nil)
            let tokens = try additionPrompt(prompt, task: task)
            let generated = model.generate(Tensor(shape: [1, tokens.count], scalars: tokens.map(Float.init)),
                                           newTokens: task.digits + 1, sampling: strategy, generator: &sampling)
            let answer = Array(generated.scalars.map(Int.init).dropFirst(task.promptLength))
            return prompt + (task.sum(fromAnswer: answer).map(String.init) ?? "?" + SequenceVocabulary.text(answer))
        case ("language-model", _):
            guard let json = checkpoint.metadata["tokenizer"] else {
                throw TrainingError("\(path): the checkpoint holds no tokenizer (metadata key 'tokenizer')")
            }
            let tokenizer = try TokenizedCorpus.tokenizer(recipe.data, trainText: nil, json: json)
            let model = GPT(CorpusLanguageModelWorkload.configuration(recipe, vocabularySize: tokenizer.vocabularySize),
                            generator: &initialization)
            _ = try TrainingCheckpoint.restore(checkpoint, path: path, model: model, optimizer: nil)
            let tokens = tokenizer.encode(prompt)
            let context = model.configuration.contextLength
            guard !tokens.isEmpty else { throw TrainingError("the prompt is empty; give at least one character") }
            guard tokens.count <= context else {
                throw TrainingError("the prompt is \(tokens.count) tokens long, more than the model's context of \(context) tokens")
            }
            if let attentionMapPath {
                // The prompt's attention in every layer and head, from one forward pass.
                model.recordAttentionProbabilities()
                _ = withoutGradients { model(Tensor(shape: [1, tokens.count], scalars: tokens.map(Float.init))) }
                try AttentionHeatmap.render(model.attentionProbabilities()).writePNG(to: URL(fileURLWithPath: attentionMapPath))
                model.recordAttentionProbabilities(false)
            }
            let generated = model.generate(Tensor(shape: [1, tokens.count], scalars: tokens.map(Float.init)), newTokens: maxTokens,
                                           sampling: strategy, useCache: tokens.count + maxTokens <= context, generator: &sampling)
            return tokenizer.decode(generated.scalars.map(Int.init))
        case ("sequence-to-sequence", _):
            let model = EncoderDecoder(SequenceToSequenceWorkload.configuration(recipe), generator: &initialization)
            _ = try TrainingCheckpoint.restore(checkpoint, path: path, model: model, optimizer: nil)
            let digits = try prompt.map { character -> Int in
                guard character.isASCII, let digit = character.wholeNumberValue else {
                    throw TrainingError("a sequence-to-sequence prompt is digits only, found '\(character)'")
                }
                return digit
            }
            guard !digits.isEmpty, digits.count <= recipe.data.maximumLength else {
                throw TrainingError("the prompt has \(digits.count) digits; this model reads 1 to \(recipe.data.maximumLength)")
            }
            let output = model.greedyDecode(Tensor(shape: [1, digits.count], scalars: digits.map(Float.init)),
                                            startToken: SequenceVocabulary.start, endToken: SequenceVocabulary.end,
                                            maxLength: recipe.data.maximumLength + 1)
            return SequenceVocabulary.text(output.scalars.map(Int.init).prefix { $0 < 10 })
        default:
            throw TrainingError("\(path): a \(recipe.task) checkpoint does not generate text (language-model and sequence-to-sequence do)")
        }
    }

    /// The classifier of a `sequence-classification` checkpoint with its trained weights, rebuilt
    /// from the recipe the checkpoint stores, and the task it was trained on (what `tessera explain`
    /// needs to draw inputs and read their evidence).
    public static func sequenceClassifier(checkpoint path: String) throws -> (model: SequenceClassifier, task: MajorityTokenTask) {
        let checkpoint = try Checkpoint.read(from: path)
        let recipe = try Recipe(yaml: try TrainingCheckpoint.recipe(of: checkpoint, path: path), file: path)
            .decode(TransformerRecipe.self)
        guard recipe.task == "sequence-classification" else {
            throw TrainingError("\(path): a \(recipe.task) checkpoint holds no sequence classifier (task sequence-classification does)")
        }
        var initialization = RandomGenerator(seed: 0)
        let model = SequenceClassifier(SequenceClassificationWorkload.configuration(recipe), generator: &initialization)
        _ = try TrainingCheckpoint.restore(checkpoint, path: path, model: model, optimizer: nil)
        model.eval()
        return (model, SequenceClassificationWorkload.task(recipe))
    }

    /// `"123+456="` as tokens, checked against the task's digit count.
    static func additionPrompt(_ prompt: String, task: AdditionTask) throws -> [Int] {
        let parts = prompt.hasSuffix("=") ? prompt.dropLast().split(separator: "+", omittingEmptySubsequences: false) : []
        guard parts.count == 2,
              parts.allSatisfy({ !$0.isEmpty && $0.count <= task.digits && $0.allSatisfy { $0.isASCII && $0.isNumber } }) else {
            throw TrainingError("an addition prompt looks like '123+45=' with at most \(task.digits) digits per number, found '\(prompt)'")
        }
        return Array(task.tokens(Int(parts[0])!, Int(parts[1])!).prefix(task.promptLength))
    }
}
