import Foundation
import TesseraData
import TesseraNN
import TesseraTensor
import TesseraTransformers

// MARK: - Sequence to sequence

final class SequenceToSequenceWorkload: StepWorkload {
    let recipe: TransformerRecipe
    let task: SequenceTask
    let network: EncoderDecoder
    let heldOut: (source: Tensor, decoderInput: Tensor, decoderTarget: Tensor)
    var model: any Module { network }
    let primaryMetric = "exact_match"
    let metadata: [String: String] = [:]

    init(_ recipe: TransformerRecipe, generator: inout RandomGenerator) {
        self.recipe = recipe
        task = SequenceTask(rawValue: recipe.data.source.rawValue)!
        network = EncoderDecoder(Self.configuration(recipe), generator: &generator)
        var evaluation = evaluationGenerator(seed: recipe.seed)
        heldOut = task.batch(count: recipe.data.evaluationExamples, lengths: recipe.data.minimumLength...recipe.data.maximumLength,
                             generator: &evaluation)
    }

    static func configuration(_ recipe: TransformerRecipe) -> EncoderDecoderConfiguration {
        let m = recipe.model
        return EncoderDecoderConfiguration(vocabularySize: SequenceVocabulary.size, contextLength: recipe.data.maximumLength + 1,
                                           encoderLayerCount: m.layerCount, decoderLayerCount: m.decoderLayerCount ?? m.layerCount,
                                           headCount: m.headCount, modelDimensions: m.modelDimensions,
                                           feedForwardDimensions: m.feedForwardDimensions, dropout: m.dropout,
                                           normalization: m.normalization, paddingToken: SequenceVocabulary.padding)
    }

    /// Cross entropy of the target tokens, padding excluded. Every batch is padded to the longest
    /// allowed length, so a shard's rows are exactly the global batch's rows.
    func trainingLoss(step: Int, shard: BatchShard) -> (loss: Tensor, examples: Int) {
        var generator = batchGenerator(seed: recipe.seed, step: step)
        let batch = task.batch(count: recipe.data.batchSize, lengths: recipe.data.minimumLength...recipe.data.maximumLength,
                               generator: &generator)
        let padding = Float(SequenceVocabulary.padding)
        let logits = network(source: shard.rows(batch.source), decoderInput: shard.rows(batch.decoderInput))
        let loss = crossEntropyShare(logits: logits, targets: shard.rows(batch.decoderTarget), ignoreIndex: padding,
                                     countedTargets: countedTargets(batch.decoderTarget, ignoreIndex: padding))
        return (loss, shard.rows(of: recipe.data.batchSize).count)
    }

    func evaluate() -> [String: Double] {
        network.eval()
        defer { network.train() }
        return withoutGradients {
            let padding = Float(SequenceVocabulary.padding)
            let logits = network(source: heldOut.source, decoderInput: heldOut.decoderInput)
            let loss = crossEntropy(logits: logits, targets: heldOut.decoderTarget, ignoreIndex: padding).item
            let real = heldOut.decoderTarget.notEqual(Tensor(padding))
            let tokenAccuracy = (logits.argmax(alongAxis: -1).equal(heldOut.decoderTarget) * real).sum().item / real.sum().item
            let decoded = network.greedyDecode(heldOut.source, startToken: SequenceVocabulary.start, endToken: SequenceVocabulary.end,
                                               maxLength: recipe.data.maximumLength + 1)
            var exact = 0
            let count = heldOut.source.shape[0]
            let targets = heldOut.decoderTarget.scalars.map(Int.init), outputs = decoded.scalars.map(Int.init)
            let (targetWidth, outputWidth) = (heldOut.decoderTarget.shape[1], decoded.shape[1])
            for row in 0..<count {
                let target = Array(targets[(row * targetWidth)..<((row + 1) * targetWidth)].prefix { $0 != SequenceVocabulary.end })
                let output = Array(outputs[(row * outputWidth)..<((row + 1) * outputWidth)])
                if output.count > target.count, Array(output.prefix(target.count)) == target,
                   output[target.count] == SequenceVocabulary.end { exact += 1 }
            }
            return ["test_loss": Double(loss), "token_accuracy": Double(tokenAccuracy), "exact_match": Double(exact) / Double(count)]
        }
    }
}

// MARK: - GPT on addition

final class AdditionWorkload: StepWorkload {
    let recipe: TransformerRecipe
    let task: AdditionTask
    let network: GPT
    let heldOut: (tokens: Tensor, operands: [(Int, Int)])
    var model: any Module { network }
    let primaryMetric = "exact_match"
    let metadata: [String: String] = [:]

    init(_ recipe: TransformerRecipe, generator: inout RandomGenerator) {
        self.recipe = recipe
        task = AdditionTask(digits: recipe.data.digits)
        network = GPT(Self.configuration(recipe), generator: &generator)
        var evaluation = evaluationGenerator(seed: recipe.seed)
        heldOut = task.batch(count: recipe.data.evaluationExamples, generator: &evaluation)
    }

    static func configuration(_ recipe: TransformerRecipe) -> GPTConfiguration {
        GPTConfiguration(vocabularySize: SequenceVocabulary.size,
                         contextLength: AdditionTask(digits: recipe.data.digits).sequenceLength,
                         layerCount: recipe.model.layerCount, headCount: recipe.model.headCount,
                         modelDimensions: recipe.model.modelDimensions, feedForwardDimensions: recipe.model.feedForwardDimensions,
                         dropout: recipe.model.dropout)
    }

    /// The logits for `tokens` and their targets: the answer tokens only, −1 elsewhere. The
    /// operands are random, so predicting them only adds irreducible loss and noise to the gradient.
    private func answerPrediction(_ tokens: Tensor) -> (logits: Tensor, targets: Tensor) {
        let length = tokens.shape[1]
        let inputs = tokens.slice(alongAxis: 1, start: 0, end: length - 1)
        let isAnswer = Tensor(shape: [1, length - 1]) { position in position >= self.task.promptLength - 1 ? 1 : 0 }
        return (network(inputs), Tensor.where(isAnswer, tokens.slice(alongAxis: 1, start: 1, end: length), Tensor(-1)))
    }

    /// Cross entropy of the answer tokens; every example has the same number of them.
    func trainingLoss(step: Int, shard: BatchShard) -> (loss: Tensor, examples: Int) {
        var generator = batchGenerator(seed: recipe.seed, step: step)
        let tokens = task.batch(count: recipe.data.batchSize, generator: &generator).tokens
        let (logits, targets) = answerPrediction(shard.rows(tokens))
        let loss = crossEntropyShare(logits: logits, targets: targets, ignoreIndex: -1,
                                     countedTargets: recipe.data.batchSize * (task.sequenceLength - task.promptLength))
        return (loss, shard.rows(of: recipe.data.batchSize).count)
    }

    func evaluate() -> [String: Double] {
        network.eval()
        defer { network.train() }
        return withoutGradients {
            let (logits, targets) = answerPrediction(heldOut.tokens)
            let loss = crossEntropy(logits: logits, targets: targets, ignoreIndex: -1).item
            let prompts = heldOut.tokens.slice(alongAxis: 1, start: 0, end: task.promptLength)
            var unused = RandomGenerator(seed: 0)
            let generated = network.generate(prompts, newTokens: task.digits + 1, generator: &unused)
            let width = generated.shape[1], scalars = generated.scalars.map(Int.init)
            var exact = 0
            for (row, (a, b)) in heldOut.operands.enumerated() {
                let answer = Array(scalars[(row * width + task.promptLength)..<((row + 1) * width)])
                if task.sum(fromAnswer: answer) == a + b { exact += 1 }
            }
            return ["test_loss": Double(loss), "exact_match": Double(exact) / Double(heldOut.operands.count)]
        }
    }
}

// MARK: - Corpus data shared by the GPT and the masked language model

/// The generated corpus (or the recipe's text file), tokenized and split into a training and a
/// held-out token stream.
struct TokenizedCorpus {
    let tokenizer: any Tokenizer
    let train: [Int]
    let heldOut: [Int]

    static let characterSpecials = ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"]

    /// Builds the tokenizer from the training text (or decodes `tokenizerJSON` from a checkpoint).
    init(_ section: TransformerDataSection, seed: UInt64, tokenizerJSON: String? = nil) throws {
        let text = try Self.text(section, seed: seed)
        let (trainText, heldOutText) = try Self.split(text, section)
        tokenizer = try Self.tokenizer(section, trainText: trainText, json: tokenizerJSON)
        train = tokenizer.encode(trainText)
        heldOut = tokenizer.encode(heldOutText)
        guard train.count > section.contextLength + 1, heldOut.count > section.contextLength + 1 else {
            let origin = section.source == .textFile ? "data.path \(section.path ?? "")" : "data.paragraphs \(section.paragraphs)"
            throw TrainingError("\(origin) gives \(train.count) training and \(heldOut.count) held-out tokens, fewer than one window of data.contextLength \(section.contextLength) + 1; use more text or a shorter context")
        }
    }

    /// The generated corpus, or the contents of `data.path`.
    static func text(_ section: TransformerDataSection, seed: UInt64) throws -> String {
        guard section.source == .textFile, let path = section.path else {
            return TextCorpus.generate(paragraphCount: section.paragraphs, seed: seed)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TrainingError("data.path \(path): cannot read the file (it does not exist or is not readable)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TrainingError("data.path \(path): the file is not UTF-8 text")
        }
        return text
    }

    /// Splits at a paragraph boundary near `1 − testFraction` of the text, as ``TextCorpus/split``
    /// does; a text without blank lines is split at a line boundary instead.
    static func split(_ text: String, _ section: TransformerDataSection) throws -> (train: String, heldOut: String) {
        let trainFraction = 1 - section.testFraction
        if text.components(separatedBy: "\n\n").count >= 2 { return TextCorpus.split(text, trainFraction: trainFraction) }
        let lines = text.components(separatedBy: "\n")
        guard lines.count >= 2 else {
            throw TrainingError("data.path \(section.path ?? ""): the text has a single line; a held-out part needs at least two lines")
        }
        let cut = Swift.max(1, Swift.min(lines.count - 1, Int(Double(lines.count) * trainFraction)))
        return (lines[..<cut].joined(separator: "\n") + "\n", lines[cut...].joined(separator: "\n"))
    }

    static func tokenizer(_ section: TransformerDataSection, trainText: String?, json: String?) throws -> any Tokenizer {
        switch section.tokenizer {
        case .character:
            if let json { return try CharacterTokenizer(json: json) }
            return CharacterTokenizer(text: trainText ?? "", specialTokens: characterSpecials, unknownToken: "<unk>")
        case .bytePair:
            if let json { return try BytePairEncoding(json: json) }
            return BytePairEncoding(training: trainText ?? "", vocabularySize: section.vocabularySize,
                                    specialTokens: characterSpecials, unknownToken: "<unk>")
        }
    }

    /// `count` windows of `length` tokens from `tokens` at random offsets, `[count, length]`.
    static func windows(_ tokens: [Int], count: Int, length: Int, generator: inout RandomGenerator) -> Tensor {
        var scalars: [Float] = []
        scalars.reserveCapacity(count * length)
        for _ in 0..<count {
            let start = generator.nextInt(below: tokens.count - length + 1)
            scalars += tokens[start..<(start + length)].map(Float.init)
        }
        return Tensor(shape: [count, length], scalars: scalars)
    }

    /// Consecutive non-overlapping windows from the start of `tokens`, at most `limit`.
    static func consecutiveWindows(_ tokens: [Int], length: Int, limit: Int) -> Tensor {
        let count = Swift.min(limit, tokens.count / length)
        return Tensor(shape: [count, length], scalars: tokens[0..<(count * length)].map(Float.init))
    }
}

// MARK: - GPT on the corpus

final class CorpusLanguageModelWorkload: StepWorkload {
    let recipe: TransformerRecipe
    let corpus: TokenizedCorpus
    let network: GPT
    var model: any Module { network }
    let primaryMetric = "test_accuracy"
    let metadata: [String: String]

    init(_ recipe: TransformerRecipe, generator: inout RandomGenerator) throws {
        self.recipe = recipe
        corpus = try TokenizedCorpus(recipe.data, seed: recipe.seed)
        network = GPT(Self.configuration(recipe, vocabularySize: corpus.tokenizer.vocabularySize), generator: &generator)
        metadata = ["tokenizer": try corpus.tokenizer.json()]
    }

    static func configuration(_ recipe: TransformerRecipe, vocabularySize: Int) -> GPTConfiguration {
        GPTConfiguration(vocabularySize: vocabularySize, contextLength: recipe.data.contextLength,
                         layerCount: recipe.model.layerCount, headCount: recipe.model.headCount,
                         modelDimensions: recipe.model.modelDimensions, feedForwardDimensions: recipe.model.feedForwardDimensions,
                         dropout: recipe.model.dropout)
    }

    /// Next-token cross entropy: every position of every window counts.
    func trainingLoss(step: Int, shard: BatchShard) -> (loss: Tensor, examples: Int) {
        var generator = batchGenerator(seed: recipe.seed, step: step)
        let windows = TokenizedCorpus.windows(corpus.train, count: recipe.data.batchSize, length: recipe.data.contextLength + 1,
                                              generator: &generator)
        let rows = shard.rows(windows), length = windows.shape[1]
        let logits = network(rows.slice(alongAxis: 1, start: 0, end: length - 1))
        let loss = crossEntropyShare(logits: logits, targets: rows.slice(alongAxis: 1, start: 1, end: length),
                                     countedTargets: recipe.data.batchSize * (length - 1))
        return (loss, rows.shape[0])
    }

    func evaluate() -> [String: Double] {
        network.eval()
        defer { network.train() }
        return withoutGradients {
            let windows = TokenizedCorpus.consecutiveWindows(corpus.heldOut, length: recipe.data.contextLength + 1,
                                                            limit: recipe.data.evaluationExamples)
            let length = windows.shape[1]
            let logits = network(windows.slice(alongAxis: 1, start: 0, end: length - 1))
            let targets = windows.slice(alongAxis: 1, start: 1, end: length)
            let loss = Double(crossEntropy(logits: logits, targets: targets).item)
            let accuracy = Double(logits.argmax(alongAxis: -1).equal(targets).mean().item)
            return ["test_loss": loss, "perplexity": exp(loss), "test_accuracy": accuracy]
        }
    }
}

// MARK: - Masked language model on the corpus

final class MaskedLanguageModelWorkload: StepWorkload {
    let recipe: TransformerRecipe
    let corpus: TokenizedCorpus
    let network: MaskedLanguageModel
    let heldOut: MaskedTokens
    var model: any Module { network }
    let primaryMetric = "masked_accuracy"
    let metadata: [String: String]

    init(_ recipe: TransformerRecipe, generator: inout RandomGenerator) throws {
        self.recipe = recipe
        corpus = try TokenizedCorpus(recipe.data, seed: recipe.seed)
        let tokenizer = corpus.tokenizer
        let special = SpecialTokens(padding: tokenizer.id(ofSpecial: "<pad>")!, classification: tokenizer.id(ofSpecial: "[CLS]")!,
                                    separator: tokenizer.id(ofSpecial: "[SEP]")!, mask: tokenizer.id(ofSpecial: "[MASK]")!)
        let m = recipe.model
        network = MaskedLanguageModel(
            MaskedLanguageModelConfiguration(vocabularySize: tokenizer.vocabularySize, contextLength: recipe.data.contextLength,
                                             layerCount: m.layerCount, headCount: m.headCount, modelDimensions: m.modelDimensions,
                                             feedForwardDimensions: m.feedForwardDimensions, dropout: m.dropout,
                                             normalization: m.normalization, specialTokens: special),
            generator: &generator)
        metadata = ["tokenizer": try tokenizer.json()]
        var evaluation = evaluationGenerator(seed: recipe.seed)
        let windows = TokenizedCorpus.consecutiveWindows(corpus.heldOut, length: recipe.data.contextLength - 2,
                                                         limit: recipe.data.evaluationExamples)
        heldOut = network.mask(Self.framed(windows, special: special), generator: &evaluation)
    }

    /// `[CLS] window [SEP]` for each row.
    private static func framed(_ windows: Tensor, special: SpecialTokens) -> Tensor {
        let count = windows.shape[0]
        return Tensor.concatenate([Tensor.full([count, 1], Float(special.classification)), windows,
                                   Tensor.full([count, 1], Float(special.separator))], alongAxis: 1)
    }

    /// Cross entropy of the chosen tokens. The whole global batch is masked (the choice is a
    /// function of the seed and the step) before a shard takes its rows, and the shard's summed
    /// loss is divided by the global batch's count of chosen tokens, which varies from row to row.
    func trainingLoss(step: Int, shard: BatchShard) -> (loss: Tensor, examples: Int) {
        var generator = batchGenerator(seed: recipe.seed, step: step)
        let windows = TokenizedCorpus.windows(corpus.train, count: recipe.data.batchSize, length: recipe.data.contextLength - 2,
                                              generator: &generator)
        let framed = Self.framed(windows, special: network.configuration.specialTokens)
        let masked = network.mask(framed, generator: &generator)
        let loss = crossEntropyShare(logits: network(shard.rows(masked.inputs)), targets: shard.rows(masked.targets),
                                     ignoreIndex: MaskedTokens.ignored, countedTargets: masked.chosenCount)
        return (loss, shard.rows(of: recipe.data.batchSize).count)
    }

    func evaluate() -> [String: Double] {
        network.eval()
        defer { network.train() }
        return withoutGradients {
            let logits = network(heldOut.inputs)
            let loss = Double(crossEntropy(logits: logits, targets: heldOut.targets, ignoreIndex: MaskedTokens.ignored).item)
            let chosen = heldOut.targets.notEqual(Tensor(MaskedTokens.ignored))
            let accuracy = (logits.argmax(alongAxis: -1).equal(heldOut.targets) * chosen).sum().item / chosen.sum().item
            return ["test_loss": loss, "masked_accuracy": Double(accuracy), "perplexity": exp(loss)]
        }
    }
}

// MARK: - ViT on digits

final class VisionTransformerWorkload: StepWorkload {
    let recipe: TransformerRecipe
    let split: DatasetSplit
    let network: VisionTransformer
    var model: any Module { network }
    let primaryMetric = "test_accuracy"
    let metadata: [String: String] = [:]

    init(_ recipe: TransformerRecipe, generator: inout RandomGenerator) throws {
        self.recipe = recipe
        split = try Digits.split(layout: .image, testFraction: recipe.data.testFraction, seed: recipe.seed)
        let m = recipe.model
        network = VisionTransformer(
            VisionTransformerConfiguration(imageShape: [1, 8, 8], patchSize: m.patchSize, classCount: Digits.classCount,
                                           layerCount: m.layerCount, headCount: m.headCount, modelDimensions: m.modelDimensions,
                                           feedForwardDimensions: m.feedForwardDimensions, dropout: m.dropout),
            generator: &generator)
    }

    /// Step `s` takes batch `s mod b` of epoch `s / b` of a permutation drawn per epoch; the
    /// shard takes its rows of that batch.
    func trainingLoss(step: Int, shard: BatchShard) -> (loss: Tensor, examples: Int) {
        let count = split.train.count, size = Swift.min(recipe.data.batchSize, count)
        let batchesPerEpoch = count / size
        let (epoch, batch) = (step / batchesPerEpoch, step % batchesPerEpoch)
        var generator = batchGenerator(seed: recipe.seed, step: epoch)
        let order = generator.permutation(count)
        let rows = shard.rows(of: size)
        let examples = split.train.batch(at: Array(order[(batch * size + rows.lowerBound)..<(batch * size + rows.upperBound)]))
        let loss = crossEntropyShare(logits: network(examples.inputs), targets: examples.labels, countedTargets: size)
        return (loss, rows.count)
    }

    func evaluate() -> [String: Double] {
        network.eval()
        defer { network.train() }
        return withoutGradients {
            let logits = network(split.test.inputs)
            let loss = Double(crossEntropy(logits: logits, targets: split.test.labels).item)
            let accuracy = Double(logits.argmax(alongAxis: -1).equal(split.test.labels).mean().item)
            return ["test_loss": loss, "test_accuracy": accuracy]
        }
    }
}

// MARK: - Sequence classifier on the majority-token task

final class SequenceClassificationWorkload: StepWorkload {
    let recipe: TransformerRecipe
    let task: MajorityTokenTask
    let network: SequenceClassifier
    let heldOut: MajorityTokenTask.Batch
    var model: any Module { network }
    let primaryMetric = "test_accuracy"
    let metadata: [String: String] = [:]

    init(_ recipe: TransformerRecipe, generator: inout RandomGenerator) {
        self.recipe = recipe
        task = Self.task(recipe)
        network = SequenceClassifier(Self.configuration(recipe), generator: &generator)
        var evaluation = evaluationGenerator(seed: recipe.seed)
        heldOut = task.batch(count: recipe.data.evaluationExamples, generator: &evaluation)
    }

    static func task(_ recipe: TransformerRecipe) -> MajorityTokenTask {
        MajorityTokenTask(markerCount: recipe.data.markerCount, fillerCount: recipe.data.fillerCount,
                          sequenceLength: recipe.data.contextLength)
    }

    /// The classifier a recipe describes (what `tessera explain` rebuilds before loading the weights).
    static func configuration(_ recipe: TransformerRecipe) -> SequenceClassifierConfiguration {
        let m = recipe.model, task = task(recipe)
        return SequenceClassifierConfiguration(vocabularySize: task.vocabularySize, sequenceLength: task.sequenceLength,
                                               classCount: task.classCount, layerCount: m.layerCount, headCount: m.headCount,
                                               modelDimensions: m.modelDimensions, feedForwardDimensions: m.feedForwardDimensions,
                                               dropout: m.dropout, normalization: m.normalization)
    }

    /// Cross entropy of the labels; step `s`'s batch is drawn from the seed and `s`.
    func trainingLoss(step: Int, shard: BatchShard) -> (loss: Tensor, examples: Int) {
        var generator = batchGenerator(seed: recipe.seed, step: step)
        let batch = task.batch(count: recipe.data.batchSize, generator: &generator)
        let loss = crossEntropyShare(logits: network(shard.rows(batch.tokens)), targets: shard.rows(batch.labels),
                                     countedTargets: recipe.data.batchSize)
        return (loss, shard.rows(of: recipe.data.batchSize).count)
    }

    func evaluate() -> [String: Double] {
        network.eval()
        defer { network.train() }
        return withoutGradients {
            let logits = network(heldOut.tokens)
            let loss = Double(crossEntropy(logits: logits, targets: heldOut.labels).item)
            let accuracy = Double(logits.argmax(alongAxis: -1).equal(heldOut.labels).mean().item)
            return ["test_loss": loss, "test_accuracy": accuracy]
        }
    }
}

/// The workload a recipe's task names.
func makeTransformerWorkload(_ recipe: TransformerRecipe, generator: inout RandomGenerator) throws -> any StepWorkload {
    switch (recipe.task, recipe.data.source) {
    case ("sequence-to-sequence", _): return SequenceToSequenceWorkload(recipe, generator: &generator)
    case ("language-model", .addition): return AdditionWorkload(recipe, generator: &generator)
    case ("language-model", _): return try CorpusLanguageModelWorkload(recipe, generator: &generator)
    case ("masked-language-model", _): return try MaskedLanguageModelWorkload(recipe, generator: &generator)
    case ("vision-transformer", _): return try VisionTransformerWorkload(recipe, generator: &generator)
    case ("sequence-classification", _): return SequenceClassificationWorkload(recipe, generator: &generator)
    default: throw TrainingError("task '\(recipe.task)' is not a transformer task (known: \(TransformerTasks.taskNames.joined(separator: ", ")))")
    }
}
