import TesseraExplain
import TesseraNN
import TesseraTensor

/// Layers with the weights zennit's fixture used (`prefix/0.weight`, … as PyTorch's state dict).
func linear(_ fixture: Fixture, _ prefix: String) throws -> Linear {
    Linear(weight: try fixture.tensor("\(prefix).weight"), bias: try fixture.tensor("\(prefix).bias"))
}

func convolution(_ fixture: Fixture, _ prefix: String, padding: IntOrPair = 1) throws -> Conv2d {
    let weight = try fixture.tensor("\(prefix).weight")
    var generator = RandomGenerator(seed: 0)
    let layer = Conv2d(weight.shape[1], weight.shape[0], kernelSize: IntOrPair(weight.shape[2], weight.shape[3]),
                       padding: padding, generator: &generator)
    layer.weight.assign(weight)
    layer.bias!.assign(try fixture.tensor("\(prefix).bias"))
    return layer
}

func batchNorm(_ fixture: Fixture, _ prefix: String) throws -> BatchNorm {
    let weight = try fixture.tensor("\(prefix).weight")
    let norm = BatchNorm(featureCount: weight.count)
    norm.weight!.assign(weight)
    norm.bias!.assign(try fixture.tensor("\(prefix).bias"))
    norm.runningMean.value.assign(try fixture.tensor("\(prefix).running_mean"))
    norm.runningVariance.value.assign(try fixture.tensor("\(prefix).running_var"))
    return norm
}

/// A small ReLU MLP with random weights.
func randomMLP(_ sizes: [Int], bias: Bool = true, seed: UInt64 = 7) -> Sequential {
    var generator = RandomGenerator(seed: seed)
    var layers: [any Layer] = []
    for (index, (input, output)) in zip(sizes, sizes.dropFirst()).enumerated() {
        layers.append(Linear(input, output, bias: bias, generator: &generator))
        if index < sizes.count - 2 { layers.append(ReLU()) }
    }
    return Sequential(layers: layers)
}

func randomInput(_ shape: [Int], low: Float = 0, high: Float = 1, seed: UInt64 = 11) -> Tensor {
    var generator = RandomGenerator(seed: seed)
    return Tensor.randomUniform(shape, low: low, high: high, generator: &generator)
}

/// The sum of each row of a `[N, …]` tensor.
func rowSums(_ tensor: Tensor) -> [Float] {
    tensor.reshape([tensor.shape[0], -1]).sum(alongAxes: [1]).scalars
}

/// A model shaped like TesseraTraining's `ConvolutionalClassifier` (arrays of layers, the pooling
/// and the activation applied in `callAsFunction`), made explainable the way the trainer glue
/// would: by listing its forward pass.
final class DigitsLikeClassifier: ExplainableModel {
    let convolutions: [Conv2d]
    let normalizations: [BatchNorm]
    let hidden: Linear
    let output: Linear
    let activation = Activation.relu

    init(generator: inout RandomGenerator) {
        convolutions = [Conv2d(1, 4, kernelSize: 3, padding: 1, generator: &generator),
                        Conv2d(4, 6, kernelSize: 3, padding: 1, generator: &generator)]
        normalizations = [BatchNorm(featureCount: 4), BatchNorm(featureCount: 6)]
        hidden = Linear(6 * 2 * 2, 16, generator: &generator)
        output = Linear(16, 10, generator: &generator)
    }

    func callAsFunction(_ input: Tensor) -> Tensor {
        var x = input
        for (convolution, normalization) in zip(convolutions, normalizations) {
            x = activation(normalization(convolution(x))).maxPool2d(kernelSize: 2)
        }
        return output(activation(hidden(x.flattened(startAxis: 1))))
    }

    func explainableLayers() throws -> [ExplainableLayer] {
        var steps: [ExplainableLayer] = []
        for index in convolutions.indices {
            steps += [ExplainableLayer(name: "convolutions.\(index)", layer: convolutions[index]),
                      ExplainableLayer(name: "normalizations.\(index)", layer: normalizations[index]),
                      ExplainableLayer(name: "activation.\(index)", layer: activation.layer),
                      ExplainableLayer(name: "pool.\(index)", layer: MaxPool2d(kernelSize: 2))]
        }
        return steps + [ExplainableLayer(name: "flatten", layer: Flatten()), ExplainableLayer(name: "hidden", layer: hidden),
                        ExplainableLayer(name: "activation.hidden", layer: activation.layer),
                        ExplainableLayer(name: "output", layer: output)]
    }
}
