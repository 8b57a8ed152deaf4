import Foundation
import Testing
import TesseraNN
import TesseraSelfSupervised
import TesseraTensor

/// CLIP's symmetric loss against PyTorch written from the paper's Fig. 3
/// (Tests/Fixtures/fixtures_selfsupervised.py), finite differences, the distributed form, and the
/// model's temperature and zero-shot classifier.
struct CLIPTests {
    let fixture: Fixture

    init() throws {
        fixture = try Fixture("selfsupervised")
    }

    @Test func symmetricLossAndItsGradientsMatchPyTorch() throws {
        let images = try fixture.tensor("clip.images").requiringGradient()
        let texts = try fixture.tensor("clip.texts").requiringGradient()
        let logitScale = try fixture.tensor("clip.log_scale").requiringGradient()
        let loss = CLIPLoss.symmetric(images: images, texts: texts, logitScale: logitScale)
        loss.backward()
        expectClose(loss.reshape([1]), try fixture.tensor("clip.loss"), "loss")
        expectClose(try #require(images.grad), try fixture.tensor("clip.grad_images"), "grad images")
        expectClose(try #require(texts.grad), try fixture.tensor("clip.grad_texts"), "grad texts")
        expectClose(try #require(logitScale.grad), try fixture.tensor("clip.grad_log_scale"), "grad log scale")
    }

    @Test func symmetricLossGradientMatchesFiniteDifferences() throws {
        let (images, texts) = (try fixture.tensor("clip.images"), try fixture.tensor("clip.texts"))
        let logitScale = try fixture.tensor("clip.log_scale")
        expectGradientMatchesFiniteDifferences(images, step: 1e-2, tolerance: 2e-2, "images") {
            CLIPLoss.symmetric(images: $0, texts: texts, logitScale: logitScale)
        }
        expectGradientMatchesFiniteDifferences(texts, step: 1e-2, tolerance: 2e-2, "texts") {
            CLIPLoss.symmetric(images: images, texts: $0, logitScale: logitScale)
        }
        expectGradientMatchesFiniteDifferences(logitScale, step: 1e-2, tolerance: 2e-2, "log scale") {
            CLIPLoss.symmetric(images: images, texts: texts, logitScale: $0)
        }
    }

    /// Split into two processes' pairs against the gathered embeddings of both modalities, the
    /// shares add up to the one-process loss (so their gradients add up to the global batch's).
    @Test func sharesOverProcessesSumToTheGlobalLoss() throws {
        let (images, texts) = (try fixture.tensor("clip.images"), try fixture.tensor("clip.texts"))
        let logitScale = try fixture.tensor("clip.log_scale")
        let whole = CLIPLoss.symmetric(images: images, texts: texts, logitScale: logitScale).item
        let shares = [[0, 1], [2, 3, 4]].map { rows in
            let indices = Tensor(rows.map(Float.init))
            return CLIPLoss.share(images: images.indexSelect(alongAxis: 0, indices: indices),
                                  texts: texts.indexSelect(alongAxis: 0, indices: indices), rows: rows,
                                  imageKeys: images, textKeys: texts, logitScale: logitScale, normalizingCount: 5).item
        }
        #expect(abs(shares[0] + shares[1] - whole) <= 1e-5 * abs(whole))
    }

    /// Matching pairs (each text its image's embedding) give a loss that falls toward 0 as the
    /// scale grows, and log N as the scale nears 0 (every candidate alike).
    @Test func matchingPairsLoseLessAtAHigherScale() throws {
        var generator = RandomGenerator(seed: 2)
        let images = Tensor.randomNormal([8, 16], generator: &generator)
        let scales: [Float] = [-20, 0, 1, 2, 3, log(100)]
        let losses = scales.map { CLIPLoss.symmetric(images: images, texts: images, logitScale: Tensor([$0])).item }
        #expect(abs(losses[0] - log(8)) < 1e-4)
        #expect(zip(losses, losses.dropFirst()).allSatisfy { $0 > $1 }, "\(losses)")
    }

    func tinyCLIP(temperature: Float = 0.07) throws -> CLIP {
        var generator = RandomGenerator(seed: 1)
        return try CLIP(imageEncoder: Linear(6, 5, generator: &generator), textEncoder: Linear(3, 4, generator: &generator),
                        configuration: .init(imageRepresentationSize: 5, textRepresentationSize: 4, embeddingSize: 3,
                                             initialTemperature: temperature),
                        generator: &generator)
    }

    /// τ starts at 0.07 (logit scale log(1/0.07)), is learned, and the clipping after a step keeps
    /// the scale within [1, 100]; a temperature ≤ 0 or below 1/100 is refused by name.
    @Test func temperatureIsLearnedAndClippedAtALogitScaleOf100() throws {
        let clip = try tinyCLIP()
        #expect(abs(clip.temperature - 0.07) < 1e-6)
        #expect(clip.namedParameters().contains { $0.name == "logitScale" })
        clip.logitScale.storage.pointer[0] = 7
        clip.clampLogitScale()
        #expect(abs(clip.logitScale.scalars[0] - log(100)) < 1e-6)
        clip.logitScale.storage.pointer[0] = -1
        clip.clampLogitScale()
        #expect(clip.logitScale.scalars[0] == 0)
        for bad: Float in [0, -0.1, 0.005, .nan] {
            #expect(throws: SelfSupervisedError.self, "temperature \(bad)") { try tinyCLIP(temperature: bad) }
        }
    }

    /// A few steps on fixed pairs lower the loss, and the logit scale moves (it is trained).
    @Test func stepsLowerTheLossAndTrainTheScale() throws {
        let clip = try tinyCLIP(temperature: 0.5)
        var generator = RandomGenerator(seed: 4)
        let images = Tensor.randomNormal([6, 6], generator: &generator), texts = Tensor.randomNormal([6, 3], generator: &generator)
        let optimizer = Adam(parameters: clip.namedParameters(), learningRate: 0.05)
        let first = clip.step(images: images, texts: texts, optimizer: optimizer).item
        var last = first
        for _ in 0..<50 { last = clip.step(images: images, texts: texts, optimizer: optimizer).item }
        #expect(last < 0.5 * first, "\(first) → \(last)")
        #expect(abs(clip.temperature - 0.5) > 0.01)
    }

    /// The zero-shot classifier is the mean of each class's caption embeddings: an image equal to
    /// one class's embedding goes to that class.
    @Test func zeroShotClassifierPicksTheClassWhoseCaptionsAreNearest() throws {
        var generator = RandomGenerator(seed: 1)
        // Identity encoders and projections: an embedding is its input, normalised.
        let identity = Tensor(shape: [3, 3], scalars: [1, 0, 0, 0, 1, 0, 0, 0, 1])
        let clip = try CLIP(imageEncoder: Linear(weight: identity.copy(), bias: nil), textEncoder: Linear(weight: identity.copy(), bias: nil),
                            configuration: .init(imageRepresentationSize: 3, textRepresentationSize: 3, embeddingSize: 3), generator: &generator)
        clip.imageProjection.weight.assign(identity)
        clip.textProjection.weight.assign(identity)
        // Class 0's captions point along x and y, class 1's along z.
        let prompts = Tensor(shape: [3, 3], scalars: [1, 0, 0, 0, 1, 0, 0, 0, 1])
        let classifier = try clip.zeroShotClassifier(promptTokens: prompts, promptClasses: [0, 0, 1], classCount: 2)
        let images = Tensor(shape: [3, 3], scalars: [1, 1, 0, 0.2, 0, 1, 1, 0.1, 0.3])
        #expect(try classifier.predict(clip.imageEmbeddings(images)).scalars == [0, 1, 0])
        #expect(throws: SelfSupervisedError.self) {
            try clip.zeroShotClassifier(promptTokens: prompts, promptClasses: [0, 0, 0], classCount: 2)
        }
    }
}
