import Foundation
import TesseraData
import TesseraGenerative
import TesseraNN
import TesseraTensor

/// Counterfactuals in a trained generator's latent space against the same search on the pixels
/// (`tessera counterfactual`), as the notes describe: a digit is moved toward a target class by
/// gradient ascent on a classifier's target log-probability (`counterfactual(from:targetClasses:classifier:config:)`,
/// Wachter et al., 2017), once on the generator's latent `z` under a classifier trained on the
/// latents of the training digits, then decoded (Joshi et al., 2019), and once on the pixels under
/// a classifier of the pixels. The yardstick judges both: whether it sees the target class, and how
/// far its penultimate features lie from the real training digits of that class.
///
/// A VAE's latent is its encoder's mean `μ(x)` and decodes by the decoder's mean; a flow's (NICE,
/// RealNVP, Glow) is `f(x)` of the pixel cell's centre, all levels' latents flattened to 64
/// numbers, and decodes by `f⁻¹`. A conditional VAE is refused: it is told the class, so its latent
/// carries none to move (`tessera sample --class` is its counterfactual); a PixelCNN has no latent.
///
/// The images the yardstick sees are continuous grey values in [0, 1] (decoded means, attacked
/// pixels), clamped but not re-quantised: rounding to 16 levels would itself erase much of a pixel
/// attack's small perturbation, and the comparison is about the search, not the rounding.
struct LatentCounterfactualStudy {
    /// Which classifier the pixel-space search climbs.
    enum PixelAttack: String, CaseIterable {
        /// The yardstick itself, white box: the classic adversarial example, which flips the judge
        /// by construction, so its success rate says nothing and its features tell the story.
        case yardstick
        /// An MLP trained on the pixels exactly as the latent classifier is trained on the latents:
        /// the symmetric comparison, the yardstick judging both searches from outside.
        case classifier
    }

    struct Options {
        var targetClass: Int
        /// Held-out digits of other classes to move (the Fréchet distance needs at least 2).
        var count = 64
        /// Picks the digits and seeds the classifiers' training.
        var seed: UInt64 = 0
        var pixelAttack = PixelAttack.classifier
        /// The latent search. Stopping at the latent classifier's 0.999 rather than 0.99 puts the
        /// point well inside the class: on the VAE recipe toward 7 the yardstick agreed for 92% of
        /// the decoded digits instead of 67%.
        var latentSearch: CounterfactualConfig = {
            var config = CounterfactualConfig()
            config.stepSize = 0.1
            config.maximumSteps = 2000
            config.targetProbability = 0.999
            return config
        }()
        /// The pixel search, to the same probability; grey values span [0, 1], hence the smaller step.
        var pixelSearch: CounterfactualConfig = {
            var config = CounterfactualConfig()
            config.stepSize = 0.02
            config.maximumSteps = 2000
            config.targetProbability = 0.999
            return config
        }()
        /// Adam steps of the latent and the pixel classifier.
        var classifierSteps = 3000
    }

    /// What the study measures of one set of images, against the target class.
    struct Measures {
        /// The share of images the yardstick assigns to the target class.
        var successRate: Double
        /// The yardstick's mean probability of the target class.
        var targetProbability: Double
        /// The Fréchet distance between Gaussians fitted to the yardstick's penultimate features of
        /// the images and of the training digits of the target class (an FID on our own classifier).
        var frechetDistance: Double
        /// The mean Euclidean distance from each image's yardstick features to the nearest training
        /// digit of the target class: a per-image distance to the class's part of the data manifold.
        var nearestFeatureDistance: Double
        /// The mean absolute change per pixel from the original digits, in grey values.
        var meanPixelChange: Double
        /// The yardstick's class of every image (−1 for a non-finite one).
        var predictedClasses: [Int]
        /// Images with a non-finite pixel: misses, left out of the distances and the pixel change.
        var nonFiniteCount: Int
    }

    /// The images of one search, their measures, and how the search went under the classifier it climbed.
    struct Search {
        var images: Tensor
        var measures: Measures
        /// The share of searches that reached the target probability under their own classifier.
        var reachedShare: Double
        var meanSteps: Double
    }

    let options: Options
    let kind: String
    /// The held-out digits moved, `[count, 64]`, and their classes.
    let originals: Tensor
    let originalClasses: [Int]
    /// The generator's decoding of the originals' own latents: what decoding alone does to a digit.
    let reconstructions: Measures
    let latent: Search
    let pixel: Search
    /// The held-out digits of the target class: what real digits of it score.
    let heldOutTarget: Measures
    let originalMeasures: Measures
    /// The latent and pixel classifiers' accuracies on the held-out digits.
    let latentClassifierAccuracy: Double
    let pixelClassifierAccuracy: Double?

    /// Runs the study for the trained `network` of `recipe`, judged by `yardstick`.
    init(network: GenerativeNetwork, recipe: GenerativeRecipe, yardstick: Yardstick, options: Options) throws {
        guard (0..<10).contains(options.targetClass) else {
            throw TrainingError("target class \(options.targetClass) is out of range: the digits have classes 0…9")
        }
        let space = try LatentSpace(network, kind: recipe.model.kind)
        self.options = options
        kind = recipe.model.kind.rawValue
        network.module.eval()
        let levels = recipe.data.levels
        let split = try Digits.split(layout: .flat, testFraction: recipe.data.testFraction, seed: recipe.seed)
        let train = quantizedDigits(split.train.inputs, levels: levels), test = quantizedDigits(split.test.inputs, levels: levels)
        let trainLabels = split.train.labels.scalars.map { Int($0) }, testLabels = split.test.labels.scalars.map { Int($0) }
        let candidates = testLabels.indices.filter { testLabels[$0] != options.targetClass }
        guard options.count >= 2, options.count <= candidates.count else {
            throw TrainingError("--count must lie in 2…\(candidates.count) (the held-out digits not of class \(options.targetClass)), got \(options.count)")
        }
        var generator = RandomGenerator(seed: options.seed)
        let chosen = generator.permutation(candidates.count).prefix(options.count).map { candidates[$0] }
        originals = test.indexSelect(alongAxis: 0, indices: Tensor(chosen.map(Float.init)))
        originalClasses = chosen.map { testLabels[$0] }

        let judge = try CounterfactualJudge(yardstick: yardstick, targetClass: options.targetClass,
                          reference: Self.rows(of: train, where: trainLabels.map { $0 == options.targetClass }))
        originalMeasures = try judge.measure(originals, from: originals)
        heldOutTarget = try judge.measure(Self.rows(of: test, where: testLabels.map { $0 == options.targetClass }), from: nil)

        // The latent classifier sees the latents of the training digits as training presented
        // them to the generator: four copies with fresh dequantisation noise (and, for a VAE, a
        // posterior sample), so it is defined around every digit's latent, not only on it.
        var classifierGenerator = generator.derived(stream: 1)
        let copies = 4
        let repeatedTrain = Tensor.concatenate(Array(repeating: train, count: copies), alongAxis: 0)
        let repeatedLabels = Array(Array(repeating: trainLabels, count: copies).joined())
        let uniform = Tensor.randomUniform(repeatedTrain.shape, generator: &classifierGenerator)
        let posteriorNoise = Tensor.randomNormal([repeatedTrain.shape[0], space.dimensions], generator: &classifierGenerator)
        let noisy = try space.encode(repeatedTrain, levels: levels, uniform: uniform, posteriorNoise: posteriorNoise)
        let latentClassifier = Self.trainClassifier(noisy, labels: repeatedLabels, steps: options.classifierSteps, generator: &classifierGenerator)
        let startLatents = try space.encode(originals, levels: levels)
        latentClassifierAccuracy = try classificationAccuracy(
            logits: withoutGradients { latentClassifier(try space.encode(test, levels: levels)) }, labels: testLabels)

        reconstructions = try judge.measure(try space.decode(startLatents, levels: levels), from: originals)
        let moved = try Self.search(from: startLatents, target: options.targetClass, config: options.latentSearch) { latentClassifier($0) }
        let decoded = try space.decode(moved.points, levels: levels)
        latent = Search(images: decoded, measures: try judge.measure(decoded, from: originals),
                        reachedShare: moved.reachedShare, meanSteps: moved.meanSteps)

        let pixelClassifier: (Tensor) -> Tensor
        switch options.pixelAttack {
        case .yardstick:
            pixelClassifier = { yardstick.classifier($0) }
            pixelClassifierAccuracy = nil
        case .classifier:
            // The same recipe as the latent classifier's, on the same noisy copies in pixel space.
            let pixels = LatentSpace.greyValues(LatentSpace.points(repeatedTrain, levels: levels, uniform: uniform), levels: levels)
            let trained = Self.trainClassifier(pixels, labels: repeatedLabels, steps: options.classifierSteps, generator: &classifierGenerator)
            pixelClassifier = { trained($0) }
            pixelClassifierAccuracy = try classificationAccuracy(logits: withoutGradients { trained(test) }, labels: testLabels)
        }
        // The search runs on unconstrained pixels that the classifier sees clamped to [0, 1], so
        // the images it reports are the ones it was scored on.
        let attacked = try Self.search(from: originals, target: options.targetClass, config: options.pixelSearch) {
            pixelClassifier($0.clamp(min: 0, max: 1))
        }
        let attackedImages = attacked.points.clamp(min: 0, max: 1)
        pixel = Search(images: attackedImages, measures: try judge.measure(attackedImages, from: originals),
                       reachedShare: attacked.reachedShare, meanSteps: attacked.meanSteps)
    }

    /// One search per row, so every row stops at its own target probability (the library's search
    /// of a batch runs until the slowest row arrives, which would carry the others further).
    private static func search(from start: Tensor, target: Int, config: CounterfactualConfig,
                               classifier: @escaping (Tensor) -> Tensor) throws -> (points: Tensor, reachedShare: Double, meanSteps: Double) {
        var rows: [Tensor] = [], reached = 0, steps = 0
        for row in 0..<start.shape[0] {
            let result = try counterfactual(from: start.slice(alongAxis: 0, start: row, end: row + 1), targetClasses: [target],
                                            classifier: classifier, config: config)
            rows.append(result.points)
            reached += result.reachedTarget ? 1 : 0
            steps += result.steps
        }
        let count = Double(start.shape[0])
        return (Tensor.concatenate(rows, alongAxis: 0), Double(reached) / count, Double(steps) / count)
    }

    /// An MLP `[d, 128, 10]` trained by Adam (learning rate 10⁻³, batches of 128) on `inputs`
    /// `[n, d]`: the same recipe for the latent and the pixel classifier. The default 3,000 steps
    /// are about 65 passes over the four copies of the 1,437 training digits.
    static func trainClassifier(_ inputs: Tensor, labels: [Int], steps: Int, generator: inout RandomGenerator) -> MLP {
        let classifier = MLP(sizes: [inputs.shape[1], 128, 10], activation: .relu, generator: &generator)
        let optimizer = Adam(parameters: classifier.namedParameters(), learningRate: 1e-3)
        withGradientMode(true) {
            for _ in 0..<steps {
                let batch = (0..<128).map { _ in generator.nextInt(below: inputs.shape[0]) }
                let logits = classifier(inputs.indexSelect(alongAxis: 0, indices: Tensor(batch.map(Float.init))))
                let loss = crossEntropy(logits: logits, targets: Tensor(batch.map { Float(labels[$0]) }))
                optimizer.zeroGradients()
                loss.backward()
                optimizer.step()
            }
        }
        classifier.eval()
        return classifier
    }

    static func rows(of images: Tensor, where keep: [Bool]) -> Tensor {
        images.indexSelect(alongAxis: 0, indices: Tensor(keep.indices.filter { keep[$0] }.map(Float.init)))
    }
}

/// The yardstick's view of a set of images against the target class, for `LatentCounterfactualStudy`.
struct CounterfactualJudge {
    let yardstick: Yardstick
    let targetClass: Int
    /// The yardstick features of the training digits of the target class, and their Gaussian.
    let referenceFeatures: Tensor
    let referenceFit: GaussianFit

    init(yardstick: Yardstick, targetClass: Int, reference: Tensor) throws {
        self.yardstick = yardstick
        self.targetClass = targetClass
        referenceFeatures = yardstick.features(reference)
        referenceFit = try GaussianFit(features: referenceFeatures)
    }

    /// `images` `[count, 64]`; `originals` the digits they came from (nil: no pixel change). An
    /// image with a non-finite pixel (a flow's inverse can overflow far from the data) counts as a
    /// miss and is left out of the distances, which are over the others.
    func measure(_ images: Tensor, from originals: Tensor?) throws -> LatentCounterfactualStudy.Measures {
        let size = images.shape[1], values = images.scalars
        let finite = (0..<images.shape[0]).filter { row in values[(row * size)..<((row + 1) * size)].allSatisfy(\.isFinite) }
        guard finite.count >= 2 else {
            throw TrainingError("only \(finite.count) of \(images.shape[0]) images are finite: nothing to measure")
        }
        let index = Tensor(finite.map(Float.init))
        let kept = images.indexSelect(alongAxis: 0, indices: index)
        let probabilities = withoutGradients { yardstick.classifier(kept).softmax(alongAxis: 1) }
        var predicted = [Int](repeating: -1, count: images.shape[0])
        for (offset, row) in probabilities.argmax(alongAxis: 1).scalars.enumerated() { predicted[finite[offset]] = Int(row) }
        let count = Double(images.shape[0])
        let features = yardstick.features(kept)
        return LatentCounterfactualStudy.Measures(
            successRate: Double(predicted.filter { $0 == targetClass }.count) / count,
            targetProbability: (0..<finite.count).reduce(0) { $0 + Double(probabilities[element: $1, targetClass]) } / count,
            frechetDistance: try frechetDistance(referenceFit, GaussianFit(features: features)),
            nearestFeatureDistance: nearestDistances(features).reduce(0, +) / Double(finite.count),
            meanPixelChange: originals.map { Self.meanAbsoluteDifference(kept, $0.indexSelect(alongAxis: 0, indices: index)) } ?? 0,
            predictedClasses: predicted,
            nonFiniteCount: images.shape[0] - finite.count)
    }

    /// The mean of `|a − b|` over every element, summed in `Double` from the scalars (one run of
    /// the Glow study reported NaN for `(a − b).abs().mean()` with every image finite; not
    /// reproduced since, so the cause is still open).
    static func meanAbsoluteDifference(_ a: Tensor, _ b: Tensor) -> Double {
        let (x, y) = (a.scalars, b.scalars)
        return zip(x, y).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) } / Double(max(x.count, 1))
    }

    /// Each row's Euclidean distance to its nearest reference feature vector.
    private func nearestDistances(_ features: Tensor) -> [Double] {
        let d = features.shape[1], values = features.scalars, reference = referenceFeatures.scalars
        return (0..<features.shape[0]).map { row in
            var best = Double.infinity
            for other in 0..<referenceFeatures.shape[0] {
                var sum = 0.0
                for j in 0..<d {
                    let difference = Double(values[row * d + j] - reference[other * d + j])
                    sum += difference * difference
                }
                best = min(best, sum)
            }
            return best.squareRoot()
        }
    }
}

/// A generator's latent space as the counterfactual search sees it: flat latents `[count, d]` of
/// digits `[count, 64]` (grey values `k / (levels − 1)`), and back.
struct LatentSpace {
    let network: GenerativeNetwork

    init(_ network: GenerativeNetwork, kind: GenerativeModelSection.Kind) throws {
        try Self.check(kind)
        self.network = network
    }

    /// Dimensions of a flat latent: the VAE's `z`, or a flow's 64 (a bijection keeps the size).
    var dimensions: Int {
        if case .vae(let vae) = network.model { return vae.config.latentDimensions }
        return GenerativeNetwork.dimensions
    }

    /// The dequantised points `(k + u) / levels` the generator models, `[count, 64]`; without
    /// `uniform`, each cell's centre `u = ½`.
    static func points(_ images: Tensor, levels: Int, uniform: Tensor? = nil) -> Tensor {
        let top = Float(levels - 1)
        let flat = images.reshape([images.shape[0], GenerativeNetwork.dimensions])
        let indices = Tensor(shape: flat.shape, scalars: flat.scalars.map { ($0 * top).rounded() })
        return (indices + (uniform ?? Tensor.full(flat.shape, 0.5))) / Float(levels)
    }

    /// Grey values of points `y`: `(levels · y − ½) / (levels − 1)` in [0, 1], which maps every
    /// cell's centre back to its `k / (levels − 1)`.
    static func greyValues(_ points: Tensor, levels: Int) -> Tensor {
        ((points * Float(levels) - 0.5) / Float(levels - 1)).clamp(min: 0, max: 1)
    }

    /// Latents `[count, dimensions]` of `images`, at the cells' centres or at the points of the
    /// dequantisation noise `uniform` `[count, 64]`; a VAE's are its encoder's means, or with
    /// `posteriorNoise` `[count, dimensions]` a sample of its posterior (flows ignore it).
    func encode(_ images: Tensor, levels: Int, uniform: Tensor? = nil, posteriorNoise: Tensor? = nil) throws -> Tensor {
        let count = images.shape[0]
        let y = Self.points(images, levels: levels, uniform: uniform)
        return try withoutGradients {
            switch network.model {
            case .vae(let vae):
                let (mean, logVariance) = try vae.encode(y)
                guard let posteriorNoise else { return mean }
                return try VAE.reparameterize(mean: mean, logVariance: logVariance, noise: posteriorNoise)
            case .nice(let nice):
                return try nice.forward(y - 0.5).output
            case .realNVP(let flow):
                return try Self.flatten(flow.flow.forward((y - 0.5).reshape([count] + GenerativeNetwork.imageShape)).latents)
            case .glow(let glow):
                return try Self.flatten(glow.flow.forward((y - 0.5).reshape([count] + GenerativeNetwork.imageShape)).latents)
            case .pixelCNN, .ddpm:
                throw TrainingError("a \(network.module is PixelCNN ? "pixelcnn" : "ddpm") has no latent space this search can move in")
            }
        }
    }

    /// Grey values `[count, 64]` in [0, 1] of latents `[count, d]`.
    func decode(_ z: Tensor, levels: Int) throws -> Tensor {
        let count = z.shape[0]
        let points: Tensor = try withoutGradients {
            switch network.model {
            case .vae(let vae):
                return try vae.decode(z)
            case .nice(let nice):
                return try nice.inverse(z) + 0.5
            case .realNVP(let flow):
                return try flow.flow.inverse(Self.unflatten(z, shapes: flow.flow.latentShapes())) + 0.5
            case .glow(let glow):
                return try glow.flow.inverse(Self.unflatten(z, shapes: glow.flow.latentShapes())) + 0.5
            case .pixelCNN, .ddpm:
                throw TrainingError("a \(network.module is PixelCNN ? "pixelcnn" : "ddpm") has no latent space this search can move in")
            }
        }
        return Self.greyValues(points.reshape([count, GenerativeNetwork.dimensions]), levels: levels)
    }

    /// Every level's latents `[count, …]`, flattened and side by side: `[count, d]`.
    static func flatten(_ latents: [Tensor]) -> Tensor {
        Tensor.concatenate(latents.map { $0.reshape([$0.shape[0], -1]) }, alongAxis: 1)
    }

    static func unflatten(_ z: Tensor, shapes: [[Int]]) -> [Tensor] {
        var start = 0
        return shapes.map { shape in
            let size = shape.reduce(1, *)
            defer { start += size }
            return z.slice(alongAxis: 1, start: start, end: start + size).reshape([z.shape[0]] + shape)
        }
    }
}
