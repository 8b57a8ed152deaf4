import TesseraData
import TesseraNN
import TesseraSelfSupervised
import TesseraTensor
import TesseraTransformers

/// CLIP on the generated captioned shapes (Radford et al. 2021): the image encoder the recipe
/// names (`encoder`, on 3 × canvas × canvas images) and a small transformer over the caption's
/// words (`textEncoder`), projected into one space of `method.projectionSize`, trained with the
/// symmetric contrastive loss and a learned temperature clipped at a logit scale of 100 after
/// every update. With several processes each takes its pairs of the batch; both modalities'
/// projections are gathered from every process in the global order, so each image meets the
/// global batch's captions and each caption its images, and the gradient of every projection
/// returns to its process (as SimCLR's are). Nothing is augmented: a crop or a flip would change
/// what the caption says (the position, the size).
///
/// The evaluation, on the held-out pairs: zero-shot classification over the 24 classes of shape
/// and colour (`zero_shot_accuracy`, the primary metric), and over the 3 shapes and the 8 colours
/// alone, each class's weight the ensemble of every caption of the template that names it (all
/// sizes and quadrants, and for a shape all colours); retrieval recall@1 in both directions, a
/// retrieved caption (image) counting when its caption is the query's (identical captions cannot
/// be told apart); the test pairs' loss, τ, and the image embeddings' effective rank.
final class CLIPWorkload: StepWorkload {
    let recipe: SelfSupervisedRecipe
    let collective: (any TrainingCollective)?
    let failure = CollectiveFailure()
    let train: CaptionedShapes.Pairs
    let test: CaptionedShapes.Pairs
    let clip: CLIP
    /// One caption of every attribute combination (`CaptionedShapes.Attributes.all`), `[192, L]`:
    /// the zero-shot prompts.
    let promptTokens: Tensor
    var model: any Module { clip }
    var primaryMetric: String { "zero_shot_accuracy" }
    var progressMetrics: [String] { ["image_to_text_recall_at_1", "temperature"] }
    var collectiveFailure: CollectiveFailure? { failure }
    var metadata: [String: String] {
        ["captionTemplate": recipe.captions.template, "captionVocabulary": CaptionedShapes.vocabulary.joined(separator: " ")]
    }

    init(_ recipe: SelfSupervisedRecipe, collective: (any TrainingCollective)?, generator: inout RandomGenerator) throws {
        self.recipe = recipe
        self.collective = collective
        let c = recipe.captions
        var pairGenerator = RandomGenerator(seed: recipe.seed).derived(stream: RandomStreams.data)
        let pairs = try CaptionedShapes.make(count: c.count, canvasSize: c.canvasSize, template: c.template, generator: &pairGenerator)
        let testCount = Int((Double(c.count) * recipe.data.testFraction).rounded())
        guard testCount >= 1, testCount < c.count else {
            throw TrainingError("captions.count \(c.count) with data.testFraction \(recipe.data.testFraction) leaves \(testCount) test pairs of \(c.count)")
        }
        train = pairs.slice(0..<(c.count - testCount))
        test = pairs.slice((c.count - testCount)..<c.count)
        let wordCount = pairs.tokens.shape[1]
        promptTokens = Tensor(shape: [CaptionedShapes.Attributes.all.count, wordCount],
                              scalars: try CaptionedShapes.Attributes.all.flatMap {
                                  try CaptionedShapes.tokens(of: CaptionedShapes.caption($0, template: c.template)).map(Float.init)
                              })
        let image = makeEncoder(recipe.encoder, inputChannels: 3, side: c.canvasSize, generator: &generator)
        let text = CaptionEncoder(recipe.textEncoder, vocabularySize: CaptionedShapes.vocabulary.count, wordCount: wordCount,
                                  generator: &generator)
        do {
            clip = try CLIP(imageEncoder: image, textEncoder: text,
                            configuration: .init(imageRepresentationSize: recipe.encoder.representationSize,
                                                 textRepresentationSize: recipe.textEncoder.modelDimensions,
                                                 embeddingSize: recipe.method.projectionSize, initialTemperature: recipe.method.temperature),
                            generator: &generator)
        } catch {
            throw TrainingError("method.temperature: \(error)")
        }
    }

    func trainingLoss(step: Int, shard: BatchShard) -> (loss: Tensor, examples: Int) {
        let (mine, globalCount) = stepShardIndices(recipe, step: step, shard: shard, pool: train.count)
        let indices = Tensor(mine.map(Float.init))
        let images = clip.imageProjections(train.images.inputs.indexSelect(alongAxis: 0, indices: indices))
        let texts = clip.textProjections(train.tokens.indexSelect(alongAxis: 0, indices: indices))
        var (imageKeys, textKeys) = (images, texts)
        if let collective, collective.worldSize > 1 {
            do {
                imageKeys = try collective.gatheredRows(images, failure: failure)
                textKeys = try collective.gatheredRows(texts, failure: failure)
            } catch {
                failure.record(error)
                return (Tensor(Float.nan), mine.count)
            }
        }
        let offset = shard.rows(of: globalCount).lowerBound
        let loss = CLIPLoss.share(images: images, texts: texts, rows: Array(offset..<(offset + mine.count)),
                                  imageKeys: imageKeys, textKeys: textKeys, logitScale: clip.logitScale, normalizingCount: globalCount)
        return (loss, mine.count)
    }

    /// The paper's clipping of the logit scale, after every update (on every process alike).
    func afterUpdate(step: Int, totalSteps: Int) throws {
        clip.clampLogitScale()
    }

    func evaluate() -> [String: Double] {
        clip.eval()
        defer { clip.train() }
        do {
            return try withoutGradients { try heldOutMetrics() }
        } catch {
            return ["evaluation_failed": 1]
        }
    }

    private func heldOutMetrics() throws -> [String: Double] {
        let imageProjections = clip.imageProjections(test.images.inputs), textProjections = clip.textProjections(test.tokens)
        let (images, texts) = (l2Normalized(imageProjections), l2Normalized(textProjections))
        var captionIDs: [String: Int] = [:]
        for caption in test.captions where captionIDs[caption] == nil { captionIDs[caption] = captionIDs.count }
        let captionLabels = Tensor(test.captions.map { Float(captionIDs[$0]!) })
        var metrics: [String: Double] = [
            "test_loss": Double(CLIPLoss.symmetric(images: imageProjections, texts: textProjections, logitScale: clip.logitScale).item),
            "image_to_text_recall_at_1": try SemanticSearch.recall(at: 1, queries: images, queryLabels: captionLabels,
                                                                  gallery: texts, galleryLabels: captionLabels),
            "text_to_image_recall_at_1": try SemanticSearch.recall(at: 1, queries: texts, queryLabels: captionLabels,
                                                                  gallery: images, galleryLabels: captionLabels),
            "temperature": Double(clip.temperature),
            "effective_rank": CollapseMonitor.effectiveRank(of: images),
        ]
        let colors = ColoredShapes.palette.count
        let classings: [(key: String, classCount: Int, classOf: (CaptionedShapes.Attributes) -> Int)] = [
            ("zero_shot_accuracy", 3 * colors, { $0.shape.rawValue * colors + $0.color }),
            ("zero_shot_shape_accuracy", 3, { $0.shape.rawValue }),
            ("zero_shot_color_accuracy", colors, { $0.color }),
        ]
        for (key, classCount, classOf) in classings {
            let classifier = try clip.zeroShotClassifier(promptTokens: promptTokens, promptClasses: CaptionedShapes.Attributes.all.map(classOf),
                                                         classCount: classCount)
            metrics[key] = try classifier.accuracy(features: images, labels: Tensor(test.attributes.map { Float(classOf($0)) }))
        }
        return metrics
    }
}

/// CLIP's text encoder: word embeddings plus learned positions, a pre-LN transformer encoder, and
/// the mean of its outputs over the positions. The paper reads the transformer's output at the
/// [EOS] token instead; with every caption of a template the same length there is no padding to
/// skip, and the mean is what ``SequenceClassifier`` pools with too.
final class CaptionEncoder: Layer {
    let tokenEmbedding: TokenEmbedding
    let positionEmbedding: LearnedPositionalEmbedding
    let encoder: TransformerEncoder

    init(_ section: TextEncoderSection, vocabularySize: Int, wordCount: Int, generator: inout RandomGenerator) {
        tokenEmbedding = TokenEmbedding(vocabularySize: vocabularySize, dimensions: section.modelDimensions, generator: &generator)
        positionEmbedding = LearnedPositionalEmbedding(maximumLength: wordCount, dimensions: section.modelDimensions, generator: &generator)
        encoder = TransformerEncoder(BlockConfiguration(modelDimensions: section.modelDimensions, headCount: section.headCount),
                                     layerCount: section.layerCount, generator: &generator)
    }

    /// Word ids `[N, wordCount]` to `[N, modelDimensions]`.
    func callAsFunction(_ tokens: Tensor) -> Tensor {
        encoder(tokenEmbedding(tokens) + positionEmbedding(length: positionEmbedding.maximumLength)).mean(alongAxes: [1])
    }
}
