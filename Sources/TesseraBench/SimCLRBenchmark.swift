import Foundation
import TesseraNN
import TesseraSelfSupervised
import TesseraTensor

/// One SimCLR step (Chen et al. 2020) as issue 14 times it: two views of a batch of 256 digits
/// (closed-form 8×8 images, the augmentations left out: they are the data pipeline's), the digits
/// CNN as encoder (conv 32 → pool → conv 64 → pool → 128), the projection head Linear 128 →
/// batch norm → ReLU → Linear 64, NT-Xent at τ = 0.5 over the 512 projections, and LARS (biases
/// and batch-norm parameters excluded from decay and adaptation, as in the paper).
/// `Tests/Benchmarks/simclr.py` is the PyTorch twin.
func simclrBenchmark(json: Bool) {
    var generator = RandomGenerator(seed: 11)
    let encoder = Sequential(Conv2d(1, 32, kernelSize: 3, padding: 1, generator: &generator), ReLU(), MaxPool2d(kernelSize: 2),
                             Conv2d(32, 64, kernelSize: 3, padding: 1, generator: &generator), ReLU(), MaxPool2d(kernelSize: 2),
                             Flatten(), Linear(64 * 2 * 2, 128, generator: &generator), ReLU())
    let head = Sequential(Linear(128, 128, generator: &generator), BatchNorm(featureCount: 128), ReLU(),
                          Linear(128, 64, generator: &generator))
    let model = Sequential(encoder, head)
    let parameters = model.namedParameters()
    let vectors = Set(parameters.filter { $0.parameter.rank == 1 }.map(\.name))
    let optimizer = LARS(parameters: parameters, learningRate: 0.3, momentum: 0.9, weightDecay: 1e-6,
                         isExcluded: { vectors.contains($0) })
    let loss = try! NTXentLoss(temperature: 0.5)
    let batch = 256
    let first = Tensor(shape: [batch, 1, 8, 8]) { index in 8 + 8 * Float(Foundation.sin(0.37 * Double(index) + 0.5)) }
    let second = Tensor(shape: [batch, 1, 8, 8]) { index in 8 + 8 * Float(Foundation.cos(0.29 * Double(index) + 0.1)) }
    var lastLoss: Float = 0
    let timing = Timing.measure(warmup: 5, minimumIterations: 20, minimumSeconds: 3) {
        lastLoss = trainingStep(optimizer) { loss(model(first), model(second)) }
    }
    var record = BenchmarkRecord("simclr", [("batch", batch), ("views", 2), ("threads", 1)])
    record.add(timing)
    record.fields += [("images_per_s", rounded(Double(2 * batch) / timing.medianMilliseconds * 1e3, digits: 1)),
                      ("final_loss", rounded(Double(lastLoss)))]
    record.emit(json: json)
}
