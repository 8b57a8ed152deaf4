import Foundation
import TesseraTensor

/// A small "molecule": typed points in the plane or in space, the data of G-SchNet-style
/// autoregressive generation (Gebauer, Gastegger & Schütt, "Symmetry-adapted generation of 3d point
/// sets for the targeted discovery of molecules", NeurIPS 2019), at the scale of the notes.
public struct PointSet: Equatable, Sendable {
    /// One row per atom, `dimensions` coordinates each.
    public var positions: [[Float]]
    /// One type per atom, in `0..<typeCount`.
    public var types: [Int]

    public init(positions: [[Float]], types: [Int]) throws {
        guard positions.count == types.count else {
            throw GenerativeError("PointSet: expected one type per position, got \(positions.count) positions and \(types.count) types")
        }
        guard let width = positions.first?.count, width == 2 || width == 3, positions.allSatisfy({ $0.count == width }) else {
            throw GenerativeError("PointSet: expected at least one position, all with 2 or 3 coordinates")
        }
        self.positions = positions
        self.types = types
    }

    public var count: Int { types.count }
    public var dimensions: Int { positions[0].count }

    /// Every pairwise distance `i < j`, ascending.
    public var sortedDistances: [Float] {
        var result: [Float] = []
        for i in 0..<count { for j in (i + 1)..<max(count, i + 1) { result.append(distance(positions[i], positions[j])) } }
        return result.sorted()
    }

    /// The same set without the translation: the centroid moved to the origin.
    public var centred: PointSet {
        let centroid = (0..<dimensions).map { axis in positions.reduce(0) { $0 + $1[axis] } / Float(count) }
        var copy = self
        copy.positions = positions.map { zip($0, centroid).map { $0 - $1 } }
        return copy
    }
}

func distance(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
}

/// Rigid 2-D templates with typed atoms (bond length 1), drawn rotated, shifted and jittered: the
/// generated data set of the notes' small-scale G-SchNet experiment.
public enum MoleculeTemplates {
    /// A bent triatomic (type 1 in the middle, 104.5°), a triangle, a square and a chain of four.
    public static let templates: [PointSet] = {
        let angle = Float(104.5 * Double.pi / 180)
        return [
            try! PointSet(positions: [[0, 0], [1, 0], [cos(angle), sin(angle)]], types: [1, 0, 0]),
            try! PointSet(positions: [[0, 0], [1, 0], [0.5, Float(3.0.squareRoot() / 2)]], types: [0, 0, 2]),
            try! PointSet(positions: [[0, 0], [1, 0], [1, 1], [0, 1]], types: [2, 0, 2, 0]),
            try! PointSet(positions: [[0, 0], [1, 0], [2, 0], [3, 0]], types: [1, 1, 0, 0]),
        ].map(\.centred)
    }()

    /// Atom types used by the templates.
    public static let typeCount = 3

    /// `count` sets: a uniformly chosen template, rotated by a uniform angle, every coordinate
    /// jittered by `N(0, noise²)`, centred again (generation is translation invariant).
    public static func generate(count: Int, noise: Float = 0.02, generator: inout RandomGenerator) throws -> [PointSet] {
        guard count > 0 else { throw GenerativeError("MoleculeTemplates.generate: count must be positive, got \(count)") }
        guard noise >= 0, noise.isFinite else { throw GenerativeError("MoleculeTemplates.generate: noise must be non-negative and finite, got \(noise)") }
        return try (0..<count).map { _ in
            let template = templates[generator.nextInt(below: templates.count)]
            let theta = generator.nextUniform() * 2 * Float.pi
            let (c, s) = (cos(theta), sin(theta))
            let positions = template.positions.map { p in
                [c * p[0] - s * p[1] + noise * generator.nextNormal(), s * p[0] + c * p[1] + noise * generator.nextNormal()]
            }
            return try PointSet(positions: positions, types: template.types).centred
        }
    }

    /// Whether `set` is one of the templates: the same multiset of types and every sorted pairwise
    /// distance within `tolerance` of the template's (rotations, translations and reorderings allowed).
    public static func isValid(_ set: PointSet, tolerance: Float = 0.1) -> Bool {
        templates.contains { template in
            template.count == set.count && template.types.sorted() == set.types.sorted()
                && zip(template.sortedDistances, set.sortedDistances).allSatisfy { abs($0 - $1) <= tolerance }
        }
    }

    /// The share of `sets` that ``isValid(_:tolerance:)``.
    public static func validShare(_ sets: [PointSet], tolerance: Float = 0.1) -> Double {
        sets.isEmpty ? 0 : Double(sets.filter { isValid($0, tolerance: tolerance) }.count) / Double(sets.count)
    }
}

/// The normalised histogram of all pairwise distances in `sets`, `bins` equal bins over `[0, maximum)`
/// (longer distances fall in the last bin).
public func pairwiseDistanceHistogram(_ sets: [PointSet], bins: Int = 30, maximum: Float = 4) throws -> [Double] {
    guard bins > 0, maximum > 0 else { throw GenerativeError("pairwiseDistanceHistogram: bins and maximum must be positive, got \(bins) and \(maximum)") }
    var counts = [Double](repeating: 0, count: bins)
    for set in sets {
        for d in set.sortedDistances { counts[min(Int(d / maximum * Float(bins)), bins - 1)] += 1 }
    }
    let total = counts.reduce(0, +)
    guard total > 0 else { throw GenerativeError("pairwiseDistanceHistogram: the sets hold no pair of atoms") }
    return counts.map { $0 / total }
}

/// The total variation distance `½ Σ |p − q|` between two histograms, in `[0, 1]`.
public func histogramDistance(_ p: [Double], _ q: [Double]) throws -> Double {
    guard p.count == q.count else { throw GenerativeError("histogramDistance: both histograms need the same bins, got \(p.count) and \(q.count)") }
    return zip(p, q).reduce(0) { $0 + abs($1.0 - $1.1) } / 2
}
