import Foundation
import TesseraNN
import TesseraTensor

/// PixelCNN (van den Oord, Kalchbrenner & Kavukcuoglu, "Pixel Recurrent Neural Networks", ICML 2016)
/// and the gated PixelCNN with vertical and horizontal stacks (van den Oord, Kalchbrenner, Vinyals,
/// Espeholt, Graves & Kavukcuoglu, "Conditional Image Generation with PixelCNN Decoders", NeurIPS
/// 2016): `p(x) = Πᵢ p(xᵢ | x₁ … xᵢ₋₁)` in raster order, each factor a softmax over the pixel's
/// `levels` grey values, so the log-likelihood is exact and discrete (no dequantisation).
///
/// The plain stack of masked convolutions has a blind spot: pixels above and to the right of the
/// current one that no chain of masked kernels reaches. The gated version's vertical stack sees
/// whole rows above and feeds the horizontal stack, which removes it.
///
/// Images have one grey channel (the digits); pixels in `[0, 1]` take the values `k / (levels − 1)`.
///
/// ```swift
/// var config = PixelCNNConfig(height: 8, width: 8, levels: 17)
/// config.architecture = .gated
/// let model = try PixelCNN(config: config, generator: &rng)
/// let bits = try model.bitsPerDimension(digits)   // exact, in bits per pixel
/// ```
public struct PixelCNNConfig: Equatable, Sendable {
    public var height: Int
    public var width: Int
    /// Grey values a pixel takes (17 for the digits: 0 … 16).
    public var levels: Int
    /// Plain masked convolutions or the gated two-stack version.
    public var architecture: PixelCNNArchitecture = .plain
    /// Hidden feature maps.
    public var hiddenChannels: Int = 32
    /// Layers after the first (mask B layers, or gated layers).
    public var layers: Int = 4
    /// Kernel extent of the first layer (the paper's plain PixelCNN: 7).
    public var firstKernelSize: Int = 7
    /// Kernel extent of the later layers.
    public var kernelSize: Int = 3

    public init(height: Int, width: Int, levels: Int) {
        self.height = height
        self.width = width
        self.levels = levels
    }
}

public enum PixelCNNArchitecture: String, Codable, Sendable {
    /// A mask-A convolution, then mask-B convolutions with ReLU (van den Oord et al. 2016a, Table 4).
    case plain
    /// Gated layers `tanh(W_f ∗ x) ⊙ σ(W_g ∗ x)` on a vertical and a horizontal stack (2016b, Fig. 2).
    case gated
}

/// One gated layer (van den Oord et al. 2016b, Fig. 2): the vertical stack's features also enter
/// the horizontal stack through a 1×1 convolution; the horizontal stack is residual.
public final class GatedPixelCNNLayer: Module {
    public let vertical: MaskedConv2d
    public let horizontal: MaskedConv2d
    public let verticalToHorizontal: Conv2d
    public let horizontalOutput: Conv2d

    public init(channels: Int, kernelSize: Int, generator: inout RandomGenerator) throws {
        vertical = try MaskedConv2d(channels, 2 * channels, kernelSize: IntOrPair(kernelSize, kernelSize),
                                    mask: MaskedConv2d.verticalMask(kernelSize: kernelSize, hideCentre: false), generator: &generator)
        horizontal = try MaskedConv2d(channels, 2 * channels, kernelSize: IntOrPair(1, kernelSize),
                                      mask: MaskedConv2d.horizontalMask(kernelSize: kernelSize, hideCentre: false), generator: &generator)
        verticalToHorizontal = Conv2d(2 * channels, 2 * channels, kernelSize: 1, generator: &generator)
        horizontalOutput = Conv2d(channels, channels, kernelSize: 1, generator: &generator)
    }

    static func gate(_ features: Tensor) -> Tensor {
        let halves = features.chunked(2, alongAxis: 1)
        return halves[0].tanh() * halves[1].sigmoid()
    }

    public func callAsFunction(vertical v: Tensor, horizontal h: Tensor) -> (vertical: Tensor, horizontal: Tensor) {
        let verticalFeatures = vertical(v)
        let horizontalFeatures = horizontal(h) + verticalToHorizontal(verticalFeatures)
        return (Self.gate(verticalFeatures), h + horizontalOutput(Self.gate(horizontalFeatures)))
    }
}

public final class PixelCNN: Module {
    public let config: PixelCNNConfig
    /// Plain: the mask-A layer. Gated: the first vertical-stack layer (centre row hidden).
    public let first: MaskedConv2d
    /// Gated only: the first horizontal-stack layer (centre hidden).
    public let firstHorizontal: MaskedConv2d?
    /// Plain: the mask-B layers.
    public let maskedLayers: [MaskedConv2d]
    /// Gated: the gated layers.
    public let gatedLayers: [GatedPixelCNNLayer]
    public let outputHidden: Conv2d
    /// 1×1 convolution to `levels` logits per pixel.
    public let output: Conv2d

    public init(config: PixelCNNConfig, generator: inout RandomGenerator) throws {
        guard config.height > 0, config.width > 0 else { throw GenerativeError("PixelCNN: height and width must be positive, got \(config.height) × \(config.width)") }
        guard config.levels >= 2 else { throw GenerativeError("PixelCNN: levels must be at least 2, got \(config.levels)") }
        guard config.hiddenChannels > 0, config.layers >= 0 else {
            throw GenerativeError("PixelCNN: hiddenChannels must be positive and layers non-negative, got \(config.hiddenChannels) and \(config.layers)")
        }
        guard config.firstKernelSize % 2 == 1, config.kernelSize % 2 == 1, config.firstKernelSize > 0, config.kernelSize > 0 else {
            throw GenerativeError("PixelCNN: kernel sizes must be odd and positive, got \(config.firstKernelSize) and \(config.kernelSize)")
        }
        self.config = config
        let (hidden, k1, k) = (config.hiddenChannels, config.firstKernelSize, config.kernelSize)
        switch config.architecture {
        case .plain:
            first = try MaskedConv2d(1, hidden, kernelSize: IntOrPair(k1, k1), mask: MaskedConv2d.pixelCNNMask(kernelSize: k1, type: .a), generator: &generator)
            firstHorizontal = nil
            maskedLayers = try (0..<config.layers).map { _ in
                try MaskedConv2d(hidden, hidden, kernelSize: IntOrPair(k, k), mask: MaskedConv2d.pixelCNNMask(kernelSize: k, type: .b), generator: &generator)
            }
            gatedLayers = []
        case .gated:
            first = try MaskedConv2d(1, hidden, kernelSize: IntOrPair(k1, k1), mask: MaskedConv2d.verticalMask(kernelSize: k1, hideCentre: true), generator: &generator)
            firstHorizontal = try MaskedConv2d(1, hidden, kernelSize: IntOrPair(1, k1), mask: MaskedConv2d.horizontalMask(kernelSize: k1, hideCentre: true), generator: &generator)
            maskedLayers = []
            gatedLayers = try (0..<config.layers).map { _ in try GatedPixelCNNLayer(channels: hidden, kernelSize: k, generator: &generator) }
        }
        outputHidden = Conv2d(hidden, hidden, kernelSize: 1, generator: &generator)
        output = Conv2d(hidden, config.levels, kernelSize: 1, generator: &generator)
    }

    private func checkImages(_ images: Tensor, op: String) throws {
        guard images.rank == 4, images.shape[0] > 0, Array(images.shape.dropFirst()) == [1, config.height, config.width] else {
            throw GenerativeError("\(op): expected images [batch, 1, \(config.height), \(config.width)], got shape \(images.shape)")
        }
    }

    /// The logits of every pixel's grey value given the pixels before it, `[batch, levels, height, width]`.
    public func logits(_ images: Tensor) throws -> Tensor {
        try checkImages(images, op: "PixelCNN.logits")
        var features: Tensor
        if let firstHorizontal {
            var stacks = (vertical: first(images), horizontal: firstHorizontal(images))
            for layer in gatedLayers { stacks = layer(vertical: stacks.vertical, horizontal: stacks.horizontal) }
            features = stacks.horizontal
        } else {
            features = first(images)
            for layer in maskedLayers { features = layer(features.relu()) }
        }
        return output(outputHidden(features.relu()).relu())
    }

    /// The grey-level index of every pixel, checking that each lies on the grid `k / (levels − 1)`.
    private func levelIndices(_ images: Tensor) throws -> Tensor {
        let steps = Float(config.levels - 1)
        let indices = try images.scalars.map { pixel -> Float in
            let index = (pixel * steps).rounded()
            guard index >= 0, index <= steps, abs(pixel * steps - index) < 1e-3 else {
                throw GenerativeError("PixelCNN: pixels must take the \(config.levels) values k / \(config.levels - 1) in [0, 1], got \(pixel)")
            }
            return index
        }
        return Tensor(shape: images.shape, scalars: indices)
    }

    /// `log p(x)` in nats, exact, `[batch]`.
    public func logLikelihood(_ images: Tensor) throws -> Tensor {
        let logProbabilities = try logits(images).logSoftmax(alongAxis: 1)
        let picked = logProbabilities.gather(alongAxis: 1, indices: try levelIndices(images))
        return picked.sum(alongAxes: [1, 2, 3])
    }

    /// `−log₂ p(x)` per pixel, averaged over the batch.
    public func bitsPerDimension(_ images: Tensor) throws -> Tensor {
        -(try logLikelihood(images)).mean() / Float(Double(config.height * config.width) * log(2))
    }

    /// `count` images drawn pixel by pixel in raster order, each from its softmax with the logits
    /// divided by `temperature` (one forward pass per pixel).
    public func sample(count: Int, temperature: Float = 1, generator: inout RandomGenerator) throws -> Tensor {
        try checkTemperature(temperature, op: "PixelCNN.sample")
        guard count > 0 else { throw GenerativeError("PixelCNN.sample: count must be positive, got \(count)") }
        let (h, w) = (config.height, config.width)
        let images = Tensor.zeros([count, 1, h, w])
        try withoutGradients {
            for row in 0..<h {
                for column in 0..<w {
                    let scores = try logits(images).slice(alongAxis: 2, start: row, end: row + 1).slice(alongAxis: 3, start: column, end: column + 1)
                    let probabilities = (scores.reshape([count, config.levels]) / temperature).softmax(alongAxis: 1)
                    let levels = Tensor.categorical(probabilities: probabilities, generator: &generator).scalars
                    for (index, level) in levels.enumerated() {
                        images.storage.pointer[index * h * w + row * w + column] = level / Float(config.levels - 1)
                    }
                }
            }
        }
        return images
    }
}
