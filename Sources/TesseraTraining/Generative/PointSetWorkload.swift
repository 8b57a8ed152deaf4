import Foundation
import TesseraGenerative
import TesseraNN
import TesseraPicture
import TesseraTensor

/// Maximum likelihood of G-SchNet's atom-by-atom placements on generated molecules: each step's
/// loss is the mean negative log-likelihood in nats per set of the step's batch; a shard's part is
/// its sets' summed likelihood over the global batch's size, so the parts add up to the mean.
///
/// Every evaluation logs the held-out sets' `test_nll_nats` and, of `evaluation.samples` sets
/// sampled from the evaluation stream (the same seed every time): `valid_share` (sets that are one
/// of the templates), `distance_histogram_tv` (total variation between their pairwise-distance
/// histogram and the training sets'), `type_histogram_tv` and `size_histogram_tv` (the same for
/// atom types and atom counts). The same measures of as many held-out sets (`data_…`: the floor a
/// perfect generator reaches with that many samples) and of two model-free baselines, each given
/// a training set's atoms and count: `random_…` places them uniformly in the disc the training
/// sets span, `bonded_…` puts every atom one bond length from a random earlier one in a random
/// direction (it knows the bond length, not the shapes). The first 24 samples go to `samples.png`.
final class PointSetWorkload: StepWorkload {
    let recipe: PointSetRecipe
    let network: GSchNet
    let train: [PointSet], test: [PointSet]
    var model: any Module { network }
    let primaryMetric = "valid_share"
    var progressMetrics: [String] { ["distance_histogram_tv"] }
    var shardsAreIndependent: Bool { true }
    var metadata: [String: String] { ["generator": PointSetModelSection.kind] }
    private let run: RunDirectory
    /// Measures that do not change during training: the held-out sets' and the baselines'.
    private var fixedMetrics: [String: Double]?

    init(_ recipe: PointSetRecipe, runDirectory: RunDirectory, generator: inout RandomGenerator) throws {
        self.recipe = recipe
        run = runDirectory
        network = try GSchNet(config: recipe.model.config, generator: &generator)
        // Streams of their own, far from the steps' batch streams (`batchGenerator`, one per step).
        let data = RandomGenerator(seed: recipe.seed).derived(stream: RandomStreams.data)
        var trainStream = data.derived(stream: UInt64.max - 1), testStream = data.derived(stream: UInt64.max - 2)
        train = try MoleculeTemplates.generate(count: recipe.data.trainSets, noise: recipe.data.noise, generator: &trainStream)
        test = try MoleculeTemplates.generate(count: recipe.data.testSets, noise: recipe.data.noise, generator: &testStream)
    }

    func trainingLoss(step: Int, shard: BatchShard) -> (loss: Tensor, examples: Int) {
        let batch = stepBatch(seed: recipe.seed, step: step, batchSize: recipe.data.batchSize, count: train.count)
        let rows = shard.rows(of: batch.count)
        guard !rows.isEmpty else { return (Tensor(0), 0) }
        do {
            let nll = try network.negativeLogLikelihood(batch[rows].map { train[$0] })
            return (nll * (Float(rows.count) / Float(batch.count)), rows.count)
        } catch {
            return (Tensor([Float.nan]).sum(), rows.count)
        }
    }

    func evaluate() -> [String: Double] {
        withoutGradients {
            var metrics: [String: Double] = [:]
            do {
                let nll = Double(try network.negativeLogLikelihood(test).item)
                metrics["test_nll_nats"] = nll
                metrics["test_loss"] = nll
                var generator = evaluationGenerator(seed: recipe.seed)
                let samples = try network.sample(count: recipe.evaluation.samples, temperature: recipe.evaluation.temperature,
                                                 generator: &generator)
                try metrics.merge(measures(samples, prefix: "")) { $1 }
                if fixedMetrics == nil { fixedMetrics = try referenceMetrics(generator: generator.derived(stream: 1)) }
                metrics.merge(fixedMetrics!) { $1 }
                try Self.drawSamples(Array(samples.prefix(24)), tolerance: recipe.evaluation.tolerance)
                    .writePNG(to: run.url.appendingPathComponent("samples.png"))
            } catch {
                print("generative: evaluation failed: \(error)")
                metrics["valid_share"] = .nan
            }
            return metrics
        }
    }

    /// The held-out sets' and the baselines' measures, with `evaluation.samples` sets each.
    private func referenceMetrics(generator: RandomGenerator) throws -> [String: Double] {
        var generator = generator
        let count = recipe.evaluation.samples
        let radius = train.flatMap { $0.positions.map { ($0[0] * $0[0] + $0[1] * $0[1]).squareRoot() } }.max() ?? 1
        var random: [PointSet] = [], bonded: [PointSet] = []
        for _ in 0..<count {
            let types = train[generator.nextInt(below: train.count)].types
            random.append(try PointSet(positions: types.map { _ in
                // Uniform in the disc: the radius goes as the square root of a uniform number.
                let (r, theta) = (radius * generator.nextUniform().squareRoot(), 2 * Float.pi * generator.nextUniform())
                return [r * cos(theta), r * sin(theta)]
            }, types: types))
            var positions: [[Float]] = [[0, 0]]
            while positions.count < types.count {
                let anchor = positions[generator.nextInt(below: positions.count)], theta = 2 * Float.pi * generator.nextUniform()
                positions.append([anchor[0] + cos(theta), anchor[1] + sin(theta)])
            }
            bonded.append(try PointSet(positions: positions, types: types))
        }
        var metrics = try measures(Array(test.prefix(count)), prefix: "data_")
        try metrics.merge(measures(random, prefix: "random_")) { $1 }
        try metrics.merge(measures(bonded, prefix: "bonded_")) { $1 }
        return metrics
    }

    /// Validity and the three histogram distances of `sets` against the training sets.
    func measures(_ sets: [PointSet], prefix: String) throws -> [String: Double] {
        let bins = recipe.evaluation.histogramBins
        let typeHistogram = { (sets: [PointSet]) -> [Double] in
            Self.normalised(sets.flatMap(\.types), bins: MoleculeTemplates.typeCount)
        }
        let sizeHistogram = { (sets: [PointSet]) -> [Double] in
            Self.normalised(sets.map { $0.count - 1 }, bins: max(self.recipe.model.maximumAtoms, 4))
        }
        // A set of one atom has no pair: a histogram of samples that are all single atoms is empty,
        // as far from the data's as a histogram can be.
        let distances: Double
        if sets.contains(where: { $0.count >= 2 }) {
            distances = try histogramDistance(pairwiseDistanceHistogram(sets, bins: bins), pairwiseDistanceHistogram(train, bins: bins))
        } else {
            distances = 1
        }
        return [prefix + "valid_share": MoleculeTemplates.validShare(sets, tolerance: recipe.evaluation.tolerance),
                prefix + "distance_histogram_tv": distances,
                prefix + "type_histogram_tv": try histogramDistance(typeHistogram(sets), typeHistogram(train)),
                prefix + "size_histogram_tv": try histogramDistance(sizeHistogram(sets), sizeHistogram(train))]
    }

    /// The share of `values` equal to each of `0..<bins` (larger values count in the last bin).
    static func normalised(_ values: [Int], bins: Int) -> [Double] {
        var counts = [Double](repeating: 0, count: bins)
        for value in values { counts[min(max(value, 0), bins - 1)] += 1 }
        return counts.map { $0 / Double(max(values.count, 1)) }
    }

    /// `sets` drawn six to a row, 20 pixels per bond length around each set's centroid: atoms as
    /// discs coloured by type, bonds between atoms closer than 1.25, and whether the set is valid.
    static func drawSamples(_ sets: [PointSet], tolerance: Float) -> RGBImage {
        let columns = 6, panel = 96, caption = 12, scale: Float = 20
        let rows = max((sets.count + columns - 1) / columns, 1)
        var image = RGBImage(width: columns * panel, height: rows * (panel + caption))
        let colors: [(UInt8, UInt8, UInt8)] = [(200, 40, 40), (40, 80, 200), (60, 150, 60)]
        for (index, set) in sets.enumerated() {
            let left = (index % columns) * panel, top = (index / columns) * (panel + caption)
            image.fill(x: left + 1, y: top + 1, width: panel - 2, height: panel - 2, color: (245, 245, 245))
            let centred = set.centred.positions
            let pixel = { (p: [Float]) -> (Int, Int) in
                (left + panel / 2 + Int((p[0] * scale).rounded()), top + panel / 2 - Int((p[1] * scale).rounded()))
            }
            for i in 0..<set.count {
                for j in (i + 1)..<max(set.count, i + 1) where distance(centred[i], centred[j]) < 1.25 {
                    let (a, b) = (pixel(centred[i]), pixel(centred[j]))
                    image.drawLine(a.0, a.1, b.0, b.1, color: (120, 120, 120), thickness: 2)
                }
            }
            for (position, type) in zip(centred, set.types) {
                let (x, y) = pixel(position)
                image.fillCircle(x: x, y: y, radius: 4, color: colors[type % colors.count])
            }
            let valid = MoleculeTemplates.isValid(set, tolerance: tolerance)
            image.draw(text: valid ? "valid" : "invalid", x: left + 4, y: top + panel + 2, color: valid ? (0, 140, 0) : (200, 0, 0))
        }
        return image
    }

    static func distance(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
    }
}
