import TesseraNN
import TesseraTensor

/// The Vision Transformer (Dosovitskiy et al., "An Image is Worth 16x16 Words", ICLR 2021): the
/// image cut into square patches, each flattened and projected to a token, a learned [CLS] token
/// prepended, learned positions added, a pre-LN encoder, and a linear head on the [CLS] output.
public struct VisionTransformerConfiguration: Codable, Equatable, Sendable {
    /// `[channels, height, width]` of the input images.
    public var imageShape: [Int]
    /// Side of the square patches; must divide the height and the width.
    public var patchSize: Int
    public var classCount: Int
    public var layerCount: Int
    public var headCount: Int
    public var modelDimensions: Int
    /// Hidden width of the feed-forward networks (4 × model dimensions by default).
    public var feedForwardDimensions: Int
    public var dropout: Float
    /// Nonlinearity of the feed-forward networks: GELU as in the paper; ReLU makes the model piecewise
    /// linear once attention and layer norm are detached, which the LRP tests rely on.
    public var activation: Activation

    public init(imageShape: [Int], patchSize: Int, classCount: Int, layerCount: Int, headCount: Int,
                modelDimensions: Int, feedForwardDimensions: Int? = nil, dropout: Float = 0, activation: Activation = .gelu) {
        self.imageShape = imageShape
        self.patchSize = patchSize
        self.classCount = classCount
        self.layerCount = layerCount
        self.headCount = headCount
        self.modelDimensions = modelDimensions
        self.feedForwardDimensions = feedForwardDimensions ?? 4 * modelDimensions
        self.dropout = dropout
        self.activation = activation
    }

    /// Patches per image.
    public var patchCount: Int { (imageShape[1] / patchSize) * (imageShape[2] / patchSize) }
}

/// Cuts `[batch, channels, height, width]` images into `[batch, patches, channels·p·p]` rows and
/// projects them: the strided `p×p` convolution of the paper, as a reshape and one matrix product.
public final class PatchEmbedding: Layer {
    public let projection: Linear
    public let patchSize: Int
    public let imageShape: [Int]

    public init(imageShape: [Int], patchSize: Int, dimensions: Int, generator: inout RandomGenerator) {
        check(imageShape.count == 3, "PatchEmbedding: image shape must be [channels, height, width], got \(imageShape)")
        check(patchSize > 0 && imageShape[1] % patchSize == 0 && imageShape[2] % patchSize == 0,
                     "PatchEmbedding: patch size \(patchSize) does not divide the \(imageShape[1])×\(imageShape[2]) image")
        self.patchSize = patchSize
        self.imageShape = imageShape
        projection = Linear(imageShape[0] * patchSize * patchSize, dimensions, generator: &generator)
    }

    public func callAsFunction(_ images: Tensor) -> Tensor {
        projection(patches(images))
    }

    /// The flattened patches before the projection, `[batch, patches, channels·p·p]`, row by row.
    public func patches(_ images: Tensor) -> Tensor {
        check(images.rank == 4 && Array(images.shape.dropFirst()) == imageShape,
                     "PatchEmbedding: images must be [batch] + \(imageShape), got \(images.shape)")
        let (batch, channels) = (images.shape[0], imageShape[0])
        let (rows, columns) = (imageShape[1] / patchSize, imageShape[2] / patchSize)
        return images.reshape([batch, channels, rows, patchSize, columns, patchSize])
            .permuted([0, 2, 4, 1, 3, 5])
            .reshape([batch, rows * columns, channels * patchSize * patchSize])
    }
}

public final class VisionTransformer: Layer {
    public let configuration: VisionTransformerConfiguration
    public let patchEmbedding: PatchEmbedding
    /// The learned [CLS] token, `[1, 1, modelDimensions]`, initialised to zeros as in the paper's code.
    public let classToken: Tensor
    /// One position for the [CLS] token and one per patch.
    public let positionEmbedding: LearnedPositionalEmbedding
    public let embeddingDropout: Dropout?
    public let encoder: TransformerEncoder
    public let head: Linear

    public init(_ configuration: VisionTransformerConfiguration, generator: inout RandomGenerator) {
        self.configuration = configuration
        let c = configuration
        patchEmbedding = PatchEmbedding(imageShape: c.imageShape, patchSize: c.patchSize, dimensions: c.modelDimensions,
                                        generator: &generator)
        classToken = Tensor.zeros([1, 1, c.modelDimensions]).requiringGradient()
        positionEmbedding = LearnedPositionalEmbedding(maximumLength: c.patchCount + 1, dimensions: c.modelDimensions,
                                                       generator: &generator)
        embeddingDropout = c.dropout > 0 ? Dropout(probability: c.dropout) : nil
        encoder = TransformerEncoder(
            BlockConfiguration(modelDimensions: c.modelDimensions, headCount: c.headCount,
                               feedForwardDimensions: c.feedForwardDimensions, dropout: c.dropout, activation: c.activation,
                               normalization: .preNorm),
            layerCount: c.layerCount, generator: &generator)
        head = Linear(c.modelDimensions, c.classCount, generator: &generator)
    }

    /// The encoder's output for every token, `[batch, 1 + patches, modelDimensions]` ([CLS] first):
    /// what self-supervised methods (BEiT, iBOT, DINO) and explanations read.
    public func features(_ images: Tensor) -> Tensor {
        let patches = patchEmbedding(images)
        let batch = patches.shape[0]
        let classTokens = classToken.expand(to: [batch, 1, configuration.modelDimensions])
        var x = Tensor.concatenate([classTokens, patches], alongAxis: 1) + positionEmbedding(length: patches.shape[1] + 1)
        if let embeddingDropout { x = embeddingDropout(x) }
        return encoder(x)
    }

    /// Class logits `[batch, classCount]` from the [CLS] token's output.
    public func callAsFunction(_ images: Tensor) -> Tensor {
        head(features(images).select(alongAxis: 1, index: 0))
    }
}
