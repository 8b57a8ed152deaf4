import Foundation
import TesseraTensor

/// k-means clustering of features `[N, d]`: k-means++ seeding (Arthur & Vassilvitskii 2007,
/// "k-means++: The Advantages of Careful Seeding", in the greedy form scikit-learn uses: each new centre is the best of `2 + ⌊ln k⌋` candidates drawn with
/// probability ∝ D²), then Lloyd's iterations (Lloyd 1982) until no point changes cluster or the
/// centres move less than `tolerance` × the mean per-feature variance (scikit-learn's rule).
/// Several seeded restarts keep the lowest inertia (sum of squared distances to the centres).
///
/// A cluster that loses all its points is re-seeded at the point farthest from its centre.
///
/// ```swift
/// let clustering = try KMeans.fit(features, clusterCount: 10, seed: 0)
/// let nmi = try ClusteringScores.normalizedMutualInformation(labels, clustering.assignments)
/// ```
public struct KMeans {
    /// The centres `[k, d]`.
    public let centroids: Tensor
    /// The cluster of each training row, `[N]` (whole numbers in `0..<k`).
    public let assignments: Tensor
    /// The sum of squared distances of the rows to their centres.
    public let inertia: Double
    /// Lloyd iterations of the restart that was kept.
    public let iterations: Int

    /// Clusters `features` `[N, d]` into `clusterCount` groups; restart `r` draws from
    /// `RandomGenerator(seed: seed).derived(stream: r)`.
    public static func fit(_ features: Tensor, clusterCount: Int, restarts: Int = 10, maximumIterations: Int = 300,
                           tolerance: Double = 1e-4, seed: UInt64) throws -> KMeans {
        let data = try FeatureMatrix(features, name: "k-means features")
        guard clusterCount >= 1, clusterCount <= data.rowCount else {
            throw SelfSupervisedError("k-means clusterCount must be in 1...\(data.rowCount) (the number of rows), got \(clusterCount)")
        }
        guard restarts >= 1 else { throw SelfSupervisedError("k-means restarts must be ≥ 1, got \(restarts)") }
        guard maximumIterations >= 1 else { throw SelfSupervisedError("k-means maximumIterations must be ≥ 1, got \(maximumIterations)") }
        let shiftTolerance = tolerance * meanColumnVariance(data)
        let lengths = data.squaredRowLengths
        var best: KMeans?
        for restart in 0..<restarts {
            var generator = RandomGenerator(seed: seed).derived(stream: UInt64(restart))
            let result = lloyd(data, lengths: lengths, centres: seedCentres(data, lengths: lengths, count: clusterCount, generator: &generator),
                               maximumIterations: maximumIterations, shiftTolerance: shiftTolerance)
            if best == nil || result.inertia < best!.inertia { best = result }
        }
        return best!
    }

    /// The nearest centre of each row of `features` `[M, d]`, `[M]`.
    public func assign(_ features: Tensor) throws -> Tensor {
        let data = try FeatureMatrix(features, name: "k-means features")
        try data.requireColumns(centroids.shape[1], of: "the k-means centroids")
        let centres = FeatureMatrix(rowCount: centroids.shape[0], columnCount: centroids.shape[1], values: centroids.scalars)
        return Tensor(nearestCentres(data, centres, lengths: data.squaredRowLengths).map { Float($0.centre) })
    }

    /// Greedy k-means++: each centre after a uniformly drawn first one is the candidate (drawn
    /// ∝ squared distance to the nearest chosen centre) that most lowers the total.
    private static func seedCentres(_ data: FeatureMatrix, lengths: [Float], count: Int, generator: inout RandomGenerator) -> FeatureMatrix {
        let d = data.columnCount
        func row(_ i: Int) -> ArraySlice<Float> { data.values[(i * d)..<((i + 1) * d)] }
        func distancesTo(_ i: Int) -> [Double] {
            let centre = FeatureMatrix(rowCount: 1, columnCount: d, values: Array(row(i)))
            return squaredDistances(data, centre, squaredLengthsOfA: lengths).map(Double.init)
        }
        var chosen = [generator.nextInt(below: data.rowCount)]
        var closest = distancesTo(chosen[0])
        let trials = 2 + Int(log(Double(count)))
        while chosen.count < count {
            let total = closest.reduce(0, +)
            var bestCandidate = -1, bestClosest: [Double] = [], bestTotal = Double.infinity
            for _ in 0..<trials {
                // Draw index i with probability closest[i] / total (uniform if every point is a centre).
                var target = Double(generator.nextUniform()) * total, candidate = data.rowCount - 1
                if total > 0 {
                    for (i, distance) in closest.enumerated() where distance > 0 {
                        target -= distance
                        if target < 0 { candidate = i; break }
                    }
                } else {
                    candidate = generator.nextInt(below: data.rowCount)
                }
                let updated = zip(closest, distancesTo(candidate)).map { min($0, $1) }
                let updatedTotal = updated.reduce(0, +)
                if updatedTotal < bestTotal { (bestCandidate, bestClosest, bestTotal) = (candidate, updated, updatedTotal) }
            }
            chosen.append(bestCandidate)
            closest = bestClosest
        }
        return FeatureMatrix(rowCount: count, columnCount: d, values: chosen.flatMap { row($0) })
    }

    /// Lloyd's iterations from `centres`; `lengths` are the rows' squared lengths.
    private static func lloyd(_ data: FeatureMatrix, lengths: [Float], centres initial: FeatureMatrix, maximumIterations: Int,
                              shiftTolerance: Double) -> KMeans {
        let n = data.rowCount, d = data.columnCount, k = initial.rowCount
        var centres = initial
        var nearest = nearestCentres(data, centres, lengths: lengths)
        var iterations = 0
        while iterations < maximumIterations {
            iterations += 1
            // The clusters' sums as one product: (one-hot assignments [n, k])ᵀ · data [n, d].
            var membership = [Float](repeating: 0, count: n * k), sizes = [Int](repeating: 0, count: k)
            for i in 0..<n {
                membership[i * k + nearest[i].centre] = 1
                sizes[nearest[i].centre] += 1
            }
            var sums = [Float](repeating: 0, count: k * d)
            membership.withUnsafeBufferPointer { a in
                data.values.withUnsafeBufferPointer { b in
                    sums.withUnsafeMutableBufferPointer { c in
                        BLAS.sgemm(transposeA: true, transposeB: false, m: k, n: d, k: n, a: a.baseAddress!, leadingA: k,
                                   b: b.baseAddress!, leadingB: d, c: c.baseAddress!, leadingC: d)
                    }
                }
            }
            var updated = centres
            var taken = Set<Int>()
            for c in 0..<k {
                if sizes[c] > 0 {
                    for j in 0..<d { updated.values[c * d + j] = sums[c * d + j] / Float(sizes[c]) }
                } else {
                    // An empty cluster restarts at the point worst served by its current centre.
                    let far = (0..<n).filter { !taken.contains($0) }.max { nearest[$0].distance < nearest[$1].distance }!
                    taken.insert(far)
                    for j in 0..<d { updated.values[c * d + j] = data.values[far * d + j] }
                }
            }
            let shift = zip(updated.values, centres.values).reduce(0.0) { $0 + pow(Double($1.0 - $1.1), 2) }
            centres = updated
            let reassigned = nearestCentres(data, centres, lengths: lengths)
            let unchanged = zip(reassigned, nearest).allSatisfy { $0.centre == $1.centre }
            nearest = reassigned
            if unchanged || shift <= shiftTolerance { break }
        }
        // The inertia in double precision from the differences, not the expanded product.
        var inertia = 0.0
        for i in 0..<n {
            let c = nearest[i].centre
            for j in 0..<d { inertia += pow(Double(data.values[i * d + j] - centres.values[c * d + j]), 2) }
        }
        return KMeans(centroids: Tensor(shape: [k, d], scalars: centres.values),
                      assignments: Tensor(nearest.map { Float($0.centre) }), inertia: inertia, iterations: iterations)
    }
}

/// For each row, its nearest centre (ties: the smaller index) and the squared distance to it.
private func nearestCentres(_ data: FeatureMatrix, _ centres: FeatureMatrix, lengths: [Float]) -> [(centre: Int, distance: Float)] {
    let distances = squaredDistances(data, centres, squaredLengthsOfA: lengths), k = centres.rowCount
    return (0..<data.rowCount).map { i in
        var best = 0
        for c in 1..<max(k, 1) where distances[i * k + c] < distances[i * k + best] { best = c }
        return (best, distances[i * k + best])
    }
}

/// The mean over columns of each column's (population) variance.
private func meanColumnVariance(_ data: FeatureMatrix) -> Double {
    let n = data.rowCount, d = data.columnCount
    var total = 0.0
    for j in 0..<d {
        let column = (0..<n).map { Double(data.values[$0 * d + j]) }
        let mean = column.reduce(0, +) / Double(n)
        total += column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
    }
    return total / Double(d)
}
