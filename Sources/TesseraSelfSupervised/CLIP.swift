import Foundation
import TesseraNN
import TesseraTensor

/// CLIP (Radford et al., "Learning Transferable Visual Models From Natural Language Supervision",
/// ICML 2021): an image encoder and a text encoder, each followed by a linear projection into one
/// embedding space (`W_i`, `W_t`, no bias), trained so that an image's L2-normalised embedding is
/// nearest its own caption's among the batch's captions and the caption's nearest its image
/// (``CLIPLoss``, the symmetric cross entropy of the paper's Fig. 3).
///
/// The temperature is learned: ``logitScale`` holds log(1/τ), starts at τ = 0.07 (from Wu et al.
/// 2018, as in the paper) and is clipped "to prevent scaling the logits by more than 100" after
/// every update (``clampLogitScale()``; clipping the parameter, not the forward pass, as OpenCLIP
/// does, so a scale at the cap still gets a gradient that can bring it down).
///
/// Zero-shot classification (Sect. 3.1.2): the class names are written into captions, the
/// captions' embeddings are the weights of a linear classifier over the image embeddings
/// (``zeroShotClassifier(promptTokens:promptClasses:classCount:)``, with the paper's prompt
/// ensembling of Sect. 3.1.4 when a class has several captions).
///
/// ```swift
/// let clip = try CLIP(imageEncoder: cnn, textEncoder: transformer,
///                     configuration: .init(imageRepresentationSize: 128, textRepresentationSize: 64), generator: &rng)
/// let loss = clip.loss(images: images, texts: tokens)
/// ```
public final class CLIP: Module {
    /// The fixed settings of a CLIP model.
    public struct Configuration: Sendable {
        /// The image encoder's output size (`W_i`'s input).
        public var imageRepresentationSize: Int
        /// The text encoder's output size (`W_t`'s input).
        public var textRepresentationSize: Int
        /// The shared embedding space's size (512 for the paper's ViT-B/32).
        public var embeddingSize: Int
        /// τ at the start (0.07 in the paper).
        public var initialTemperature: Float
        /// The largest logit scale 1/τ the clipping allows (100 in the paper).
        public var maximumLogitScale: Float

        public init(imageRepresentationSize: Int, textRepresentationSize: Int, embeddingSize: Int = 512,
                    initialTemperature: Float = 0.07, maximumLogitScale: Float = 100) {
            self.imageRepresentationSize = imageRepresentationSize
            self.textRepresentationSize = textRepresentationSize
            self.embeddingSize = embeddingSize
            self.initialTemperature = initialTemperature
            self.maximumLogitScale = maximumLogitScale
        }
    }

    public let configuration: Configuration
    /// Images to `[N, imageRepresentationSize]`.
    public let imageEncoder: any Layer
    /// Token ids `[N, L]` to `[N, textRepresentationSize]`.
    public let textEncoder: any Layer
    public let imageProjection: Linear
    public let textProjection: Linear
    /// `[1]`: log(1/τ), learned.
    public let logitScale: Tensor

    /// Throws for an initial temperature that is not positive or scales the logits past the maximum.
    public init(imageEncoder: any Layer, textEncoder: any Layer, configuration: Configuration,
                generator: inout RandomGenerator) throws {
        let c = configuration
        guard c.maximumLogitScale > 1, c.maximumLogitScale.isFinite else {
            throw SelfSupervisedError("CLIP: maximumLogitScale must be a finite number above 1, got \(c.maximumLogitScale)")
        }
        guard c.initialTemperature > 0, c.initialTemperature.isFinite, 1 / c.initialTemperature <= c.maximumLogitScale else {
            throw SelfSupervisedError("CLIP: the temperature must be positive and at least 1/\(c.maximumLogitScale) (the logit scale's cap), got \(c.initialTemperature)")
        }
        self.configuration = c
        self.imageEncoder = imageEncoder
        self.textEncoder = textEncoder
        imageProjection = Linear(c.imageRepresentationSize, c.embeddingSize, bias: false, generator: &generator)
        textProjection = Linear(c.textRepresentationSize, c.embeddingSize, bias: false, generator: &generator)
        logitScale = Tensor([Foundation.log(1 / c.initialTemperature)]).requiringGradient()
    }

    /// τ = exp(−logitScale).
    public var temperature: Float { Foundation.exp(-logitScale.scalars[0]) }

    /// `W_i · f(image)`, before normalisation: what a trainer gathers over processes.
    public func imageProjections(_ images: Tensor) -> Tensor { imageProjection(imageEncoder(images)) }

    /// `W_t · g(tokens)`, before normalisation.
    public func textProjections(_ tokens: Tensor) -> Tensor { textProjection(textEncoder(tokens)) }

    /// The images' unit-length embeddings.
    public func imageEmbeddings(_ images: Tensor) -> Tensor { l2Normalized(imageProjections(images)) }

    /// The texts' unit-length embeddings.
    public func textEmbeddings(_ tokens: Tensor) -> Tensor { l2Normalized(textProjections(tokens)) }

    /// The symmetric loss of N pairs, row i of `images` captioned by row i of `texts`.
    public func loss(images: Tensor, texts: Tensor) -> Tensor {
        CLIPLoss.symmetric(images: imageProjections(images), texts: textProjections(texts), logitScale: logitScale)
    }

    /// Clips ``logitScale`` to [0, log maximumLogitScale]: after every optimizer step.
    public func clampLogitScale() {
        let pointer = logitScale.storage.pointer
        pointer[0] = Swift.min(Swift.max(pointer[0], 0), Foundation.log(configuration.maximumLogitScale))
    }

    /// One training step on one process: loss, backward, `optimizer.step()`, clipping.
    @discardableResult
    public func step(images: Tensor, texts: Tensor, optimizer: any Optimizer) -> Tensor {
        let value = loss(images: images, texts: texts)
        optimizer.zeroGradients()
        value.backward()
        optimizer.step()
        clampLogitScale()
        return value
    }

    /// The zero-shot classifier of `classCount` classes: class c's weight is the mean of the unit
    /// embeddings of its captions (`promptTokens` rows whose `promptClasses` entry is c),
    /// normalised again — the paper's ensemble "over the embedding space". An image goes to the
    /// class of highest cosine similarity (one nearest neighbour among the class embeddings).
    /// Throws when a class has no caption.
    public func zeroShotClassifier(promptTokens: Tensor, promptClasses: [Int], classCount: Int) throws -> NearestNeighbourClassifier {
        guard promptClasses.count == promptTokens.shape[0], Set(promptClasses) == Set(0..<classCount) else {
            throw SelfSupervisedError("CLIP: every one of \(classCount) classes needs a caption, got classes \(Set(promptClasses).sorted()) for \(promptTokens.shape[0]) captions")
        }
        let embeddings = withoutGradients { textEmbeddings(promptTokens) }.scalars
        let width = configuration.embeddingSize
        var sums = [Float](repeating: 0, count: classCount * width)
        for (row, label) in promptClasses.enumerated() {
            for column in 0..<width { sums[label * width + column] += embeddings[row * width + column] }
        }
        let classEmbeddings = l2Normalized(Tensor(shape: [classCount, width], scalars: sums))
        return try NearestNeighbourClassifier(features: classEmbeddings, labels: Tensor((0..<classCount).map(Float.init)),
                                              neighbourCount: 1)
    }
}
