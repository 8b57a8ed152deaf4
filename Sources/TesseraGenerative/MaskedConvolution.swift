import TesseraNN
import TesseraTensor

/// A 2-D convolution whose kernel is multiplied by a fixed 0/1 mask, so that an output pixel only
/// sees the input pixels the mask lets through: the building block of PixelCNN (van den Oord,
/// Kalchbrenner & Kavukcuoglu, "Pixel Recurrent Neural Networks", ICML 2016, §3.4) and of the gated
/// PixelCNN's two stacks (van den Oord et al., "Conditional Image Generation with PixelCNN
/// Decoders", NeurIPS 2016, §2.2). Padding keeps the height and width.
public final class MaskedConv2d: Layer {
    /// `[out, in, kh, kw]`; the masked entries receive zero gradient, so they never matter.
    public let weight: Tensor
    public let bias: Tensor
    /// `[1, 1, kh, kw]`, 1 where the kernel is used.
    public let mask: Buffer
    public let padding: IntOrPair

    /// `mask` is row-major `kernelSize.height × kernelSize.width` (odd extents, centred).
    public init(_ inputChannels: Int, _ outputChannels: Int, kernelSize: IntOrPair, mask: [Float],
                generator: inout RandomGenerator) throws {
        guard kernelSize.height % 2 == 1, kernelSize.width % 2 == 1 else {
            throw GenerativeError("MaskedConv2d: kernel extents must be odd so the kernel has a centre, got \(kernelSize)")
        }
        guard mask.count == kernelSize.height * kernelSize.width else {
            throw GenerativeError("MaskedConv2d: expected a mask of \(kernelSize.height * kernelSize.width) entries, got \(mask.count)")
        }
        let conv = Conv2d(inputChannels, outputChannels, kernelSize: kernelSize, generator: &generator)
        weight = conv.weight
        bias = conv.bias!
        self.mask = Buffer(Tensor(shape: [1, 1, kernelSize.height, kernelSize.width], scalars: mask))
        padding = IntOrPair(kernelSize.height / 2, kernelSize.width / 2)
    }

    /// PixelCNN's `k × k` mask: the rows above the centre and the pixels left of it in its row;
    /// type A (the first layer) also hides the centre, type B (later layers) keeps it.
    public static func pixelCNNMask(kernelSize k: Int, type: PixelCNNMaskType) -> [Float] {
        (0..<(k * k)).map { flat in
            let (row, column, centre) = (flat / k, flat % k, k / 2)
            if row < centre { return 1 }
            if row > centre { return 0 }
            return column < centre || (column == centre && type == .b) ? 1 : 0
        }
    }

    /// The gated PixelCNN's vertical stack, `k × k`: the rows above and the centre row (all of it);
    /// the first layer hides the centre row too, so the stack only ever sees rows above.
    public static func verticalMask(kernelSize k: Int, hideCentre: Bool) -> [Float] {
        (0..<(k * k)).map { flat in
            let row = flat / k
            return row < k / 2 || (row == k / 2 && !hideCentre) ? 1 : 0
        }
    }

    /// The gated PixelCNN's horizontal stack, `1 × k`: the pixels left of the centre, and the
    /// centre itself after the first layer.
    public static func horizontalMask(kernelSize k: Int, hideCentre: Bool) -> [Float] {
        (0..<k).map { column in column < k / 2 || (column == k / 2 && !hideCentre) ? 1 : 0 }
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.conv2d(weight: weight * mask.value, bias: bias, padding: padding)
    }
}

/// PixelCNN's two masks (van den Oord et al. 2016, §3.4).
public enum PixelCNNMaskType: String, Codable, Sendable {
    /// The first layer: the centre pixel is hidden (it is the one being predicted).
    case a
    /// Every later layer: the centre is kept (it holds features of pixels before it).
    case b
}
