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
