// Convolutions with PyTorch's semantics (NCHW images, OIHW weights), built on three primitives
// that are each other's gradients, so gradients of every order come from the same three kernels:
//
//   convolution(X, W)           → Y     backward: dX = transposed(G, W),      dW = weightGradient(X, G)
//   transposed(Y, W)            → X     backward: dY = convolution(G, W),     dW = weightGradient(G, Y)
//   weightGradient(X, Y)        → W     backward: dX = transposed(Y, G),      dY = convolution(X, G)
//
// (All three are the same bilinear form ⟨conv(X, W), Y⟩ differentiated in different arguments.)

/// A spatial setting given once for both axes (`stride: 2`) or per axis (`stride: [2, 1]`,
/// `IntOrPair(2, 1)`), as mlx-swift's `IntOrPair`.
public struct IntOrPair: Equatable, Sendable, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral,
                         CustomStringConvertible {
    public var height: Int
    public var width: Int

    public init(_ height: Int, _ width: Int) {
        self.height = height
        self.width = width
    }

    public init(_ both: Int) { self.init(both, both) }
    public init(_ pair: (Int, Int)) { self.init(pair.0, pair.1) }
    public init(integerLiteral value: Int) { self.init(value) }

    public init(arrayLiteral elements: Int...) {
        precondition(elements.count == 2, "Tessera IntOrPair: needs two values [height, width], got \(elements)")
        self.init(elements[0], elements[1])
    }

    public var description: String { height == width ? "\(height)" : "(\(height), \(width))" }
}

extension Tensor {
    /// 2-D cross-correlation (PyTorch's `conv2d`): input `[N, C, H, W]`, weight
    /// `[O, C / groups, kh, kw]`, optional bias `[O]`, output `[N, O, Ho, Wo]` with
    /// `Ho = (H + 2·padding − dilation·(kh − 1) − 1) / stride + 1`.
    ///
    /// ```swift
    /// let y = images.conv2d(weight: kernels, bias: offsets, padding: 1)   // 3×3 "same" convolution
    /// ```
    public func conv2d(weight: Tensor, bias: Tensor? = nil, stride: IntOrPair = 1, padding: IntOrPair = 0,
                       dilation: IntOrPair = 1, groups: Int = 1) -> Tensor {
        let geometry = ConvolutionGeometry(convolving: shape, weight: weight.shape, bias: bias?.shape, stride: stride,
                                           padding: padding, dilation: dilation, groups: groups, op: "conv2d")
        return Tensor.convolution(self, weight, bias, geometry)
    }

    /// 1-D cross-correlation: input `[N, C, L]`, weight `[O, C / groups, k]`; a `conv2d` of height 1.
    public func conv1d(weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
                       dilation: Int = 1, groups: Int = 1) -> Tensor {
        check(rank == 3 && weight.rank == 3, "conv1d",
              "needs input [N, C, L] and weight [O, C/groups, k], got shapes \(shape) and \(weight.shape)")
        let geometry = ConvolutionGeometry(
            convolving: [shape[0], shape[1], 1, shape[2]], weight: [weight.shape[0], weight.shape[1], 1, weight.shape[2]],
            bias: bias?.shape, stride: IntOrPair(1, stride), padding: IntOrPair(0, padding),
            dilation: IntOrPair(1, dilation), groups: groups, op: "conv1d")
        return Tensor.convolution(unsqueezed(axis: 2), weight.unsqueezed(axis: 2), bias, geometry).squeezed(axis: 2)
    }

    /// The transposed convolution (PyTorch's `conv_transpose2d`), the adjoint of `conv2d` in its
    /// input: input `[N, C_in, H, W]`, weight `[C_in, C_out / groups, kh, kw]`, bias `[C_out]`,
    /// output height `(H − 1)·stride − 2·padding + dilation·(kh − 1) + outputPadding + 1`.
    /// `outputPadding` (less than the stride or the dilation) picks among the input sizes that a
    /// strided `conv2d` maps to the same output size.
    public func convTranspose2d(weight: Tensor, bias: Tensor? = nil, stride: IntOrPair = 1, padding: IntOrPair = 0,
                                outputPadding: IntOrPair = 0, dilation: IntOrPair = 1, groups: Int = 1) -> Tensor {
        let geometry = ConvolutionGeometry(transposing: shape, weight: weight.shape, bias: bias?.shape, stride: stride,
                                           padding: padding, outputPadding: outputPadding, dilation: dilation,
                                           groups: groups, op: "convTranspose2d")
        return Tensor.transposedConvolution(self, weight, bias, geometry)
    }

    /// 1-D transposed convolution: input `[N, C_in, L]`, weight `[C_in, C_out / groups, k]`.
    public func convTranspose1d(weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
                                outputPadding: Int = 0, dilation: Int = 1, groups: Int = 1) -> Tensor {
        check(rank == 3 && weight.rank == 3, "convTranspose1d",
              "needs input [N, C_in, L] and weight [C_in, C_out/groups, k], got shapes \(shape) and \(weight.shape)")
        let geometry = ConvolutionGeometry(
            transposing: [shape[0], shape[1], 1, shape[2]], weight: [weight.shape[0], weight.shape[1], 1, weight.shape[2]],
            bias: bias?.shape, stride: IntOrPair(1, stride), padding: IntOrPair(0, padding),
            outputPadding: IntOrPair(0, outputPadding), dilation: IntOrPair(1, dilation), groups: groups,
            op: "convTranspose1d")
        return Tensor.transposedConvolution(unsqueezed(axis: 2), weight.unsqueezed(axis: 2), bias, geometry)
            .squeezed(axis: 2)
    }

    // MARK: - The three primitives

    /// `conv2d` for a checked geometry.
    static func convolution(_ input: Tensor, _ weight: Tensor, _ bias: Tensor?, _ geometry: ConvolutionGeometry) -> Tensor {
        let output = convolutionForwardKernel(input: input, weight: weight, bias: bias, geometry)
        return output.recorded("conv2d", inputs: [input, weight] + (bias.map { [$0] } ?? [])) { g in
            [input.requiresGrad ? transposedConvolution(g, weight, nil, geometry) : nil,
             weight.requiresGrad ? weightGradient(input, g, geometry) : nil]
                + (bias.map { [$0.requiresGrad ? g.sum(alongAxes: [0, 2, 3]) : nil] } ?? [])
        }
    }

    /// The transposed convolution of `input` (shaped like the geometry's output) for a checked
    /// geometry; the result is shaped like the geometry's input.
    static func transposedConvolution(_ input: Tensor, _ weight: Tensor, _ bias: Tensor?,
                                      _ geometry: ConvolutionGeometry) -> Tensor {
        let output = convolutionTransposeKernel(outputGradient: input, weight: weight, bias: bias, geometry)
        return output.recorded("convTranspose2d", inputs: [input, weight] + (bias.map { [$0] } ?? [])) { g in
            [input.requiresGrad ? convolution(g, weight, nil, geometry) : nil,
             weight.requiresGrad ? weightGradient(g, input, geometry) : nil]
                + (bias.map { [$0.requiresGrad ? g.sum(alongAxes: [0, 2, 3]) : nil] } ?? [])
        }
    }

    /// The gradient of `conv2d`'s weight given its input and the gradient of its output.
    static func weightGradient(_ input: Tensor, _ outputGradient: Tensor, _ geometry: ConvolutionGeometry) -> Tensor {
        let output = convolutionWeightGradientKernel(input: input, outputGradient: outputGradient, geometry)
        return output.recorded("conv2dWeightGradient", inputs: [input, outputGradient]) { g in
            [input.requiresGrad ? transposedConvolution(outputGradient, g, nil, geometry) : nil,
             outputGradient.requiresGrad ? convolution(input, g, nil, geometry) : nil]
        }
    }

    /// The weight gradient of `conv2d(weight:…)` for `input` when its output receives
    /// `outputGradient` (differentiable, so usable in higher-order gradients).
    static func conv2dWeightGradient(input: Tensor, outputGradient: Tensor, weightShape: [Int], stride: IntOrPair = 1,
                                     padding: IntOrPair = 0, dilation: IntOrPair = 1, groups: Int = 1) -> Tensor {
        let geometry = ConvolutionGeometry(convolving: input.shape, weight: weightShape, bias: nil, stride: stride,
                                           padding: padding, dilation: dilation, groups: groups,
                                           op: "conv2dWeightGradient")
        check(outputGradient.shape == geometry.outputShape, "conv2dWeightGradient",
              "output gradient of shape \(outputGradient.shape) should be \(geometry.outputShape)")
        return weightGradient(input, outputGradient, geometry)
    }
}

// MARK: - Checked geometry

extension ConvolutionGeometry {
    /// The geometry of `conv2d` of an input of shape `input` with a weight of shape `weight`.
    init(convolving input: [Int], weight: [Int], bias: [Int]?, stride: IntOrPair, padding: IntOrPair,
         dilation: IntOrPair, groups: Int, op: String) {
        check(input.count == 4, op, "needs an input [N, C, H, W], got shape \(input)")
        check(weight.count == 4, op, "needs a weight [O, C/groups, kh, kw], got shape \(weight)")
        Self.checkSettings(stride: stride, padding: padding, dilation: dilation, groups: groups, op: op)
        let (channels, outputChannels) = (input[1], weight[0])
        check(channels % groups == 0, op, "input channels \(channels) (input shape \(input)) are not divisible by groups \(groups)")
        check(outputChannels % groups == 0, op, "output channels \(outputChannels) (weight shape \(weight)) are not divisible by groups \(groups)")
        check(weight[1] * groups == channels, op,
              "input of shape \(input) has \(channels) channels but weight of shape \(weight) with groups \(groups) expects \(weight[1] * groups)")
        Self.checkBias(bias, channels: outputChannels, op: op)
        let size = { (extent: Int, kernel: Int, stride: Int, padding: Int, dilation: Int, axis: String) -> Int in
            let span = dilation * (kernel - 1) + 1
            check(span <= extent + 2 * padding, op,
                  "kernel \(weight[2])×\(weight[3]) (dilated \(axis) extent \(span)) is larger than the padded input \(axis) \(extent + 2 * padding) of input shape \(input)")
            return (extent + 2 * padding - span) / stride + 1
        }
        self.init(batch: input[0], inputChannels: channels, inputHeight: input[2], inputWidth: input[3],
                  outputChannels: outputChannels,
                  outputHeight: size(input[2], weight[2], stride.height, padding.height, dilation.height, "height"),
                  outputWidth: size(input[3], weight[3], stride.width, padding.width, dilation.width, "width"),
                  kernelHeight: weight[2], kernelWidth: weight[3], stride: stride, padding: padding,
                  dilation: dilation, groups: groups)
    }

    /// The geometry of the `conv2d` whose input gradient `convTranspose2d(input, weight)` is.
    init(transposing input: [Int], weight: [Int], bias: [Int]?, stride: IntOrPair, padding: IntOrPair,
         outputPadding: IntOrPair, dilation: IntOrPair, groups: Int, op: String) {
        check(input.count == 4, op, "needs an input [N, C_in, H, W], got shape \(input)")
        check(weight.count == 4, op, "needs a weight [C_in, C_out/groups, kh, kw], got shape \(weight)")
        Self.checkSettings(stride: stride, padding: padding, dilation: dilation, groups: groups, op: op)
        check(outputPadding.height >= 0 && outputPadding.width >= 0
              && outputPadding.height < Swift.max(stride.height, dilation.height)
              && outputPadding.width < Swift.max(stride.width, dilation.width), op,
              "output padding \(outputPadding) must be non-negative and smaller than the stride \(stride) or the dilation \(dilation)")
        let channels = input[1]
        check(channels % groups == 0, op, "input channels \(channels) (input shape \(input)) are not divisible by groups \(groups)")
        check(weight[0] == channels, op,
              "input of shape \(input) has \(channels) channels but weight of shape \(weight) expects \(weight[0])")
        let outputChannels = weight[1] * groups
        Self.checkBias(bias, channels: outputChannels, op: op)
        let size = { (extent: Int, kernel: Int, stride: Int, padding: Int, dilation: Int, extra: Int) -> Int in
            (extent - 1) * stride - 2 * padding + dilation * (kernel - 1) + extra + 1
        }
        let height = size(input[2], weight[2], stride.height, padding.height, dilation.height, outputPadding.height)
        let width = size(input[3], weight[3], stride.width, padding.width, dilation.width, outputPadding.width)
        check(height > 0 && width > 0, op, "input of shape \(input) with weight \(weight) gives an empty output \(height)×\(width)")
        self.init(batch: input[0], inputChannels: outputChannels, inputHeight: height, inputWidth: width,
                  outputChannels: channels, outputHeight: input[2], outputWidth: input[3],
                  kernelHeight: weight[2], kernelWidth: weight[3], stride: stride, padding: padding,
                  dilation: dilation, groups: groups)
    }

    private static func checkSettings(stride: IntOrPair, padding: IntOrPair, dilation: IntOrPair, groups: Int, op: String) {
        check(stride.height > 0 && stride.width > 0, op, "stride must be positive, got \(stride)")
        check(dilation.height > 0 && dilation.width > 0, op, "dilation must be positive, got \(dilation)")
        check(padding.height >= 0 && padding.width >= 0, op, "padding must be non-negative, got \(padding)")
        check(groups > 0, op, "groups must be positive, got \(groups)")
    }

    private static func checkBias(_ bias: [Int]?, channels: Int, op: String) {
        guard let bias else { return }
        check(bias == [channels], op, "bias must have shape [\(channels)], got \(bias)")
    }
}
