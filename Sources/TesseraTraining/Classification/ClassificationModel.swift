import TesseraNN
import TesseraTensor

/// A convolutional classifier: blocks of (3×3 convolution, optional batch norm, activation,
/// 2×2 max pool), then a hidden fully connected layer and the class logits — the reference CNN of
/// the benchmarks when built with `channels: [32, 64]` on 28×28 inputs.
public final class ConvolutionalClassifier: Layer {
    public let convolutions: [Conv2d]
    public let normalizations: [BatchNorm2d]
    public let hidden: Linear
    public let output: Linear
    public let dropout: Dropout?
    public let activation: Activation

    public init(inputShape: [Int], channels: [Int], headSize: Int, classCount: Int, activation: Activation,
                batchNorm: Bool, dropout: Float, generator: inout RandomGenerator) throws {
        guard inputShape.count == 3 else {
            throw TrainingError("model.kind cnn needs image inputs [channels, height, width], the data has shape \(inputShape) (set data.layout: image)")
        }
        var (inputChannels, height, width) = (inputShape[0], inputShape[1], inputShape[2])
        var convolutions: [Conv2d] = [], normalizations: [BatchNorm2d] = []
        for outputChannels in channels {
            guard height >= 2 && width >= 2 else {
                throw TrainingError("model.channels: \(channels.count) pooling blocks shrink the \(inputShape[1])×\(inputShape[2]) input below 1×1; use fewer blocks")
            }
            convolutions.append(Conv2d(inputChannels, outputChannels, kernelSize: 3, padding: 1, generator: &generator))
            if batchNorm { normalizations.append(BatchNorm2d(featureCount: outputChannels)) }
            (inputChannels, height, width) = (outputChannels, height / 2, width / 2)
        }
        self.convolutions = convolutions
        self.normalizations = normalizations
        hidden = Linear(inputChannels * height * width, headSize, generator: &generator)
        output = Linear(headSize, classCount, generator: &generator)
        self.dropout = dropout > 0 ? Dropout(probability: dropout) : nil
        self.activation = activation
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        var x = input
        for (index, convolution) in convolutions.enumerated() {
            x = convolution(x)
            if !normalizations.isEmpty { x = normalizations[index](x) }
            x = activation(x).maxPool2d(kernelSize: 2)
        }
        x = activation(hidden(x.flattened(startAxis: 1)))
        if let dropout { x = dropout(x) }
        return output(x)
    }
}

/// Builds the network a recipe's `model` section describes.
public func makeClassifier(_ section: ModelSection, inputShape: [Int], classCount: Int,
                           generator: inout RandomGenerator) throws -> any Layer {
    switch section.kind {
    case .mlp:
        let inputSize = inputShape.reduce(1, *)
        let mlp = MLP(sizes: [inputSize] + section.hiddenSizes + [classCount], activation: section.activation,
                      dropout: section.dropout, generator: &generator)
        return inputShape.count == 1 ? mlp : Sequential(Flatten(), mlp)
    case .cnn:
        return try ConvolutionalClassifier(inputShape: inputShape, channels: section.channels, headSize: section.headSize,
                                           classCount: classCount, activation: section.activation, batchNorm: section.batchNorm,
                                           dropout: section.dropout, generator: &generator)
    }
}

