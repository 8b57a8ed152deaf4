import Foundation
import TesseraData
import TesseraNN
import TesseraTensor

// The reference models of `shared/bench/mlp.py` and `shared/bench/cnn.py`, timed per step like the
// peer scripts: forward + backward (`*-fwdbwd`) or forward + backward + Adam (`*-step`).

/// 64→256→256→10 with ReLU, on the first 128 digits scaled to [0, 1] (as the peer script).
func referenceMLP() -> (model: any Layer, inputs: Tensor, labels: Tensor) {
    var generator = RandomGenerator(seed: 0)
    let model = MLP(sizes: [64, 256, 256, 10], activation: .relu, generator: &generator)
    let digits = (try? Digits.load(layout: .flat)) ?? TensorDataset(inputs: .zeros([128, 64]), labels: .zeros([128]))
    let batch = digits.batch(at: Array(0..<128))
    return (model, batch.inputs, batch.labels)
}

/// conv3×3(1→32)+ReLU+maxpool2, conv3×3(32→64)+ReLU+maxpool2, fc 3136→128+ReLU, fc 128→10;
/// batch 64 of N(0, 1) images with random labels.
final class ReferenceCNN: Layer {
    let first: Conv2d, second: Conv2d, hidden: Linear, output: Linear

    init(generator: inout RandomGenerator) {
        first = Conv2d(1, 32, kernelSize: 3, padding: 1, generator: &generator)
        second = Conv2d(32, 64, kernelSize: 3, padding: 1, generator: &generator)
        hidden = Linear(64 * 7 * 7, 128, generator: &generator)
        output = Linear(128, 10, generator: &generator)
    }

    func callAsFunction(_ input: Tensor) -> Tensor {
        var x = first(input).relu().maxPool2d(kernelSize: 2)
        x = second(x).relu().maxPool2d(kernelSize: 2)
        return output(hidden(x.flattened(startAxis: 1)).relu())
    }
}

func referenceCNN() -> (model: any Layer, inputs: Tensor, labels: Tensor) {
    var generator = RandomGenerator(seed: 0)
    let model = ReferenceCNN(generator: &generator)
    let inputs = Tensor.randomNormal([64, 1, 28, 28], generator: &generator)
    let labels = Tensor(shape: [64]) { _ in Float(generator.nextInt(below: 10)) }
    return (model, inputs, labels)
}

/// Times one training step of `model` and prints a record named `name`.
func modelStepBenchmark(_ name: String, json: Bool, withOptimizer: Bool,
                        build: () -> (model: any Layer, inputs: Tensor, labels: Tensor)) {
    let (model, inputs, labels) = build()
    let optimizer = Adam(parameters: model.namedParameters(), learningRate: 1e-3)
    var lastLoss: Float = 0
    let timing = Timing.measure(warmup: 20, minimumIterations: 50, minimumSeconds: 3) {
        lastLoss = trainingStep(optimizer, step: withOptimizer) { crossEntropy(logits: model(inputs), targets: labels) }
    }
    var record = BenchmarkRecord(name, [("batch", inputs.shape[0]), ("input_shape", Array(inputs.shape.dropFirst())),
                                        ("threads", 1)])
    record.add(timing)
    record.fields += [("samples_per_s", rounded(Double(inputs.shape[0]) / timing.medianMilliseconds * 1e3, digits: 1)),
                      ("final_loss", rounded(Double(lastLoss))), ("blas_core", BLAS.coreName)]
    record.emit(json: json)
}
