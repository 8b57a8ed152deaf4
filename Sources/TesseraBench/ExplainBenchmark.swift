import Foundation
import TesseraExplain
import TesseraNN
import TesseraTensor

/// One LRP explanation (composite EpsilonGammaBox, z^B box [0, 16]) of the digits CNN of
/// `configs/cnn-digits.yaml` (1×8×8 → conv 32 → pool → conv 64 → pool → 128 → 10, ReLU), for a
/// batch of 1 and of 64 closed-form images, against one forward + backward of the same model (the
/// gradient of the explained logit with respect to the input): the aim is LRP within 2×
/// of that. `Tests/Benchmarks/explain.py` times zennit and PyTorch on the same network.
func explainBenchmark(json: Bool) {
    var generator = RandomGenerator(seed: 7)
    let cnn = Sequential(Conv2d(1, 32, kernelSize: 3, padding: 1, generator: &generator), ReLU(), MaxPool2d(kernelSize: 2),
                         Conv2d(32, 64, kernelSize: 3, padding: 1, generator: &generator), ReLU(), MaxPool2d(kernelSize: 2),
                         Flatten(), Linear(64 * 2 * 2, 128, generator: &generator), ReLU(), Linear(128, 10, generator: &generator))
    let explainer = try! Explainer(model: cnn, composite: EpsilonGammaBox(low: 0, high: 16), inputShape: [1, 8, 8])
    for batch in [1, 64] {
        let images = Tensor(shape: [batch, 1, 8, 8]) { index in 8 + 8 * Float(Foundation.sin(0.37 * Double(index) + 0.5)) }
        let target = ExplanationTarget.output(3)
        let lrp = Timing.measure(warmup: 5, minimumIterations: 30, minimumSeconds: 2) {
            _ = try! explainer.explain(images, target: target)
        }
        let gradient = Timing.measure(warmup: 5, minimumIterations: 30, minimumSeconds: 2) {
            _ = try! Attribution.gradient(of: cnn, at: images, target: target)
        }
        var record = BenchmarkRecord("explain", [("model", "cnn-digits"), ("batch", batch)])
        record.add(lrp, prefix: "lrp_")
        record.add(gradient, prefix: "forward_backward_")
        record.fields.append(("lrp_over_forward_backward", (lrp.medianMilliseconds / gradient.medianMilliseconds * 100).rounded() / 100))
        record.emit(json: json)
    }
}
