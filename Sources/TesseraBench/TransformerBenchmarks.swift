import Foundation
import TesseraNN
import TesseraTensor
import TesseraTransformers

// The transformer encoder classifier of `shared/bench/transformer.py` (vocabulary 1000, sequence 64,
// d 128, 4 heads, 2 pre-LN layers, FFN 512, ReLU, mean-pooled head, batch 32), and GPT generation
// speed with and without the key/value cache.

/// tokens → embedding + learned positions → pre-LN encoder (with its final norm) → mean over the
/// sequence → linear head, as the peer script's `Classifier`.
final class ReferenceTransformerClassifier: Layer {
    let embedding: Embedding
    let positions: LearnedPositionalEmbedding
    let encoder: TransformerEncoder
    let head: Linear

    init(generator: inout RandomGenerator) {
        embedding = Embedding(vocabularySize: 1000, dimensions: 128, generator: &generator)
        positions = LearnedPositionalEmbedding(maximumLength: 64, dimensions: 128, generator: &generator)
        encoder = TransformerEncoder(
            BlockConfiguration(modelDimensions: 128, headCount: 4, feedForwardDimensions: 512, activation: .relu,
                               normalization: .preNorm),
            layerCount: 2, generator: &generator)
        head = Linear(128, 10, generator: &generator)
    }

    func callAsFunction(_ tokens: Tensor) -> Tensor {
        let x = embedding(tokens) + positions(length: tokens.shape[1])
        return head(encoder(x).mean(alongAxes: [1]))
    }
}

/// Forward + backward + Adam of the reference transformer classifier, batch 32 of random tokens.
func transformerStepBenchmark(json: Bool) {
    var generator = RandomGenerator(seed: 0)
    let model = ReferenceTransformerClassifier(generator: &generator)
    let tokens = Tensor(shape: [32, 64]) { _ in Float(generator.nextInt(below: 1000)) }
    let labels = Tensor(shape: [32]) { _ in Float(generator.nextInt(below: 10)) }
    let optimizer = Adam(parameters: model.namedParameters(), learningRate: 1e-3)
    var lastLoss: Float = 0
    let timing = Timing.measure(warmup: 10, minimumIterations: 30, minimumSeconds: 3) {
        lastLoss = trainingStep(optimizer) { crossEntropy(logits: model(tokens), targets: labels) }
    }
    var record = BenchmarkRecord("transformer-step", [("batch", 32), ("sequence", 64), ("model_dimensions", 128),
                                                      ("heads", 4), ("layers", 2), ("threads", 1),
                                                      ("parameters", model.parameterCount)])
    record.add(timing)
    record.fields += [("samples_per_s", rounded(32 / timing.medianMilliseconds * 1e3, digits: 1)),
                      ("final_loss", rounded(Double(lastLoss))), ("blas_core", BLAS.coreName)]
    record.emit(json: json)
}

/// Tokens per second generating 192 tokens after a 64-token prompt from a 4-layer, d 128 GPT
/// (context 256), greedy, batch 1, with and without the key/value cache.
func gptGenerateBenchmark(json: Bool) {
    var generator = RandomGenerator(seed: 0)
    let model = GPT(GPTConfiguration(vocabularySize: 256, contextLength: 256, layerCount: 4, headCount: 4,
                                     modelDimensions: 128), generator: &generator)
    let prompt = Tensor(shape: [1, 64]) { _ in Float(generator.nextInt(below: 256)) }
    let newTokens = 192
    var record = BenchmarkRecord("gpt-generate", [("prompt", 64), ("new_tokens", newTokens), ("layers", 4),
                                                  ("model_dimensions", 128), ("threads", 1)])
    for useCache in [true, false] {
        let timing = Timing.measure(warmup: 1, minimumIterations: 3, minimumSeconds: 2) {
            var sampling = RandomGenerator(seed: 1)
            _ = model.generate(prompt, newTokens: newTokens, useCache: useCache, generator: &sampling)
        }
        let prefix = useCache ? "cached_" : "uncached_"
        record.add(timing, prefix: prefix)
        record.fields.append(("\(prefix)tokens_per_s", rounded(Double(newTokens) / timing.medianMilliseconds * 1e3, digits: 1)))
    }
    record.emit(json: json)
}

/// Forward + backward of the fused layer norm and last-axis softmax against the same functions
/// composed from elementwise ops and reductions, at the transformer-step shapes: layer norm over
/// `[2048, 128]` (batch 32 × 64 positions), softmax over `[32, 4, 64, 64]` attention scores.
func normalizationBenchmark(json: Bool) {
    var generator = RandomGenerator(seed: 0)
    let activations = Tensor.randomNormal([2048, 128], generator: &generator).requiringGradient()
    let weight = Tensor.randomNormal([128], generator: &generator).requiringGradient()
    let bias = Tensor.randomNormal([128], generator: &generator).requiringGradient()
    let scores = Tensor.randomNormal([32, 4, 64, 64], generator: &generator).requiringGradient()
    let seeds = [activations.shape: Tensor.randomNormal(activations.shape, generator: &generator),
                 scores.shape: Tensor.randomNormal(scores.shape, generator: &generator)]
    let cases: [(name: String, inputs: [Tensor], run: () -> Tensor)] = [
        ("layernorm_fused", [activations, weight, bias],
         { activations.layerNormalized(featureCount: 128, weight: weight, bias: bias, epsilon: 1e-5) }),
        ("layernorm_composed", [activations, weight, bias], {
            let centered = activations - activations.mean(alongAxes: [1], keepDims: true)
            let variance = (centered * centered).mean(alongAxes: [1], keepDims: true)
            return centered * (variance + 1e-5).rsqrt() * weight + bias
        }),
        ("softmax_fused", [scores], { scores.softmax(alongAxis: -1) }),
        ("softmax_composed", [scores], {
            let exponentials = (scores - withoutGradients { scores.max(alongAxes: [-1], keepDims: true) }).exp()
            return exponentials / exponentials.sum(alongAxes: [-1], keepDims: true)
        }),
    ]
    var record = BenchmarkRecord("normalization", [("layernorm_shape", "[2048, 128]"), ("softmax_shape", "[32, 4, 64, 64]"),
                                                   ("threads", 1)])
    for benchmarkCase in cases {
        let timing = Timing.measure(warmup: 5, minimumIterations: 50, minimumSeconds: 1) {
            let output = benchmarkCase.run()
            _ = Tensor.gradients(of: output, withRespectTo: benchmarkCase.inputs, seed: seeds[output.shape])
        }
        record.add(timing, prefix: benchmarkCase.name + "_")
    }
    record.emit(json: json)
}
