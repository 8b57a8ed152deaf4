import TesseraConfig
import TesseraTransformers

/// A transformer recipe. `task` picks the model and the data:
///
/// - `sequence-to-sequence`: an encoder–decoder on `copy`, `reverse` or `sort` (exact match by greedy decoding);
/// - `language-model`: a GPT on `addition` (exact match of generated sums) or the generated `corpus`
///   (held-out loss and perplexity);
/// - `masked-language-model`: a BERT-style encoder on the `corpus` (masked-token accuracy);
/// - `vision-transformer`: a ViT on the bundled `digits` (test accuracy);
/// - `sequence-classification`: a `SequenceClassifier` on `majorityToken` sequences, which of
///   `data.markerCount` marker tokens appears most often (held-out accuracy).
///
/// Training is counted in steps, not epochs: the synthetic tasks have no epochs, and each step's
/// batch is a pure function of the seed and the step, which makes resuming exact. `data.batchSize`
/// is the global batch: with several processes each trains on its rows of it.
///
/// ```yaml
/// task: sequence-to-sequence
/// name: transformer-reverse
/// data: {source: reverse, minimumLength: 4, maximumLength: 10, batchSize: 64}
/// model: {layerCount: 2, headCount: 4, modelDimensions: 64}
/// optimizer: {kind: adamw, learningRate: 0.001}
/// training: {steps: 2000}
/// ```
public struct TransformerRecipe: StepRecipe, Decodable, RecipeValidatable {
    /// One of ``TransformerTasks/taskNames``.
    public var task: String
    /// Names the run directory (`runs/<name>`) and the checkpoints.
    public var name: String
    /// Fixes every random stream: initial weights, batches, masking, dropout.
    public var seed: UInt64
    public var data: TransformerDataSection
    public var model: TransformerModelSection
    public var optimizer: OptimizerSection
    public var schedule: ScheduleSection
    public var training: StepTrainingSection
    /// Gradient buckets and collective timeouts when several processes train (`tessera train --np N`).
    /// Only rank 0 evaluates while the others wait in the next step's first collective, so
    /// `collectiveTimeoutSeconds` (120 s) must outlast one evaluation (about 0.2 s for the reversal recipe).
    public var distributed: DistributedSection

    enum CodingKeys: String, CodingKey, CaseIterable {
        case task, name, seed, data, model, optimizer, schedule, training, distributed
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        task = try container.decode(String.self, forKey: .task)
        name = try container.decode(String.self, forKey: .name)
        seed = try container.decodeIfPresent(UInt64.self, forKey: .seed) ?? 0
        data = try container.decode(TransformerDataSection.self, forKey: .data)
        model = try container.decode(TransformerModelSection.self, forKey: .model)
        optimizer = try container.decode(OptimizerSection.self, forKey: .optimizer)
        schedule = try container.decodeIfPresent(ScheduleSection.self, forKey: .schedule) ?? ScheduleSection()
        training = try container.decode(StepTrainingSection.self, forKey: .training)
        distributed = try container.decodeIfPresent(DistributedSection.self, forKey: .distributed) ?? DistributedSection()
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.that(TransformerTasks.taskNames.contains(task), "task",
                       "must be one of \(TransformerTasks.taskNames.joined(separator: ", ")), found '\(task)'")
        try check.that(!name.isEmpty && !name.contains("/"), "name", "must be a non-empty name without '/', found '\(name)'")
        let allowed: [String: [TransformerDataSection.Source]] = [
            "sequence-to-sequence": [.copy, .reverse, .sort], "language-model": [.addition, .corpus, .textFile],
            "masked-language-model": [.corpus, .textFile], "vision-transformer": [.digits],
            "sequence-classification": [.majorityToken],
        ]
        if let sources = allowed[task] {
            try check.that(sources.contains(data.source), "data.source",
                           "task \(task) trains on \(sources.map(\.rawValue).joined(separator: " or ")), found '\(data.source.rawValue)'")
        }
        if task == "vision-transformer" {
            try check.that(8 % model.patchSize == 0, "model.patchSize",
                           "patch size \(model.patchSize) does not divide the 8×8 digit images (use 1, 2, 4 or 8)")
        }
        if task == "sequence-classification" {
            try check.that(data.contextLength >= data.markerCount + 1, "data.contextLength",
                           "\(data.contextLength) tokens cannot hold a winning marker twice and the other \(data.markerCount - 1) markers once; use at least \(data.markerCount + 1)")
        }
        try check.that(schedule.kind == .constant || schedule.kind == .step || schedule.warmupSteps < training.steps,
                       "schedule.warmupSteps", "must be smaller than training.steps (\(training.steps)), found \(schedule.warmupSteps)")
    }
}

/// Where a transformer recipe's examples come from.
public struct TransformerDataSection: Decodable, RecipeValidatable {
    public enum Source: String, Decodable, CaseIterable {
        /// Sequence tasks for the encoder–decoder.
        case copy, reverse, sort
        /// `a+b=` with the reversed sum, for a GPT.
        case addition
        /// The generated English corpus (`TextCorpus`), for a GPT or a masked language model.
        case corpus
        /// Any UTF-8 text file, named by `data.path`, for a GPT or a masked language model; it is
        /// split and tokenized exactly like the generated corpus.
        case textFile
        /// The bundled 8×8 handwritten digits, for a ViT.
        case digits
        /// Sequences of `contextLength` tokens labelled by which of `markerCount` marker tokens
        /// appears most often (`MajorityTokenTask`), for a sequence classifier.
        case majorityToken
    }

    public enum TokenizerKind: String, Decodable, CaseIterable {
        /// One token per character.
        case character
        /// Byte-pair encoding trained on the corpus's training part.
        case bytePair
    }

    public var source: Source
    /// Examples per step: the global batch, shared out among the processes of a data-parallel run.
    public var batchSize: Int
    /// Shortest and longest sequence of the copy/reverse/sort tasks.
    public var minimumLength: Int
    public var maximumLength: Int
    /// Digits of each addend of the addition task.
    public var digits: Int
    /// Paragraphs of generated corpus (about 250 characters each).
    public var paragraphs: Int
    /// The text file of `source: textFile`: absolute, or relative to the directory `tessera` runs
    /// in. Every process of a data-parallel run reads it, so on several hosts it must exist on each.
    public var path: String?
    /// How the corpus becomes tokens.
    public var tokenizer: TokenizerKind
    /// Vocabulary size of a byte-pair tokenizer (special tokens and characters included).
    public var vocabularySize: Int
    /// Tokens per training window of the corpus (the model's context); tokens per sequence of the
    /// `majorityToken` task.
    public var contextLength: Int
    /// Marker tokens (and so classes) of the `majorityToken` task.
    public var markerCount: Int
    /// Filler tokens of the `majorityToken` task: they carry no information about the class.
    public var fillerCount: Int
    /// Share of the corpus (or of the digits) held out for evaluation.
    public var testFraction: Double
    /// Held-out examples evaluated (synthetic tasks).
    public var evaluationExamples: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case source, batchSize, minimumLength, maximumLength, digits, paragraphs, path, tokenizer, vocabularySize, contextLength
        case markerCount, fillerCount, testFraction, evaluationExamples
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        source = try container.decode(Source.self, forKey: .source)
        batchSize = try container.decodeIfPresent(Int.self, forKey: .batchSize) ?? 64
        minimumLength = try container.decodeIfPresent(Int.self, forKey: .minimumLength) ?? 4
        maximumLength = try container.decodeIfPresent(Int.self, forKey: .maximumLength) ?? 10
        digits = try container.decodeIfPresent(Int.self, forKey: .digits) ?? 3
        paragraphs = try container.decodeIfPresent(Int.self, forKey: .paragraphs) ?? 2000
        path = try container.decodeIfPresent(String.self, forKey: .path)
        tokenizer = try container.decodeIfPresent(TokenizerKind.self, forKey: .tokenizer) ?? .character
        vocabularySize = try container.decodeIfPresent(Int.self, forKey: .vocabularySize) ?? 256
        contextLength = try container.decodeIfPresent(Int.self, forKey: .contextLength) ?? 64
        markerCount = try container.decodeIfPresent(Int.self, forKey: .markerCount) ?? 4
        fillerCount = try container.decodeIfPresent(Int.self, forKey: .fillerCount) ?? 8
        testFraction = try container.decodeIfPresent(Double.self, forKey: .testFraction) ?? 0.1
        evaluationExamples = try container.decodeIfPresent(Int.self, forKey: .evaluationExamples) ?? 500
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.positive("batchSize", batchSize)
        try check.positive("minimumLength", minimumLength)
        try check.that(maximumLength >= minimumLength, "maximumLength", "must be at least minimumLength (\(minimumLength)), found \(maximumLength)")
        try check.range("digits", digits, 1...9)
        try check.range("paragraphs", paragraphs, 10...1_000_000)
        if source == .textFile {
            try check.that(!(path ?? "").isEmpty, "path", "source textFile needs the text file's path in data.path")
        } else {
            try check.that(path == nil, "path", "is read only with source textFile, but source is \(source.rawValue)")
        }
        try check.range("contextLength", contextLength, 4...4096)
        try check.range("vocabularySize", vocabularySize, 32...100_000)
        try check.range("markerCount", markerCount, 2...64)
        try check.range("fillerCount", fillerCount, 1...10_000)
        try check.range("testFraction", testFraction, 0.01...0.9)
        try check.positive("evaluationExamples", evaluationExamples)
    }
}

/// The network's sizes (the task picks the architecture).
public struct TransformerModelSection: Decodable, RecipeValidatable {
    /// Blocks of the GPT, the BERT encoder or the ViT; encoder layers of the encoder–decoder.
    public var layerCount: Int
    /// Decoder layers of the encoder–decoder (`layerCount` by default).
    public var decoderLayerCount: Int?
    public var headCount: Int
    public var modelDimensions: Int
    /// Hidden width of the feed-forward networks (4 × model dimensions by default).
    public var feedForwardDimensions: Int?
    public var dropout: Float
    /// `preNorm` (default) or `postNorm` for the encoder–decoder, the masked language model and the
    /// sequence classifier.
    public var normalization: NormalizationPlacement
    /// Side of the ViT's square patches.
    public var patchSize: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case layerCount, decoderLayerCount, headCount, modelDimensions, feedForwardDimensions, dropout, normalization, patchSize
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        layerCount = try container.decodeIfPresent(Int.self, forKey: .layerCount) ?? 2
        decoderLayerCount = try container.decodeIfPresent(Int.self, forKey: .decoderLayerCount)
        headCount = try container.decodeIfPresent(Int.self, forKey: .headCount) ?? 4
        modelDimensions = try container.decodeIfPresent(Int.self, forKey: .modelDimensions) ?? 64
        feedForwardDimensions = try container.decodeIfPresent(Int.self, forKey: .feedForwardDimensions)
        dropout = try container.decodeIfPresent(Float.self, forKey: .dropout) ?? 0
        normalization = try container.decodeIfPresent(NormalizationPlacement.self, forKey: .normalization) ?? .preNorm
        patchSize = try container.decodeIfPresent(Int.self, forKey: .patchSize) ?? 2
    }

    public func validate(_ check: RecipeValidator) throws {
        try check.positive("layerCount", layerCount)
        try check.positive("headCount", headCount)
        try check.positive("modelDimensions", modelDimensions)
        try check.that(modelDimensions % headCount == 0, "modelDimensions",
                       "\(modelDimensions) does not split evenly into \(headCount) heads")
        try check.that(feedForwardDimensions.map { $0 > 0 } ?? true, "feedForwardDimensions", "must be positive")
        try check.that(decoderLayerCount.map { $0 > 0 } ?? true, "decoderLayerCount", "must be positive")
        try check.range("dropout", dropout, 0...0.9)
        try check.positive("patchSize", patchSize)
    }
}
