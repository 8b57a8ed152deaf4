import Foundation
import TesseraNN
import TesseraTensor

/// The noise-prediction network `ε_θ(x_t, t)` of a diffusion model at small scale: the U-Net of
/// Ho et al. ("Denoising Diffusion Probabilistic Models", NeurIPS 2020, Appendix B — a PixelCNN++
/// backbone of wide residual blocks with group normalisation, the timestep given by the
/// Transformer's sinusoidal embedding and added to every block) for 8 × 8 images, without the
/// self-attention blocks (at 8 × 8 and 4 × 4 a 3 × 3 kernel already spans most of the image).
///
/// Each level holds one residual block and halves the resolution by a stride-2 convolution; the
/// upward path concatenates the downward path's features at the same resolution (the skip
/// connections) and upsamples by nearest neighbour followed by a convolution. A label embedding
/// added to the time embedding makes it class-conditional.
///
/// ```swift
/// let unet = try DiffusionUNet(config: DiffusionUNetConfig(), generator: &rng)
/// let predicted = try unet(noisy, timesteps: Tensor([999, 12]))   // [2, 1, 8, 8]
/// ```
public struct DiffusionUNetConfig: Equatable, Sendable {
    /// Channels of the images (1 for the grey digits).
    public var imageChannels: Int = 1
    /// Channels of the first level; level `i` has `baseChannels · channelMultipliers[i]`.
    public var baseChannels: Int = 32
    /// One entry per resolution: `[1, 2]` is 8 × 8 then 4 × 4 (one downsampling).
    public var channelMultipliers: [Int] = [1, 2]
    /// Groups of every group normalisation (each level's channels must divide by it).
    public var groups: Int = 8
    /// Classes of the label embedding; 0 for an unconditional network.
    public var classes: Int = 0

    public init() {}
}

/// The sinusoidal embedding of (possibly fractional) timesteps `[batch]` into `dimensions`
/// features, `[batch, dimensions]`: `sin(t ωᵢ)` then `cos(t ωᵢ)` with `ωᵢ = 10000^(−i / (half − 1))`
/// (Vaswani et al. 2017, §3.5, as Ho et al.'s code writes it).
public func sinusoidalTimeEmbedding(_ timesteps: Tensor, dimensions: Int) throws -> Tensor {
    guard timesteps.rank == 1, dimensions >= 4, dimensions % 2 == 0 else {
        throw GenerativeError("sinusoidalTimeEmbedding: expected timesteps [batch] and an even dimension of at least 4, got \(timesteps.shape) and \(dimensions)")
    }
    let half = dimensions / 2
    let frequencies = Tensor((0..<half).map { Float(exp(-log(10_000.0) * Double($0) / Double(half - 1))) })
    let angles = timesteps.unsqueezed(axis: 1) * frequencies.unsqueezed(axis: 0)
    return Tensor.concatenate([angles.sin(), angles.cos()], alongAxis: 1)
}

/// A residual block conditioned on an embedding: `GroupNorm → SiLU → conv`, plus a per-channel
/// shift from the embedding, then `GroupNorm → SiLU → conv`, added to the input (through a 1 × 1
/// convolution when the channel count changes).
public final class DiffusionResidualBlock: Module {
    public let firstNorm: GroupNorm
    public let firstConvolution: Conv2d
    public let embeddingProjection: Linear
    public let secondNorm: GroupNorm
    public let secondConvolution: Conv2d
    public let shortcut: Conv2d?

    public init(inputChannels: Int, outputChannels: Int, embeddingDimensions: Int, groups: Int, generator: inout RandomGenerator) {
        firstNorm = GroupNorm(groupCount: groups, channelCount: inputChannels)
        firstConvolution = Conv2d(inputChannels, outputChannels, kernelSize: 3, padding: 1, generator: &generator)
        embeddingProjection = Linear(embeddingDimensions, outputChannels, generator: &generator)
        secondNorm = GroupNorm(groupCount: groups, channelCount: outputChannels)
        secondConvolution = Conv2d(outputChannels, outputChannels, kernelSize: 3, padding: 1, generator: &generator)
        shortcut = inputChannels == outputChannels ? nil : Conv2d(inputChannels, outputChannels, kernelSize: 1, generator: &generator)
    }

    public func callAsFunction(_ input: Tensor, embedding: Tensor) -> Tensor {
        var hidden = firstConvolution(firstNorm(input).silu())
        hidden = hidden + embeddingProjection(embedding.silu()).unsqueezed(axis: 2).unsqueezed(axis: 3)
        hidden = secondConvolution(secondNorm(hidden).silu())
        return (shortcut.map { $0(input) } ?? input) + hidden
    }
}

public final class DiffusionUNet: Module {
    public let config: DiffusionUNetConfig
    /// The time embedding's MLP: sinusoid `[baseChannels]` → `4 · baseChannels` → `4 · baseChannels`.
    public let timeHidden: Linear
    public let timeOutput: Linear
    /// Class-conditional only: one `4 · baseChannels` vector per class, added to the time embedding.
    public let labelEmbedding: Embedding?
    public let inputConvolution: Conv2d
    /// One block per level on the way down.
    public let downBlocks: [DiffusionResidualBlock]
    /// Stride-2 convolutions between levels.
    public let downsamplers: [Conv2d]
    public let middleBlock: DiffusionResidualBlock
    /// One block per level on the way up (deepest first), each seeing the skip features too.
    public let upBlocks: [DiffusionResidualBlock]
    /// Convolutions after each nearest-neighbour upsampling.
    public let upsamplers: [Conv2d]
    public let outputNorm: GroupNorm
    public let outputConvolution: Conv2d

    public var embeddingDimensions: Int { 4 * config.baseChannels }

    public init(config: DiffusionUNetConfig, generator: inout RandomGenerator) throws {
        guard config.imageChannels > 0, config.baseChannels >= 2, config.baseChannels % 2 == 0 else {
            throw GenerativeError("DiffusionUNet: imageChannels must be positive and baseChannels even and at least 2, got \(config.imageChannels) and \(config.baseChannels)")
        }
        guard !config.channelMultipliers.isEmpty, config.channelMultipliers.allSatisfy({ $0 > 0 }) else {
            throw GenerativeError("DiffusionUNet: channelMultipliers must be one or more positive numbers, got \(config.channelMultipliers)")
        }
        let widths = config.channelMultipliers.map { $0 * config.baseChannels }
        guard config.groups > 0, widths.allSatisfy({ $0 % config.groups == 0 }) else {
            throw GenerativeError("DiffusionUNet: every level's channels \(widths) must divide into groups = \(config.groups)")
        }
        guard config.classes >= 0 else { throw GenerativeError("DiffusionUNet: classes must be non-negative, got \(config.classes)") }
        self.config = config
        let embedding = 4 * config.baseChannels, groups = config.groups
        timeHidden = Linear(config.baseChannels, embedding, generator: &generator)
        timeOutput = Linear(embedding, embedding, generator: &generator)
        labelEmbedding = config.classes > 0 ? Embedding(vocabularySize: config.classes, dimensions: embedding, generator: &generator) : nil
        inputConvolution = Conv2d(config.imageChannels, widths[0], kernelSize: 3, padding: 1, generator: &generator)
        var down: [DiffusionResidualBlock] = [], downsamplers: [Conv2d] = []
        var channels = widths[0]
        for (level, width) in widths.enumerated() {
            down.append(DiffusionResidualBlock(inputChannels: channels, outputChannels: width, embeddingDimensions: embedding, groups: groups, generator: &generator))
            channels = width
            if level < widths.count - 1 {
                downsamplers.append(Conv2d(width, width, kernelSize: 3, stride: 2, padding: 1, generator: &generator))
            }
        }
        downBlocks = down
        self.downsamplers = downsamplers
        middleBlock = DiffusionResidualBlock(inputChannels: channels, outputChannels: channels, embeddingDimensions: embedding, groups: groups, generator: &generator)
        var up: [DiffusionResidualBlock] = [], upsamplers: [Conv2d] = []
        for (level, width) in widths.enumerated().reversed() {
            up.append(DiffusionResidualBlock(inputChannels: channels + width, outputChannels: width, embeddingDimensions: embedding, groups: groups, generator: &generator))
            channels = width
            if level > 0 { upsamplers.append(Conv2d(width, widths[level - 1], kernelSize: 3, padding: 1, generator: &generator)) }
            if level > 0 { channels = widths[level - 1] }
        }
        upBlocks = up
        self.upsamplers = upsamplers
        outputNorm = GroupNorm(groupCount: groups, channelCount: widths[0])
        outputConvolution = Conv2d(widths[0], config.imageChannels, kernelSize: 3, padding: 1, generator: &generator)
    }

    /// The embedding every residual block sees, `[batch, 4 · baseChannels]`: the timestep's
    /// sinusoid through the MLP, plus the label's vector for a class-conditional network.
    public func embedding(timesteps: Tensor, labels: [Int]?) throws -> Tensor {
        let sinusoid = try sinusoidalTimeEmbedding(timesteps, dimensions: config.baseChannels)
        var embedding = timeOutput(timeHidden(sinusoid).silu())
        if let labelEmbedding {
            guard let labels, labels.count == timesteps.count else {
                throw GenerativeError("DiffusionUNet: a class-conditional network needs one label per row (\(timesteps.count)), got \(labels.map { "\($0.count)" } ?? "none")")
            }
            if let bad = labels.first(where: { $0 < 0 || $0 >= config.classes }) {
                throw GenerativeError("DiffusionUNet: label \(bad) is out of range 0..<\(config.classes)")
            }
            embedding = embedding + labelEmbedding(Tensor(labels.map(Float.init)))
        } else if labels != nil {
            throw GenerativeError("DiffusionUNet: labels were given to an unconditional network (classes = 0)")
        }
        return embedding
    }

    /// `ε_θ(x_t, t)` for images `[batch, imageChannels, H, W]` (H and W divisible by
    /// `2^(levels − 1)`) and timesteps `[batch]` (fractional ones too: the ODE samplers use them).
    public func callAsFunction(_ images: Tensor, timesteps: Tensor, labels: [Int]? = nil) throws -> Tensor {
        let factor = 1 << (config.channelMultipliers.count - 1)
        guard images.rank == 4, images.shape[1] == config.imageChannels, images.shape[0] > 0,
              images.shape[2] % factor == 0, images.shape[3] % factor == 0 else {
            throw GenerativeError("DiffusionUNet: expected images [batch, \(config.imageChannels), H, W] with H and W divisible by \(factor), got shape \(images.shape)")
        }
        guard timesteps.shape == [images.shape[0]] else {
            throw GenerativeError("DiffusionUNet: expected one timestep per image, [\(images.shape[0])], got shape \(timesteps.shape)")
        }
        let embedding = try embedding(timesteps: timesteps, labels: labels)
        var hidden = inputConvolution(images)
        var skips: [Tensor] = []
        for (level, block) in downBlocks.enumerated() {
            hidden = block(hidden, embedding: embedding)
            skips.append(hidden)
            if level < downsamplers.count { hidden = downsamplers[level](hidden) }
        }
        hidden = middleBlock(hidden, embedding: embedding)
        for (index, block) in upBlocks.enumerated() {
            hidden = block(Tensor.concatenate([hidden, skips.removeLast()], alongAxis: 1), embedding: embedding)
            if index < upsamplers.count { hidden = upsamplers[index](hidden.upsampleNearest2d(scale: 2)) }
        }
        return outputConvolution(outputNorm(hidden).silu())
    }
}
