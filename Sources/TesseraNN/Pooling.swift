import TesseraTensor

/// Max pooling over the last two axes as a layer (PyTorch's `nn.MaxPool2d`), so a network that
/// pools can be written as a ``Sequential`` and walked layer by layer (relevance propagation does).
public final class MaxPool2d: Layer {
    public let kernelSize: IntOrPair
    /// Defaults to the kernel size.
    public let stride: IntOrPair?
    public let padding: IntOrPair

    public init(kernelSize: IntOrPair, stride: IntOrPair? = nil, padding: IntOrPair = 0) {
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.maxPool2d(kernelSize: kernelSize, stride: stride, padding: padding)
    }
}

/// Average pooling over the last two axes as a layer (PyTorch's `nn.AvgPool2d`, padding counted
/// in each window's size as its default).
public final class AvgPool2d: Layer {
    public let kernelSize: IntOrPair
    /// Defaults to the kernel size.
    public let stride: IntOrPair?
    public let padding: IntOrPair

    public init(kernelSize: IntOrPair, stride: IntOrPair? = nil, padding: IntOrPair = 0) {
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.avgPool2d(kernelSize: kernelSize, stride: stride, padding: padding)
    }
}
