import TesseraTensor

/// The pre-activation residual block of He et al., "Identity Mappings in Deep Residual Networks"
/// (ECCV 2016): `x + conv(relu(bn(conv(relu(bn(x))))))`, two 3×3 convolutions with batch norm
/// and ReLU *before* each, so the skip path stays an identity.
///
/// When the block changes the channel count or strides, the shortcut is a 1×1 convolution of the
/// pre-activated input, as in the paper.
public final class PreActivationBlock: Layer {
    public let norm1: BatchNorm
    public let conv1: Conv2d
    public let norm2: BatchNorm
    public let conv2: Conv2d
    /// A 1×1 projection when the shape changes; `nil` for an identity shortcut.
    public let shortcut: Conv2d?

    public init(inputChannels: Int, outputChannels: Int, stride: Int = 1, generator: inout RandomGenerator) {
        norm1 = BatchNorm(featureCount: inputChannels)
        conv1 = Conv2d(inputChannels, outputChannels, kernelSize: 3, stride: IntOrPair(stride), padding: 1,
                       bias: false, generator: &generator)
        norm2 = BatchNorm(featureCount: outputChannels)
        conv2 = Conv2d(outputChannels, outputChannels, kernelSize: 3, padding: 1, bias: false, generator: &generator)
        shortcut = stride != 1 || inputChannels != outputChannels
            ? Conv2d(inputChannels, outputChannels, kernelSize: 1, stride: IntOrPair(stride), bias: false, generator: &generator)
            : nil
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        let activated = norm1(input).relu()
        let skip = shortcut.map { $0(activated) } ?? input
        return conv2(norm2(conv1(activated)).relu()) + skip
    }
}
