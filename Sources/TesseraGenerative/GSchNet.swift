import Foundation
import TesseraNN
import TesseraTensor

/// G-SchNet-style autoregressive generation of typed point sets (Gebauer, Gastegger & Schütt,
/// "Symmetry-adapted generation of 3d point sets for the targeted discovery of molecules",
/// NeurIPS 2019), at the notes' small scale: atoms are placed one at a time. Given the atoms so far,
/// SchNet features (``ContinuousFilterConvolution``) predict the next atom's type or a stop token,
/// and, for that type, every placed atom's distribution over its distance to the new atom; the
/// position distribution on a grid is their product, normalised (the paper's distance-based
/// factorisation, §3.2). Depending on distances only, the model is invariant to rotations and
/// translations of the atoms placed so far.
///
/// Simplifications against the paper, kept small on purpose: no focus and origin tokens (the first
/// atom goes to the origin, the distances of all placed atoms shape the next position), the atoms
/// in the data's order rather than a learned or canonical one.
///
/// ```swift
/// let data = try MoleculeTemplates.generate(count: 256, generator: &rng)
/// let model = try GSchNet(config: GSchNetConfig(typeCount: MoleculeTemplates.typeCount), generator: &rng)
/// let loss = try model.negativeLogLikelihood(data[0..<32])
/// let molecules = try model.sample(count: 16, generator: &rng)
/// ```
public struct GSchNetConfig: Equatable, Sendable {
    /// Atom types; the type head has one more output, the stop token.
    public var typeCount: Int
    /// Atom feature size.
    public var features: Int = 32
    /// Interaction blocks (continuous-filter convolution plus a residual update).
    public var interactions: Int = 2
    /// Radial basis functions of the filters.
    public var basisCount: Int = 20
    /// Range of the radial basis.
    public var cutoff: Float = 4
    /// Bins of each atom's distance distribution, evenly over `[0, maximumDistance]`.
    public var distanceBins: Int = 40
    public var maximumDistance: Float = 4
    /// Width of the Gaussian that smooths a true distance into the target distribution over bins
    /// (the paper expands targets the same way).
    public var distanceSmoothing: Float = 0.1
    /// Spacing and half-width of the sampling grid (2-D: sampling places atoms in the plane; the
    /// likelihood itself takes 2-D or 3-D sets).
    public var gridSpacing: Float = 0.05
    public var gridExtent: Float = 3.5
    /// Sampling stops at this many atoms even without a stop token.
    public var maximumAtoms: Int = 8

    public init(typeCount: Int) {
        self.typeCount = typeCount
    }
}

public final class GSchNet: Module {
    public let config: GSchNetConfig
    public let embedding: Embedding
    public let convolutions: [ContinuousFilterConvolution]
    public let updates: [Linear]
    /// Pooled features → next type logits, the stop token last.
    public let typeHead: Linear
    /// The next atom's type, embedded and added to each atom's features before the distance head.
    public let nextTypeEmbedding: Embedding
    public let distanceHead: Linear
    /// `[typeCount]`, logits of the first atom's type (nothing placed yet).
    public let firstTypeLogits: Tensor

    public init(config: GSchNetConfig, generator: inout RandomGenerator) throws {
        guard config.typeCount > 0, config.features > 0, config.interactions >= 0, config.distanceBins >= 2 else {
            throw GenerativeError("GSchNet: typeCount and features must be positive, interactions non-negative, distanceBins at least 2")
        }
        guard config.maximumDistance > 0, config.distanceSmoothing > 0, config.gridSpacing > 0, config.gridExtent > 0, config.maximumAtoms >= 1 else {
            throw GenerativeError("GSchNet: maximumDistance, distanceSmoothing, gridSpacing, gridExtent must be positive and maximumAtoms at least 1")
        }
        self.config = config
        embedding = Embedding(vocabularySize: config.typeCount, dimensions: config.features, generator: &generator)
        convolutions = try (0..<config.interactions).map { _ in
            try ContinuousFilterConvolution(features: config.features, basisCount: config.basisCount, cutoff: config.cutoff, generator: &generator)
        }
        updates = (0..<config.interactions).map { _ in Linear(config.features, config.features, generator: &generator) }
        typeHead = Linear(config.features, config.typeCount + 1, generator: &generator)
        nextTypeEmbedding = Embedding(vocabularySize: config.typeCount, dimensions: config.features, generator: &generator)
        distanceHead = Linear(config.features, config.distanceBins, generator: &generator)
        firstTypeLogits = Tensor.zeros([config.typeCount]).requiringGradient()
    }

    /// Centres of the distance bins.
    public var binCentres: [Float] {
        (0..<config.distanceBins).map { Float($0) * config.maximumDistance / Float(config.distanceBins - 1) }
    }

    /// Atom features `[k, features]` of a partial set.
    func atomFeatures(positions: Tensor, types: [Int]) throws -> Tensor {
        if let bad = types.first(where: { $0 < 0 || $0 >= config.typeCount }) {
            throw GenerativeError("GSchNet: atom type \(bad) is out of range 0..<\(config.typeCount)")
        }
        var h = embedding(Tensor(types.map(Float.init)))
        for (convolution, update) in zip(convolutions, updates) {
            h = h + update(try convolution(h, positions: positions)).tanh()
        }
        return h
    }

    /// Log-probabilities of the next type, `[typeCount + 1]` (the stop token last), given the atoms so far.
    public func nextTypeLogProbabilities(positions: Tensor, types: [Int]) throws -> Tensor {
        let h = try atomFeatures(positions: positions, types: types)
        return typeHead(h.sum(alongAxes: [0])).logSoftmax(alongAxis: 0)
    }

    /// Each placed atom's log-probabilities over the bins of its distance to a new atom of `type`, `[k, distanceBins]`.
    public func distanceLogProbabilities(positions: Tensor, types: [Int], nextType: Int) throws -> Tensor {
        guard nextType >= 0, nextType < config.typeCount else {
            throw GenerativeError("GSchNet: next type \(nextType) is out of range 0..<\(config.typeCount)")
        }
        let h = try atomFeatures(positions: positions, types: types) + nextTypeEmbedding(Tensor([Float(nextType)]))
        return distanceHead(h).logSoftmax(alongAxis: 1)
    }

    /// The mean over `sets` of the negative log-likelihood of placing their atoms in order: the
    /// first type, then at every step the next type (or stop) and the smoothed distance targets.
    public func negativeLogLikelihood<Sets: Collection>(_ sets: Sets) throws -> Tensor where Sets.Element == PointSet {
        guard !sets.isEmpty else { throw GenerativeError("GSchNet.negativeLogLikelihood: needs at least one point set") }
        let centres = Tensor(binCentres)
        let width = 2 * config.distanceSmoothing * config.distanceSmoothing
        var total = Tensor(0)
        for set in sets {
            if let bad = set.types.first(where: { $0 < 0 || $0 >= config.typeCount }) {
                throw GenerativeError("GSchNet: atom type \(bad) is out of range 0..<\(config.typeCount)")
            }
            total = total - firstTypeLogits.logSoftmax(alongAxis: 0).select(alongAxis: 0, index: set.types[0])
            for placed in 1...set.count {
                let positions = Tensor(Array(set.positions[0..<placed]))
                let types = Array(set.types[0..<placed])
                let logTypes = try nextTypeLogProbabilities(positions: positions, types: types)
                let next = placed < set.count ? set.types[placed] : config.typeCount
                total = total - logTypes.select(alongAxis: 0, index: next)
                guard placed < set.count else { continue }
                let target = Tensor(set.positions[placed]).unsqueezed(axis: 0)
                let offsets = positions - target
                let distances = (offsets * offsets).sum(alongAxes: [1], keepDims: true).sqrt()  // [k, 1]
                let smoothed = ((distances - centres) * (distances - centres) * (-1 / width)).softmax(alongAxis: 1)
                let logDistances = try distanceLogProbabilities(positions: positions, types: types, nextType: next)
                total = total - (smoothed * logDistances).sum()
            }
        }
        return total / Float(sets.count)
    }

    /// The grid points `[g, dimensions]` around the origin (2-D).
    public var grid: Tensor {
        let axis = Array(stride(from: -config.gridExtent, through: config.gridExtent, by: config.gridSpacing))
        return Tensor(axis.flatMap { x in axis.map { y in [x, y] } })
    }

    /// `log p(r)` over the grid for a new atom of `nextType`: `Σᵢ log pᵢ(bin(‖r − rᵢ‖))`, normalised over the grid.
    public func positionLogProbabilities(positions: Tensor, types: [Int], nextType: Int, grid: Tensor) throws -> Tensor {
        let logDistances = try distanceLogProbabilities(positions: positions, types: types, nextType: nextType)
        let offsets = grid.unsqueezed(axis: 1) - positions.unsqueezed(axis: 0)           // [g, k, d]
        let distances = (offsets * offsets).sum(alongAxes: [2]).sqrt()                  // [g, k]
        let step = config.maximumDistance / Float(config.distanceBins - 1)
        let bins = Tensor(shape: distances.shape, scalars: distances.scalars.map { min(($0 / step).rounded(), Float(config.distanceBins - 1)) })
        // picked[j, g] = logDistances[j, bin of grid point g's distance to atom j].
        let picked = logDistances.gather(alongAxis: 1, indices: bins.transposed().copy())   // [k, g]
        let joint = picked.sum(alongAxes: [0])
        return joint - joint.logSumExp()
    }

    /// `count` point sets, sampled atom by atom with the type and position distributions sharpened by `temperature`.
    public func sample(count: Int, temperature: Float = 1, generator: inout RandomGenerator) throws -> [PointSet] {
        try checkTemperature(temperature, op: "GSchNet.sample")
        guard count > 0 else { throw GenerativeError("GSchNet.sample: count must be positive, got \(count)") }
        let grid = self.grid
        return try withoutGradients {
            try (0..<count).map { _ in
                let first = Tensor.categorical(probabilities: (firstTypeLogits / temperature).softmax(alongAxis: 0), generator: &generator).item
                var positions: [[Float]] = [[0, 0]], types = [Int(first)]
                while types.count < config.maximumAtoms {
                    let logTypes = try nextTypeLogProbabilities(positions: Tensor(positions), types: types)
                    let next = Int(Tensor.categorical(probabilities: (logTypes / temperature).softmax(alongAxis: 0), generator: &generator).item)
                    if next == config.typeCount { break }
                    let logPositions = try positionLogProbabilities(positions: Tensor(positions), types: types, nextType: next, grid: grid)
                    let index = Int(Tensor.categorical(probabilities: (logPositions / temperature).softmax(alongAxis: 0), generator: &generator).item)
                    positions.append([grid[element: index, 0], grid[element: index, 1]])
                    types.append(next)
                }
                return try PointSet(positions: positions, types: types)
            }
        }
    }
}
