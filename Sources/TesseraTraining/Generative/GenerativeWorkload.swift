import Foundation
import TesseraData
import TesseraGenerative
import TesseraNN
import TesseraPicture
import TesseraSelfSupervised
import TesseraTensor

/// Maximum likelihood on the quantised digits with a `GenerativeNetwork`: each step's loss is
/// the mean negative log-likelihood in nats per image of the step's batch (the negative ELBO for
/// a VAE). The dequantisation noise and the VAE's reparameterisation noise are drawn for the
/// whole global batch from the step's stream and each shard takes its rows, so the loss is the
/// same whatever the number of processes or shards.
///
/// Every evaluation logs the test set's `test_nll_nats` (nats per image; for a VAE the IWAE
/// bound, with the ELBO's as `test_elbo_nats`), `test_bits_per_dim`, the independent-pixel
/// baseline's `baseline_bits_per_dim`, and, on `evaluation.samples` fresh samples, the
/// yardstick's `sample_confidence`, `sample_fid` (an FID on our own digits classifier) and, for a
/// conditional model, `sample_accuracy`; the first 64 samples are drawn into `samples.png`.
/// `heldout_fid` is the yardstick's distance of as many held-out digits: what a perfect generator
/// scores with that many samples.
///
/// A diffusion model (`ddpm`) has no likelihood here: its step loss is the simple ε-MSE with the
/// timesteps and the noise drawn for the global batch like the dequantisation noise, and its
/// evaluation logs the test set's ε-MSE (`test_loss`, at timesteps and noise fixed by the seed),
/// the samples' yardstick scores with the recipe's sampler, and, when asked, DDIM's consistency
/// across step counts and a sweep of DDIM's quality and time over step counts.
final class GenerativeWorkload: StepWorkload {
    let recipe: GenerativeRecipe
    let network: GenerativeNetwork
    let train: TensorDataset, test: TensorDataset
    /// The test digits of `data.outlierClass`, held out of training and testing (nil without one).
    let outliers: TensorDataset?
    let baselineBitsPerDimension: Double
    var model: any Module { network.module }
    var primaryMetric: String { isDiffusion ? "test_loss" : "test_bits_per_dim" }
    private var isDiffusion: Bool { recipe.model.kind == .ddpm }
    var primaryMetricIsHigherBetter: Bool { false }
    var progressMetrics: [String] { ["sample_fid"] }
    var shardsAreIndependent: Bool { true }
    var metadata: [String: String] { ["generator": recipe.model.kind.rawValue] }
    private(set) var lastFailure: String?
    private let run: RunDirectory
    private var yardstick: Yardstick?
    private var heldOutFrechetDistance: Double?

    init(_ recipe: GenerativeRecipe, runDirectory: RunDirectory, generator: inout RandomGenerator) throws {
        self.recipe = recipe
        run = runDirectory
        network = try GenerativeNetwork(recipe.model, levels: recipe.data.levels, generator: &generator)
        let split = try Digits.split(layout: .image, testFraction: recipe.data.testFraction, seed: recipe.seed)
        let levels = recipe.data.levels
        let allTrain = TensorDataset(inputs: quantizedDigits(split.train.inputs, levels: levels), labels: split.train.labels)
        let allTest = TensorDataset(inputs: quantizedDigits(split.test.inputs, levels: levels), labels: split.test.labels)
        if let outlier = recipe.data.outlierClass {
            // The class is never seen in training; its test digits become the outliers to score.
            train = Self.rows(of: allTrain) { $0 != outlier }
            test = Self.rows(of: allTest) { $0 != outlier }
            outliers = Self.rows(of: allTest) { $0 == outlier }
        } else {
            (train, test, outliers) = (allTrain, allTest, nil)
        }
        let flat = { (images: Tensor) in images.reshape([images.shape[0], GenerativeNetwork.dimensions]) }
        baselineBitsPerDimension = independentPixelBitsPerDimension(train: flat(train.inputs), test: flat(test.inputs), levels: levels)
    }

    /// The examples of `dataset` whose class `keep` accepts.
    private static func rows(of dataset: TensorDataset, where keep: (Int) -> Bool) -> TensorDataset {
        let labels = dataset.labels.scalars
        return dataset.subset(labels.indices.filter { keep(Int(labels[$0])) })
    }

    private func labels(_ dataset: TensorDataset, _ index: Tensor? = nil) -> [Int] {
        (index.map { dataset.labels.indexSelect(alongAxis: 0, indices: $0) } ?? dataset.labels).scalars.map { Int($0) }
    }

    func trainingLoss(step: Int, shard: BatchShard) -> (loss: Tensor, examples: Int) {
        let batch = stepBatch(seed: recipe.seed, step: step, batchSize: recipe.data.batchSize, count: train.count)
        let rows = shard.rows(of: batch.count)
        let images = train.inputs.indexSelect(alongAxis: 0, indices: Tensor(batch.map(Float.init)))
        // The global batch's noise, drawn from the step's own stream after its batch.
        var noise = batchGenerator(seed: recipe.seed, step: step).derived(stream: 1)
        let uniform = Tensor.randomUniform(images.shape, generator: &noise)
        let latent: Tensor? = {
            guard case .vae(let vae) = network.model else { return nil }
            return Tensor.randomNormal([batch.count, vae.config.latentDimensions], generator: &noise)
        }()
        let part = { (t: Tensor) in t.slice(alongAxis: 0, start: rows.lowerBound, end: rows.upperBound) }
        if shard.rank == 0 { lastFailure = nil }
        do {
            if isDiffusion {
                let timesteps = (0..<batch.count).map { _ in noise.nextInt(below: recipe.model.timesteps) }
                let epsilon = Tensor.randomNormal(images.shape, generator: &noise)
                let loss = try network.diffusionLoss(part(images), labels: labels(train, Tensor(batch[rows].map(Float.init))),
                                                     uniform: part(uniform), timesteps: Array(timesteps[rows]), noise: part(epsilon))
                return (loss.sum() / Float(batch.count), rows.count)
            }
            try network.initializeIfNeeded(images, uniform: uniform)
            let index = Tensor(batch[rows].map(Float.init))
            let logLikelihood = try network.logLikelihood(part(images), labels: labels(train, index), uniform: part(uniform),
                                                          latentNoise: latent.map(part))
            return (-logLikelihood.sum() / Float(batch.count), rows.count)
        } catch {
            // A non-finite log-determinant names its layer; the trainer stops the run with it.
            lastFailure = "\(error)"
            return (Tensor([Float.nan]).sum(), rows.count)
        }
    }

    func evaluate() -> [String: Double] {
        withoutGradients {
            network.module.eval()
            defer { network.module.train() }
            var metrics = ["baseline_bits_per_dim": baselineBitsPerDimension]
            var generator = evaluationGenerator(seed: recipe.seed)
            let dimensions = Double(GenerativeNetwork.dimensions)
            do {
                let uniform = Tensor.randomUniform(test.inputs.shape, generator: &generator)
                let testLabels = labels(test)
                if isDiffusion {
                    try metrics.merge(diffusionMetrics(uniform: uniform, labels: testLabels, generator: &generator)) { $1 }
                    return metrics
                }
                if case .vae = network.model {
                    var latent = generator.derived(stream: 1)
                    let noise = Tensor.randomNormal([test.count, recipe.model.latentDimensions], generator: &latent)
                    let elbo = try network.logLikelihood(test.inputs, labels: testLabels, uniform: uniform, latentNoise: noise)
                    metrics["test_elbo_nats"] = -Double(elbo.mean().item)
                    metrics["test_elbo_bits_per_dim"] = metrics["test_elbo_nats"]! / (dimensions * log(2))
                }
                let logLikelihood = try network.importanceWeightedLogLikelihood(
                    test.inputs, labels: testLabels, uniform: uniform, samples: recipe.evaluation.importanceSamples, generator: &generator)
                let nats = -Double(logLikelihood.mean().item)
                metrics["test_nll_nats"] = nats
                metrics["test_loss"] = nats
                metrics["test_bits_per_dim"] = nats / (dimensions * log(2))
                if outliers != nil { try metrics.merge(outlierMetrics(inlierLogLikelihood: logLikelihood, generator: &generator)) { $1 } }
                try metrics.merge(sampleMetrics(generator: &generator)) { $1 }
            } catch {
                print("generative: evaluation failed: \(error)")
                metrics[primaryMetric] = .nan
            }
            return metrics
        }
    }

    /// Outlier scoring by the likelihood (for a VAE its importance-weighted bound), the score of an
    /// image being its negative log-likelihood:
    ///
    /// - `outlier_auroc`: the held-out class's test digits against the other classes' test digits;
    /// - `blurred_auroc`: the inlier test digits blurred by a 3 × 3 box (and re-quantised) against
    ///   themselves. The notes warn that likelihood models are poor outlier detectors because the
    ///   likelihood is dominated by low-level statistics; blurred digits are simpler, so a model
    ///   that scores them as *more* likely than real digits (an AUROC below ½) shows it (Nalisnick
    ///   et al., 2019, found the same for CIFAR-trained models scoring SVHN).
    private func outlierMetrics(inlierLogLikelihood: Tensor, generator: inout RandomGenerator) throws -> [String: Double] {
        guard let outliers else { return [:] }
        let score = { (images: Tensor, labels: [Int], generator: inout RandomGenerator) throws -> [Float] in
            let uniform = Tensor.randomUniform(images.shape, generator: &generator)
            return try self.network.importanceWeightedLogLikelihood(images, labels: labels, uniform: uniform,
                                                                    samples: self.recipe.evaluation.importanceSamples,
                                                                    generator: &generator).scalars.map { -$0 }
        }
        let inlierScores = inlierLogLikelihood.scalars.map { -$0 }
        let outlierScores = try score(outliers.inputs, labels(outliers), &generator)
        let blurred = quantizedDigits(test.inputs.conv2d(weight: Tensor.full([1, 1, 3, 3], 1 / 9), padding: 1), levels: recipe.data.levels)
        let blurredScores = try score(blurred, labels(test), &generator)
        let auroc = { (negatives: [Float], positives: [Float]) throws -> Double in
            try areaUnderROCCurve(scores: Tensor(negatives + positives),
                                  labels: Tensor([Float](repeating: 0, count: negatives.count) + [Float](repeating: 1, count: positives.count)))
        }
        return ["outlier_auroc": try auroc(inlierScores, outlierScores), "blurred_auroc": try auroc(inlierScores, blurredScores)]
    }

    /// A diffusion model's evaluation: the test ε-MSE, the samples of the recipe's sampler, and
    /// DDIM's consistency and step sweep when the recipe asks for them.
    private func diffusionMetrics(uniform: Tensor, labels testLabels: [Int], generator: inout RandomGenerator) throws -> [String: Double] {
        let timesteps = (0..<test.count).map { _ in generator.nextInt(below: recipe.model.timesteps) }
        let noise = Tensor.randomNormal(test.inputs.shape, generator: &generator)
        let loss = try network.diffusionLoss(test.inputs, labels: testLabels, uniform: uniform, timesteps: timesteps, noise: noise)
        var metrics = ["test_loss": Double(loss.mean().item)]
        var started = Date()
        try metrics.merge(sampleMetrics(generator: &generator)) { $1 }
        metrics["sample_seconds"] = Date().timeIntervalSince(started)
        let count = recipe.evaluation.samples
        let classes = network.classCount > 0 ? (0..<count).map { $0 % network.classCount } : []
        let initial = Tensor.randomNormal([count] + GenerativeNetwork.imageShape, generator: &generator)
        let deterministic = { (steps: Int, generator: inout RandomGenerator) throws -> Tensor in
            self.network.quantized((try self.network.diffusionSamples(
                from: initial, labels: classes, sampling: .init(sampler: .ddim, steps: steps, eta: 0), generator: &generator) + 1) * 0.5)
        }
        if let reference = recipe.evaluation.consistencySteps.first {
            // Song et al. §5.3: the same x_T through fewer steps keeps the high-level features.
            let anchor = try deterministic(reference, &generator)
            let anchorClasses = try scoringYardstick().map { $0.predictedClasses(anchor) }
            for steps in recipe.evaluation.consistencySteps.dropFirst() {
                let other = try deterministic(steps, &generator)
                metrics["consistency_\(reference)_\(steps)_pixel_distance"] = Double((other - anchor).abs().mean().item)
                if let anchorClasses, let yardstick {
                    let agreeing = zip(anchorClasses, yardstick.predictedClasses(other)).filter { $0 == $1 }.count
                    metrics["consistency_\(reference)_\(steps)_class_agreement"] = Double(agreeing) / Double(count)
                }
            }
        }
        for steps in recipe.evaluation.stepSweep {
            started = Date()
            let samples = try deterministic(steps, &generator)
            metrics["ddim\(steps)_seconds"] = Date().timeIntervalSince(started)
            if let yardstick = try scoringYardstick() {
                let scores = try yardstick.scores(samples, labels: classes.isEmpty ? nil : classes)
                metrics["ddim\(steps)_fid"] = scores.frechetDistance
                metrics["ddim\(steps)_confidence"] = scores.confidence
                if let accuracy = scores.accuracy { metrics["ddim\(steps)_accuracy"] = accuracy }
            }
        }
        return metrics
    }

    /// The recipe's yardstick, built on first use; nil when the recipe has none.
    private func scoringYardstick() throws -> Yardstick? {
        guard !recipe.evaluation.yardstick.isEmpty else { return nil }
        if yardstick == nil { yardstick = try Yardstick(recipePath: recipe.evaluation.yardstick) }
        return yardstick
    }

    /// The evaluation's samples: `samples.png`, and the yardstick's scores of them.
    private func sampleMetrics(generator: inout RandomGenerator) throws -> [String: Double] {
        let count = recipe.evaluation.samples
        // A conditional model draws the ten classes in turn, so every row of the grid counts 0 … 9.
        let classes = network.classCount > 0 ? (0..<count).map { $0 % network.classCount } : []
        let samples = try network.sample(count: count, labels: classes, temperature: recipe.evaluation.temperature,
                                         diffusion: .init(recipe.evaluation), generator: &generator)
        try Self.writeGrid(samples, columns: network.classCount > 0 ? network.classCount : nil,
                           to: run.url.appendingPathComponent("samples.png"))
        guard let yardstick = try scoringYardstick() else { return [:] }
        let scores = try yardstick.scores(samples, labels: classes.isEmpty ? nil : classes)
        // The same number of held-out digits, scored the same way: the distance a perfect
        // generator would reach with this many samples (the estimate is biased upward for few).
        if heldOutFrechetDistance == nil {
            let real = test.inputs.slice(alongAxis: 0, start: 0, end: min(count, test.count))
            heldOutFrechetDistance = try yardstick.scores(real, labels: nil).frechetDistance
        }
        var metrics = ["sample_confidence": scores.confidence, "sample_fid": scores.frechetDistance,
                       "heldout_fid": heldOutFrechetDistance!]
        if let accuracy = scores.accuracy { metrics["sample_accuracy"] = accuracy }
        return metrics
    }

    /// A diffusion model's figures after the last evaluation (rank 0), each from initial noises of
    /// the evaluation stream:
    ///
    /// - `ddim_steps.png`: ten `x_T`, one per column, through DDIM (η = 0) in 10, 20, 50, 100 steps
    ///   and the full chain, one row each: the consistency of Song et al. §5.3 to the eye;
    /// - `interpolation.png`: six rows, each eight DDIM (50 steps, or the chain if shorter) samples
    ///   along the slerp between two `x_T` (§5.4), a conditional model's of one class per row.
    func writeArtifacts(to run: RunDirectory) throws {
        guard isDiffusion else { return }
        try withoutGradients {
            network.module.eval()
            defer { network.module.train() }
            var generator = evaluationGenerator(seed: recipe.seed).derived(stream: 7)
            let shape = GenerativeNetwork.imageShape, timesteps = recipe.model.timesteps
            let classes = { (count: Int) in self.network.classCount > 0 ? (0..<count).map { $0 % self.network.classCount } : [] }
            let initial = Tensor.randomNormal([10] + shape, generator: &generator)
            var rows: [Tensor] = []
            for steps in Set([10, 20, 50, 100, timesteps].filter { $0 <= timesteps }).sorted() {
                let samples = try network.diffusionSamples(from: initial, labels: classes(10), sampling: .init(sampler: .ddim, steps: steps, eta: 0),
                                                           generator: &generator)
                rows.append(network.quantized((samples + 1) * 0.5))
            }
            try Self.writeGrid(Tensor.concatenate(rows, alongAxis: 0), columns: 10, to: run.url.appendingPathComponent("ddim_steps.png"))
            var paths: [Tensor] = []
            for _ in 0..<6 {
                let ends = (Tensor.randomNormal([1] + shape, generator: &generator), Tensor.randomNormal([1] + shape, generator: &generator))
                paths.append(try slerp(ends.0, ends.1, steps: 8))
            }
            // A conditional model keeps one class along each row, so only the noise moves.
            let rowClasses = network.classCount > 0 ? (0..<48).map { ($0 / 8) % network.classCount } : []
            let samples = try network.diffusionSamples(from: Tensor.concatenate(paths, alongAxis: 0), labels: rowClasses,
                                                       sampling: .init(sampler: .ddim, steps: min(50, timesteps), eta: 0), generator: &generator)
            try Self.writeGrid(network.quantized((samples + 1) * 0.5), columns: 8, to: run.url.appendingPathComponent("interpolation.png"))
        }
    }

    /// The first 64 of `samples` `[count, 64]` as a grid of 8 × 8 tiles.
    static func writeGrid(_ samples: Tensor, columns: Int?, to url: URL) throws {
        let count = min(samples.shape[0], 64), values = samples.scalars, size = GenerativeNetwork.dimensions
        var grid = ImageGrid(grayscale: (0..<count).map { Array(values[($0 * size)..<(($0 + 1) * size)]) },
                             width: GenerativeDataSection.imageSide, height: GenerativeDataSection.imageSide)
        grid.columns = columns
        try grid.render().writePNG(to: url)
    }
}
