import Foundation
import TesseraExplain
import TesseraNN
import TesseraTensor
import TesseraTransformers

/// One LRP explanation (composite EpsilonGammaBox, z^B box [0, 16]) of the digits CNN of
/// `configs/cnn-digits.yaml` (1×8×8 → conv 32 → pool → conv 64 → pool → 128 → 10, ReLU), for a
/// batch of 1 and of 64 closed-form images, against one forward + backward of the same model (the
/// gradient of the explained logit with respect to the input): the aim is LRP within 2×
/// of that. `Tests/Benchmarks/explain.py` times zennit and PyTorch on the same network.
///
/// Then the ViT of `configs/vit-digits.yaml` (patches 2×2, 4 pre-LN layers, 4 heads, d 64, FFN 256,
/// GELU) under the transformer rules (Ali et al. 2022, LRP-0 everywhere), batch 1 and 64; its
/// PyTorch twin is the authors' own formulation: gradient × input through a forward pass with the
/// attention probabilities and the layer norms' σ detached.
func explainBenchmark(json: Bool) {
    explainCNNBenchmark(json: json)
    explainViTBenchmark(json: json)
}

/// Closed-form digits-like images, `[batch, 1, 8, 8]`, values in [0, 16].
private func benchmarkImages(_ batch: Int) -> Tensor {
    Tensor(shape: [batch, 1, 8, 8]) { index in 8 + 8 * Float(Foundation.sin(0.37 * Double(index) + 0.5)) }
}

/// Times `explainer` and the model's forward + backward on batches of 1 and 64, one record each.
private func timeExplanation(_ model: String, explainer: Explainer, network: any Layer, json: Bool) {
    for batch in [1, 64] {
        let images = benchmarkImages(batch)
        let target = ExplanationTarget.output(3)
        let lrp = Timing.measure(warmup: 5, minimumIterations: 30, minimumSeconds: 2) {
            _ = try! explainer.explain(images, target: target)
        }
        let gradient = Timing.measure(warmup: 5, minimumIterations: 30, minimumSeconds: 2) {
            _ = try! Attribution.gradient(of: network, at: images, target: target)
        }
        var record = BenchmarkRecord("explain", [("model", model), ("batch", batch)])
        record.add(lrp, prefix: "lrp_")
        record.add(gradient, prefix: "forward_backward_")
        record.fields.append(("lrp_over_forward_backward", (lrp.medianMilliseconds / gradient.medianMilliseconds * 100).rounded() / 100))
        record.emit(json: json)
    }
}

private func explainViTBenchmark(json: Bool) {
    var generator = RandomGenerator(seed: 7)
    let vit = VisionTransformer(VisionTransformerConfiguration(imageShape: [1, 8, 8], patchSize: 2, classCount: 10, layerCount: 4,
                                                               headCount: 4, modelDimensions: 64), generator: &generator)
    vit.eval()
    let explainer = try! Explainer(model: vit, composite: TransformerLRP.composite(epsilon: 0), inputShape: [1, 8, 8])
    timeExplanation("vit-digits", explainer: explainer, network: vit, json: json)
}

private func explainCNNBenchmark(json: Bool) {
    var generator = RandomGenerator(seed: 7)
    let cnn = Sequential(Conv2d(1, 32, kernelSize: 3, padding: 1, generator: &generator), ReLU(), MaxPool2d(kernelSize: 2),
                         Conv2d(32, 64, kernelSize: 3, padding: 1, generator: &generator), ReLU(), MaxPool2d(kernelSize: 2),
                         Flatten(), Linear(64 * 2 * 2, 128, generator: &generator), ReLU(), Linear(128, 10, generator: &generator))
    let explainer = try! Explainer(model: cnn, composite: EpsilonGammaBox(low: 0, high: 16), inputShape: [1, 8, 8])
    timeExplanation("cnn-digits", explainer: explainer, network: cnn, json: json)
}
