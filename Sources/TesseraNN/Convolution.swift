import TesseraTensor

/// 2-D convolution (cross-correlation) over `[N, C, H, W]`, weight `[out, in / groups, kh, kw]`
/// as PyTorch's `nn.Conv2d`, with its default initialisation (uniform in `±1/√fanIn`).
///
/// ```swift
/// let conv = Conv2d(3, 16, kernelSize: 3, padding: 1, generator: &rng)   // keeps H and W
/// ```
public final class Conv2d: Layer {
    /// `[outputChannels, inputChannels / groups, kh, kw]`.
    public let weight: Tensor
    /// `[outputChannels]`, or `nil`.
    public let bias: Tensor?
    public let stride: IntOrPair
    public let padding: IntOrPair
    public let dilation: IntOrPair
    public let groups: Int

    public init(_ inputChannels: Int, _ outputChannels: Int, kernelSize: IntOrPair, stride: IntOrPair = 1,
                padding: IntOrPair = 0, dilation: IntOrPair = 1, groups: Int = 1, bias: Bool = true,
                generator: inout RandomGenerator) {
        precondition(groups > 0 && inputChannels % groups == 0 && outputChannels % groups == 0,
                     "Conv2d: \(inputChannels) → \(outputChannels) channels do not split into \(groups) groups")
        let parameters = Initialization.defaultLayerParameters(
            weightShape: [outputChannels, inputChannels / groups, kernelSize.height, kernelSize.width],
            biasCount: bias ? outputChannels : nil, generator: &generator)
        weight = parameters.weight.requiringGradient()
        self.bias = parameters.bias?.requiringGradient()
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.conv2d(weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }
}

/// 1-D convolution over `[N, C, L]`, weight `[out, in / groups, k]` (PyTorch's `nn.Conv1d`).
public final class Conv1d: Layer {
    /// `[outputChannels, inputChannels / groups, kernelSize]`.
    public let weight: Tensor
    /// `[outputChannels]`, or `nil`.
    public let bias: Tensor?
    public let stride: Int
    public let padding: Int
    public let dilation: Int
    public let groups: Int

    public init(_ inputChannels: Int, _ outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                dilation: Int = 1, groups: Int = 1, bias: Bool = true, generator: inout RandomGenerator) {
        precondition(groups > 0 && inputChannels % groups == 0 && outputChannels % groups == 0,
                     "Conv1d: \(inputChannels) → \(outputChannels) channels do not split into \(groups) groups")
        let parameters = Initialization.defaultLayerParameters(
            weightShape: [outputChannels, inputChannels / groups, kernelSize],
            biasCount: bias ? outputChannels : nil, generator: &generator)
        weight = parameters.weight.requiringGradient()
        self.bias = parameters.bias?.requiringGradient()
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.conv1d(weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }
}

/// 2-D transposed convolution (PyTorch's `nn.ConvTranspose2d`): the adjoint of ``Conv2d`` in its
/// input, used to upsample in decoders and GAN generators. Weight `[in, out / groups, kh, kw]`.
public final class ConvTranspose2d: Layer {
    /// `[inputChannels, outputChannels / groups, kh, kw]`.
    public let weight: Tensor
    /// `[outputChannels]`, or `nil`.
    public let bias: Tensor?
    public let stride: IntOrPair
    public let padding: IntOrPair
    public let outputPadding: IntOrPair
    public let dilation: IntOrPair
    public let groups: Int

    /// PyTorch's default initialisation, whose fan-in is taken from the weight's second axis
    /// (`outputChannels / groups · kh · kw`).
    public init(_ inputChannels: Int, _ outputChannels: Int, kernelSize: IntOrPair, stride: IntOrPair = 1,
                padding: IntOrPair = 0, outputPadding: IntOrPair = 0, dilation: IntOrPair = 1, groups: Int = 1,
                bias: Bool = true, generator: inout RandomGenerator) {
        precondition(groups > 0 && inputChannels % groups == 0 && outputChannels % groups == 0,
                     "ConvTranspose2d: \(inputChannels) → \(outputChannels) channels do not split into \(groups) groups")
        let parameters = Initialization.defaultLayerParameters(
            weightShape: [inputChannels, outputChannels / groups, kernelSize.height, kernelSize.width],
            biasCount: bias ? outputChannels : nil, generator: &generator)
        weight = parameters.weight.requiringGradient()
        self.bias = parameters.bias?.requiringGradient()
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
        self.dilation = dilation
        self.groups = groups
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.convTranspose2d(weight: weight, bias: bias, stride: stride, padding: padding,
                              outputPadding: outputPadding, dilation: dilation, groups: groups)
    }
}
