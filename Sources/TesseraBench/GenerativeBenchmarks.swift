import Foundation
import TesseraGenerative
import TesseraNN
import TesseraTensor

/// The number of scalars in every parameter of `module`, printed in the JSON line so that a twin
/// with a different architecture shows up at once.
private func parameterCount(_ module: some Module) -> Int {
    module.namedParameters().reduce(0) { $0 + $1.parameter.count }
}

/// One Glow training step as `configs/generative-glow-digits.yaml` trains it (issue 15): a batch of
/// 64 closed-form 1×8×8 images in [−0.5, 0.5), what the recipe feeds Glow: dequantised pixels
/// `(k + u) / 16 − 0.5`, here with the PixelCNN benchmark's levels k = (5i + 3⌊i/8⌋) mod 16 and
/// u = ((1103515245 i + 12345) mod 2³¹) / 2³¹ at flat index i (a full-rank batch: a batch on a
/// low-dimensional curve would let the likelihood grow without bound); through 2 levels of a squeeze and 8 steps of actnorm, LU-parameterised invertible
/// 1×1 convolution and affine coupling (3×3 → ReLU → 1×1 → ReLU → 3×3, 64 hidden channels, the last
/// convolution zero-initialised), half the channels split off after level 1, standard Gaussian
/// prior; loss −mean log-likelihood in nats, backward, Adam at lr 1e-3. The actnorms are
/// initialised once from the batch before timing (the recipe's data-dependent initialisation).
/// `Tests/Benchmarks/glow.py` is the PyTorch twin.
func flowBenchmark(json: Bool) {
    var generator = RandomGenerator(seed: 13)
    var config = GlowConfig(inputShape: [1, 8, 8])
    config.levels = 2
    config.stepsPerLevel = 8
    config.hiddenChannels = 64
    let glow = try! Glow(config: config, generator: &generator)
    let optimizer = Adam(parameters: glow.namedParameters(), learningRate: 1e-3)
    let batch = 64
    let images = Tensor(shape: [batch, 1, 8, 8]) { index in
        let level = Double((5 * index + 3 * (index / 8)) % 16)
        let uniform = Double((1_103_515_245 * index + 12345) % 2_147_483_648) / 2_147_483_648
        return Float((level + uniform) / 16 - 0.5)
    }
    try! glow.initializeActNorms(images)
    let initialLoss = withoutGradients { -(try! glow.logLikelihood(images)).mean().item }
    var lastLoss: Float = 0
    let timing = Timing.measure(warmup: 5, minimumIterations: 20, minimumSeconds: 3) {
        lastLoss = trainingStep(optimizer) { -(try! glow.logLikelihood(images)).mean() }
    }
    var record = BenchmarkRecord("flow", [("batch", batch), ("levels", config.levels), ("steps_per_level", config.stepsPerLevel),
                                          ("hidden_channels", config.hiddenChannels), ("parameters", parameterCount(glow)),
                                          ("threads", 1)])
    record.add(timing)
    record.fields += [("images_per_s", rounded(Double(batch) / timing.medianMilliseconds * 1e3, digits: 1)),
                      ("initial_loss", rounded(Double(initialLoss))), ("final_loss", rounded(Double(lastLoss)))]
    record.emit(json: json)
}

/// One gated PixelCNN training step as `configs/generative-pixelcnn-digits.yaml` trains it
/// (issue 15): a batch of 64 closed-form 1×8×8 images with grey levels k/15, k = (5i + 3⌊i/8⌋) mod 16
/// at flat index i; a 5×5 vertical and 1×5 horizontal first layer (centre hidden), 4 gated layers
/// (3×3 vertical and 1×3 horizontal masked convolutions to 2 × 32 channels, the vertical features
/// fed to the horizontal stack through a 1×1 convolution, tanh ⊙ sigmoid gates, a residual 1×1 on
/// the horizontal stack), then ReLU → 1×1 → ReLU → 1×1 to 16 logits per pixel; loss the mean over
/// the batch of the negative log-likelihood (a softmax over the 16 levels of every pixel), backward,
/// Adam at lr 2e-3. `Tests/Benchmarks/pixelcnn.py` is the PyTorch twin.
func pixelCNNBenchmark(json: Bool) {
    var generator = RandomGenerator(seed: 17)
    var config = PixelCNNConfig(height: 8, width: 8, levels: 16)
    config.architecture = .gated
    config.hiddenChannels = 32
    config.layers = 4
    config.firstKernelSize = 5
    config.kernelSize = 3
    let model = try! PixelCNN(config: config, generator: &generator)
    let optimizer = Adam(parameters: model.namedParameters(), learningRate: 2e-3)
    let batch = 64
    let images = Tensor(shape: [batch, 1, 8, 8]) { index in Float((5 * index + 3 * (index / 8)) % 16) / 15 }
    let initialLoss = withoutGradients { -(try! model.logLikelihood(images)).mean().item }
    var lastLoss: Float = 0
    let timing = Timing.measure(warmup: 5, minimumIterations: 20, minimumSeconds: 3) {
        lastLoss = trainingStep(optimizer) { -(try! model.logLikelihood(images)).mean() }
    }
    var record = BenchmarkRecord("pixelcnn", [("batch", batch), ("levels", config.levels), ("hidden_channels", config.hiddenChannels),
                                              ("layers", config.layers), ("parameters", parameterCount(model)), ("threads", 1)])
    record.add(timing)
    record.fields += [("images_per_s", rounded(Double(batch) / timing.medianMilliseconds * 1e3, digits: 1)),
                      ("initial_loss", rounded(Double(initialLoss))), ("final_loss", rounded(Double(lastLoss)))]
    record.emit(json: json)
}

/// One DDPM training step and one 50-step DDIM sampling as `configs/generative-ddpm-digits.yaml`
/// trains and samples (issue 16): the U-Net of `DiffusionUNet` with 32 base channels at 8×8 and 64
/// at 4×4 (one residual block per level, group norm with 8 groups, SiLU, sinusoidal time embedding
/// through 32 → 128 → 128), the linear β schedule over T = 1000. The step: a batch of 64
/// closed-form images in [−1, 1], `x_0 = 2 k/15 − 1` with k = (5i + 3⌊i/8⌋) mod 16, noise
/// `ε = √12 (u − ½)` with u = ((1103515245 i + 12345) mod 2³¹) / 2³¹ at flat index i, timesteps
/// t_b = (37 b + 11) mod 1000; loss the ε-MSE, backward, Adam at lr 1e-3. The sampling: DDIM with
/// η = 0 over the timesteps 980, 960, …, 0 from the noise above, `x̂_0` clipped to [−1, 1], no
/// gradients. `Tests/Benchmarks/ddpm.py` is the PyTorch twin.
func ddpmBenchmark(json: Bool) {
    var generator = RandomGenerator(seed: 19)
    var network = DiffusionUNetConfig()
    network.baseChannels = 32
    network.channelMultipliers = [1, 2]
    network.groups = 8
    let ddpm = try! DDPM(config: DDPMConfig(), network: try! DiffusionUNet(config: network, generator: &generator))
    let optimizer = Adam(parameters: ddpm.namedParameters(), learningRate: 1e-3)
    let batch = 64
    let images = Tensor(shape: [batch, 1, 8, 8]) { index in Float((5 * index + 3 * (index / 8)) % 16) / 15 * 2 - 1 }
    let noise = Tensor(shape: [batch, 1, 8, 8]) { index in
        Float((Double((1_103_515_245 * index + 12345) % 2_147_483_648) / 2_147_483_648 - 0.5) * 12.0.squareRoot())
    }
    let timesteps = (0..<batch).map { (37 * $0 + 11) % 1000 }
    let initialLoss = withoutGradients { (try! ddpm.loss(images, timesteps: timesteps, noise: noise)).mean().item }
    var lastLoss: Float = 0
    let step = Timing.measure(warmup: 3, minimumIterations: 20, minimumSeconds: 3) {
        lastLoss = trainingStep(optimizer) { (try! ddpm.loss(images, timesteps: timesteps, noise: noise)).mean() }
    }
    var sampler = DDIM()
    sampler.steps = 50
    var sample = noise
    let sampling = Timing.measure(warmup: 1, minimumIterations: 5, minimumSeconds: 3) {
        sample = try! sampler.sample(ddpm, from: noise, generator: &generator)
    }
    var record = BenchmarkRecord("ddpm", [("batch", batch), ("base_channels", network.baseChannels), ("levels", network.channelMultipliers.count),
                                          ("parameters", parameterCount(ddpm)), ("threads", 1)])
    record.add(step)
    record.add(sampling, prefix: "ddim50_")
    record.fields += [("initial_loss", rounded(Double(initialLoss))), ("final_loss", rounded(Double(lastLoss))),
                      ("sample_mean", rounded(Double(sample.mean().item)))]
    record.emit(json: json)
}
