import Testing
import TesseraExplain
import TesseraNN
import TesseraTensor
import TesseraTransformers

/// Ali et al., "XAI for Transformers: Better Explanations through Conservative Propagation" (ICML
/// 2022): with attention probabilities and layer-norm σ detached, LRP conserves relevance through
/// every block, LRP-0 is gradient × input of the detached model, and the tokens a trained classifier
/// reads are the ones the explanation points to.
struct TransformerLRPTests {
    // MARK: - Models

    static func vit(activation: Activation = .relu, seed: UInt64 = 31) -> VisionTransformer {
        var generator = RandomGenerator(seed: seed)
        let model = VisionTransformer(VisionTransformerConfiguration(imageShape: [1, 8, 8], patchSize: 4, classCount: 3, layerCount: 2,
                                                                     headCount: 2, modelDimensions: 8, feedForwardDimensions: 16,
                                                                     activation: activation), generator: &generator)
        model.classToken.assign(Tensor.randomNormal([1, 1, 8], generator: &generator))
        randomizeNormsAndPositions(model, generator: &generator)
        return model
    }

    static func classifier(_ normalization: NormalizationPlacement, seed: UInt64 = 32) -> SequenceClassifier {
        var generator = RandomGenerator(seed: seed)
        let model = SequenceClassifier(SequenceClassifierConfiguration(vocabularySize: 7, sequenceLength: 6, classCount: 3, layerCount: 2,
                                                                       headCount: 2, modelDimensions: 8, feedForwardDimensions: 16,
                                                                       activation: .relu, normalization: normalization),
                                       generator: &generator)
        model.tokenEmbedding.weight.assign(Tensor.randomNormal([7, 8], generator: &generator))
        randomizeNormsAndPositions(model, generator: &generator)
        return model
    }

    /// Layer-norm scales and shifts and the positions away from their initial 1, 0 and ≈ 0, so the
    /// tests see them act.
    static func randomizeNormsAndPositions(_ model: any Module, generator: inout RandomGenerator) {
        for (name, parameter) in model.namedParameters() {
            if name.hasSuffix("Norm.weight") {
                parameter.assign(Tensor.randomUniform(parameter.shape, low: 0.5, high: 1.5, generator: &generator))
            } else if name.hasSuffix("Norm.bias") || name == "positionEmbedding.weight" {
                parameter.assign(Tensor.randomNormal(parameter.shape, standardDeviation: 0.5, generator: &generator))
            }
        }
    }

    /// Every bias, shift, position and [CLS] token zero: LRP-0 then loses nothing anywhere.
    static func removeConstants(_ model: any Module) {
        for (name, parameter) in model.namedParameters()
        where name.hasSuffix("bias") || name == "positionEmbedding.weight" || name == "classToken" {
            parameter.assign(Tensor.zeros(parameter.shape))
        }
    }

    static func tokens(_ count: Int, length: Int, vocabulary: Int, seed: UInt64) -> Tensor {
        var generator = RandomGenerator(seed: seed)
        return Tensor(shape: [count, length], scalars: (0..<(count * length)).map { _ in Float(generator.nextInt(below: vocabulary)) })
    }

    // MARK: - The detached model, written from the weights

    static func detachedLayerNorm(_ norm: LayerNorm, _ x: Tensor) -> Tensor {
        let centered = x - x.mean(alongAxes: [2], keepDims: true)
        let sigma = ((centered * centered).mean(alongAxes: [2], keepDims: true) + norm.epsilon).sqrt().detached()
        return centered / sigma * norm.weight! + norm.bias!
    }

    static func detachedAttention(_ attention: MultiHeadAttention, _ x: Tensor) -> Tensor {
        let (batch, time, heads, depth) = (x.shape[0], x.shape[1], attention.headCount, attention.headDimensions)
        func split(_ y: Tensor) -> Tensor { y.reshape([batch, time, heads, depth]).permuted([0, 2, 1, 3]) }
        let scores = Tensor.matmul(split(attention.query(x)), split(attention.key(x)), transposeA: false, transposeB: true)
        let probabilities = (scores / Float(depth).squareRoot()).softmax(alongAxis: -1).detached()
        return attention.output(probabilities.matmul(split(attention.value(x))).permuted([0, 2, 1, 3]).reshape([batch, time, heads * depth]))
    }

    static func detachedEncoder(_ encoder: TransformerEncoder, _ input: Tensor) -> Tensor {
        var x = input
        for layer in encoder.layers {
            let feedForward = { (y: Tensor) in layer.feedForward.contract(layer.feedForward.activation(layer.feedForward.expand(y))) }
            switch layer.normalization {
            case .preNorm:
                x = x + detachedAttention(layer.attention, detachedLayerNorm(layer.attentionNorm, x))
                x = x + feedForward(detachedLayerNorm(layer.feedForwardNorm, x))
            case .postNorm:
                x = detachedLayerNorm(layer.attentionNorm, x + detachedAttention(layer.attention, x))
                x = detachedLayerNorm(layer.feedForwardNorm, x + feedForward(x))
            }
        }
        return encoder.finalNorm.map { detachedLayerNorm($0, x) } ?? x
    }

    static func detachedViT(_ model: VisionTransformer, _ images: Tensor) -> Tensor {
        let patches = model.patchEmbedding(images)
        let (batch, count, width) = (patches.shape[0], patches.shape[1], patches.shape[2])
        let x = Tensor.concatenate([model.classToken.expand(to: [batch, 1, width]), patches], alongAxis: 1)
            + model.positionEmbedding(length: count + 1)
        return model.head(detachedEncoder(model.encoder, x).select(alongAxis: 1, index: 0))
    }

    /// The classifier from its token embeddings on: gradient × input is taken with respect to them.
    static func detachedClassifier(_ model: SequenceClassifier, embeddings: Tensor) -> Tensor {
        let x = embeddings + model.positionEmbedding(length: embeddings.shape[1])
        return model.head(detachedEncoder(model.encoder, x).mean(alongAxes: [1]))
    }

    static func gradientTimesInput(_ function: (Tensor) -> Tensor, at input: Tensor, targets: [Int], classes: Int) -> Tensor {
        withGradientMode(true) {
            let x = input.detached().requiringGradient()
            let seed = Tensor(targets.map(Float.init)).oneHot(classes: classes)
            let gradient = Tensor.gradients(of: function(x), withRespectTo: [x], seed: seed)[0]
            return withoutGradients { x.detached() * gradient.detached() }
        }
    }

    /// Every top-level step's input relevance sums to the explained logit; inside a residual body,
    /// where only the body's share arrives, every step passes on what the body's last step received.
    static func expectConserved(_ explanation: Explanation, steps: [Explainer.Step], names: [String]) {
        let total = rowSums(explanation.outputRelevance)
        #expect(total.allSatisfy { Swift.abs($0) > 1e-3 }, "the explained logits \(total) must not vanish")
        let recorded = explanation.layerRelevances.map(\.name)
        for name in names { #expect(recorded.contains(name), "no relevance recorded for \(name)") }
        func expectSums(_ name: String, _ relevance: Tensor?, _ expected: [Float]) {
            guard let relevance else { Issue.record("no relevance recorded for \(name)"); return }
            for (actual, target) in zip(rowSums(relevance), expected) {
                #expect(Swift.abs(actual - target) <= 1e-5 + 1e-4 * Swift.abs(target), "\(name): \(actual) vs \(target)")
            }
        }
        for step in steps {
            expectSums(step.name, explanation.layerRelevance(step.name), total)
            guard let body = step.body, let last = body.last, let share = explanation.layerRelevance(last.name) else { continue }
            #expect(rowSums(share).allSatisfy { Swift.abs($0) > 1e-4 }, "\(step.name): the body's share must not vanish")
            for inner in body.dropLast() { expectSums(inner.name, explanation.layerRelevance(inner.name), rowSums(share)) }
        }
        expectSums("input", explanation.inputRelevance, total)
    }

    // MARK: - Conservation

    @Test func lrpZeroConservesRelevanceThroughEveryBlockOfTheViT() throws {
        let model = Self.vit()
        Self.removeConstants(model)
        let explainer = try Explainer(model: model, composite: TransformerLRP.composite(epsilon: 0), inputShape: [1, 8, 8])
        let explanation = try explainer.explain(randomInput([3, 1, 8, 8]), target: .outputs([0, 1, 2]), keepLayerRelevances: true)
        Self.expectConserved(explanation, steps: explainer.steps, names: [
            "patchEmbedding.projection", "classToken", "positionEmbedding",
            "encoder.layers.0.attentionResidual", "encoder.layers.0.attention", "encoder.layers.0.attentionNorm",
            "encoder.layers.0.feedForwardResidual", "encoder.layers.0.feedForward.expand", "encoder.layers.1.attentionResidual",
            "encoder.layers.1.feedForwardResidual", "encoder.finalNorm", "classTokenOutput", "head",
        ])
    }

    @Test(arguments: [NormalizationPlacement.preNorm, .postNorm])
    func lrpZeroConservesRelevanceThroughEveryEncoderBlock(_ normalization: NormalizationPlacement) throws {
        let model = Self.classifier(normalization)
        Self.removeConstants(model)
        let explainer = try Explainer(model: model, composite: TransformerLRP.composite(epsilon: 0), inputShape: [6])
        let explanation = try explainer.explain(Self.tokens(4, length: 6, vocabulary: 7, seed: 5), target: .outputs([0, 1, 2, 0]),
                                                keepLayerRelevances: true)
        var blocks = ["positionEmbedding", "pool", "head"]
        for layer in 0..<2 {
            blocks += ["attentionResidual", "attention", "attentionNorm", "feedForwardResidual", "feedForwardNorm",
                       "feedForward.contract"].map { "encoder.layers.\(layer).\($0)" }
        }
        Self.expectConserved(explanation, steps: explainer.steps, names: blocks + (normalization == .preNorm ? ["encoder.finalNorm"] : []))
        #expect(explanation.inputRelevance.shape == [4, 6], "one relevance per token")
    }

    @Test func epsilonAbsorbsRelevanceAndPositionsTakeTheirShare() throws {
        let model = Self.vit()
        let images = randomInput([2, 1, 8, 8])
        let zero = try Explainer(model: model, composite: TransformerLRP.composite(epsilon: 0), inputShape: [1, 8, 8])
        let explanation = try zero.explain(images, target: .output(1), keepLayerRelevances: true)
        // The positions' step: the tokens keep x / (x + p) of each element's relevance.
        let tokens = withoutGradients {
            let patches = model.patchEmbedding(images)
            return Tensor.concatenate([model.classToken.expand(to: [2, 1, 8]), patches], alongAxis: 1)
        }
        let positions = withoutGradients { model.positionEmbedding(length: 5) }
        let afterPositions = try #require(explanation.layerRelevance("encoder.layers.0.attentionResidual"))
        let expected = withoutGradients { tokens * afterPositions / (tokens + positions) }
        expectClose(try #require(explanation.layerRelevance("positionEmbedding")), expected, absolute: 1e-5, relative: 1e-3)
        // With constants in the model the pixels get less than the logit, and a large ε absorbs more.
        let pixels = rowSums(explanation.inputRelevance), total = rowSums(explanation.outputRelevance)
        #expect(zip(pixels, total).allSatisfy { Swift.abs($0 - $1) > 1e-3 })
        let large = try Explainer(model: model, composite: TransformerLRP.composite(epsilon: 10), inputShape: [1, 8, 8])
        let absorbed = rowSums(try large.explain(images, target: .output(1)).inputRelevance)
        #expect(zip(absorbed, pixels).allSatisfy { Swift.abs($0) < Swift.abs($1) })
    }

    // MARK: - Gradient × input of the detached model

    @Test func lrpZeroOnTheViTIsGradientTimesInputOfTheDetachedModel() throws {
        let model = Self.vit()
        let images = randomInput([3, 1, 8, 8], low: -1, high: 1)
        let targets = [2, 0, 1]
        let explainer = try Explainer(model: model, composite: TransformerLRP.composite(epsilon: 0), inputShape: [1, 8, 8])
        let explanation = try explainer.explain(images, target: .outputs(targets))
        expectClose(explanation.output, withoutGradients { model(images) }, absolute: 1e-5, relative: 1e-4, "the walk computes the model")
        expectClose(withoutGradients { Self.detachedViT(model, images) }, withoutGradients { model(images) }, absolute: 1e-5, relative: 1e-4,
                    "detaching changes no value")
        let detached = Self.gradientTimesInput({ Self.detachedViT(model, $0) }, at: images, targets: targets, classes: 3)
        expectClose(explanation.inputRelevance, detached, absolute: 1e-5, relative: 1e-3)
        // The model's own gradient × input differs: the detachment is what LRP-0 reproduces.
        let attached = try Attribution.gradientTimesInput(of: model, at: images, target: .outputs(targets))
        #expect(zip(attached.scalars, detached.scalars).contains { Swift.abs($0 - $1) > 1e-3 })
    }

    @Test(arguments: [NormalizationPlacement.preNorm, .postNorm])
    func lrpZeroOnTokensIsGradientTimesInputOfTheDetachedClassifier(_ normalization: NormalizationPlacement) throws {
        let model = Self.classifier(normalization)
        let tokens = Self.tokens(4, length: 6, vocabulary: 7, seed: 9)
        let targets = [1, 2, 0, 1]
        let explainer = try Explainer(model: model, composite: TransformerLRP.composite(epsilon: 0), inputShape: [6])
        let explanation = try explainer.explain(tokens, target: .outputs(targets))
        expectClose(explanation.output, withoutGradients { model(tokens) }, absolute: 1e-5, relative: 1e-4, "the walk computes the model")
        let embeddings = withoutGradients { model.tokenEmbedding(tokens) }
        let perFeature = Self.gradientTimesInput({ Self.detachedClassifier(model, embeddings: $0) }, at: embeddings, targets: targets,
                                                 classes: 3)
        expectClose(explanation.inputRelevance, withoutGradients { perFeature.sum(alongAxes: [2]) }, absolute: 1e-5, relative: 1e-3)
    }

    // MARK: - Rules and steps

    @Test func transformerRulesRefuseOtherLayersAndStepsNameTheirRule() throws {
        var generator = RandomGenerator(seed: 2)
        let linear = Linear(4, 4, generator: &generator)
        let x = randomInput([1, 2, 4])
        #expect(throws: ExplainError.self) { try AttentionRule().inputRelevance(layer: linear, input: x, output: linear(x), relevance: x) }
        #expect(throws: ExplainError.self) { try LayerNormRule().inputRelevance(layer: linear, input: x, output: linear(x), relevance: x) }
        // Any named composite explains a transformer: its own layers bring their rules.
        let model = Self.classifier(.preNorm)
        let explainer = try Explainer(model: model, composite: EpsilonGammaBox(low: 0, high: 1), inputShape: [6])
        let rules = Dictionary(uniqueKeysWithValues: explainer.steps.map { ($0.name, $0.rule.map { "\($0)" } ?? "residual") })
        #expect(rules["tokenEmbedding"] == "token sum")
        #expect(rules["positionEmbedding"] == "norm")
        #expect(rules["encoder.finalNorm"]?.hasPrefix("layer norm") == true)
        let attention = explainer.steps.first { $0.name == "encoder.layers.0.attentionResidual" }?.body?.last
        #expect(attention?.rule.map { "\($0)" }?.hasPrefix("attention") == true)
    }

    // MARK: - Faithfulness on a trained classifier

    /// A small classifier trained briefly on the majority-token task: for the held-out sequences it
    /// gets right, the most relevant token is one of the winning marker's occurrences — the tokens the
    /// label is defined by — far more often than a token picked at random is.
    @Test func theMostRelevantTokenOfATrainedClassifierIsTheWinningMarker() throws {
        let task = MajorityTokenTask(markerCount: 3, fillerCount: 4, sequenceLength: 8)
        var generator = RandomGenerator(seed: 4)
        let model = SequenceClassifier(SequenceClassifierConfiguration(vocabularySize: task.vocabularySize, sequenceLength: 8,
                                                                       classCount: 3, layerCount: 1, headCount: 2, modelDimensions: 16,
                                                                       feedForwardDimensions: 32), generator: &generator)
        let optimizer = Adam(parameters: model.namedParameters(), learningRate: 0.01)
        for _ in 0..<150 {
            let batch = task.batch(count: 32, generator: &generator)
            optimizer.zeroGradients()
            crossEntropy(logits: model(batch.tokens), targets: batch.labels).backward()
            optimizer.step()
        }
        let heldOut = task.batch(count: 200, generator: &generator)
        let explainer = try Explainer(model: model, composite: TransformerLRP.composite(epsilon: 1e-3), inputShape: [8])
        let labels = heldOut.labels.scalars.map(Int.init)
        let explanation = try explainer.explain(heldOut.tokens, target: .outputs(labels))
        let predictions = withoutGradients { explanation.output.argmax(alongAxis: 1) }.scalars.map { Int($0) }
        let accuracy = Double(zip(predictions, labels).filter { $0 == $1 }.count) / Double(labels.count)
        #expect(accuracy >= 0.9, "held-out accuracy \(accuracy) after 150 steps")

        let relevance = explanation.inputRelevance.scalars, evidence = heldOut.evidence.scalars
        var hits = 0, correct = 0
        for row in labels.indices where predictions[row] == labels[row] {
            let positions = (row * 8)..<((row + 1) * 8)
            let top = positions.max { relevance[$0] < relevance[$1] }!
            correct += 1
            if evidence[top] == 1 { hits += 1 }
        }
        let hitRate = Double(hits) / Double(correct), chance = Double(evidence.reduce(Float(0), +)) / Double(evidence.count)
        #expect(hitRate >= 0.9, "the most relevant token is a winning marker in \(hitRate) of the sequences (chance \(chance))")
        #expect(chance < 0.5)
    }
}
