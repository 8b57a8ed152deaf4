import TesseraTensor

/// Layer normalization (Ba et al., "Layer Normalization", 2016) over the trailing axes given by
/// `normalizedShape`, with the biased variance and an elementwise affine map, as PyTorch's.
public final class LayerNorm: Layer {
    /// Elementwise scale of `normalizedShape`, initialised to 1.
    public let weight: Tensor?
    /// Elementwise shift of `normalizedShape`, initialised to 0.
    public let bias: Tensor?
    public let normalizedShape: [Int]
    public let epsilon: Float

    public init(_ normalizedShape: [Int], epsilon: Float = 1e-5, elementwiseAffine: Bool = true) {
        self.normalizedShape = normalizedShape
        self.epsilon = epsilon
        weight = elementwiseAffine ? Tensor.ones(normalizedShape).requiringGradient() : nil
        bias = elementwiseAffine ? Tensor.zeros(normalizedShape).requiringGradient() : nil
    }

    public convenience init(_ featureCount: Int, epsilon: Float = 1e-5, elementwiseAffine: Bool = true) {
        self.init([featureCount], epsilon: epsilon, elementwiseAffine: elementwiseAffine)
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        precondition(input.rank >= normalizedShape.count && Array(input.shape.suffix(normalizedShape.count)) == normalizedShape,
                     "LayerNorm: input shape \(input.shape) must end in \(normalizedShape)")
        return input.layerNormalized(featureCount: normalizedShape.reduce(1, *), weight: weight, bias: bias, epsilon: epsilon)
    }
}

/// Group normalization (Wu & He, "Group Normalization", ECCV 2018): the channels of `[N, C, …]`
/// split into `groupCount` groups, each normalized over its channels and spatial positions,
/// followed by a per-channel affine map.
public final class GroupNorm: Layer {
    /// Per-channel scale `[C]`, initialised to 1.
    public let weight: Tensor?
    /// Per-channel shift `[C]`, initialised to 0.
    public let bias: Tensor?
    public let groupCount: Int
    public let channelCount: Int
    public let epsilon: Float

    public init(groupCount: Int, channelCount: Int, epsilon: Float = 1e-5, affine: Bool = true) {
        precondition(groupCount > 0 && channelCount % groupCount == 0,
                     "GroupNorm: \(channelCount) channels do not split into \(groupCount) groups")
        self.groupCount = groupCount
        self.channelCount = channelCount
        self.epsilon = epsilon
        weight = affine ? Tensor.ones([channelCount]).requiringGradient() : nil
        bias = affine ? Tensor.zeros([channelCount]).requiringGradient() : nil
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        precondition(input.rank >= 2 && input.shape[1] == channelCount,
                     "GroupNorm: input shape \(input.shape) must be [N, \(channelCount), …]")
        let grouped = input.reshape([input.shape[0], groupCount, -1])
        var output = grouped.layerNormalized(featureCount: grouped.shape[2], weight: nil, bias: nil, epsilon: epsilon)
            .reshape(input.shape)
        let channelShape = [channelCount] + [Int](repeating: 1, count: input.rank - 2)
        if let weight { output = output * weight.reshape(channelShape) }
        if let bias { output = output + bias.reshape(channelShape) }
        return output
    }
}
