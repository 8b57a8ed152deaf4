import Foundation
import TesseraTensor

/// Agreement between two labellings of the same items (true classes and clusters), invariant to
/// renaming the labels: normalised mutual information and the adjusted Rand index, with
/// scikit-learn's conventions so the numbers compare with published ones.
///
/// ```swift
/// let nmi = try ClusteringScores.normalizedMutualInformation(classes, clustering.assignments)
/// let ari = try ClusteringScores.adjustedRandIndex(classes, clustering.assignments)
/// ```
public enum ClusteringScores {
    /// `I(U; V) / ((H(U) + H(V)) / 2)` in nats — mutual information normalised by the arithmetic
    /// mean of the entropies (Strehl & Ghosh 2002, "Cluster Ensembles", used the geometric mean;
    /// Vinh, Epps & Bailey 2010 compare the variants), scikit-learn's `normalized_mutual_info_score` default. Two single-cluster labellings
    /// score 1; otherwise zero mutual information scores 0.
    public static func normalizedMutualInformation(_ first: Tensor, _ second: Tensor) throws -> Double {
        let table = try Contingency(first, second)
        if table.rowTotals.count == 1 && table.columnTotals.count == 1 { return 1 }
        let n = Double(table.itemCount)
        var mutualInformation = 0.0
        for (pair, count) in table.sortedCounts {
            let joint = Double(count) / n
            mutualInformation += joint * log(Double(count) * n / (Double(table.rowTotals[pair.row]) * Double(table.columnTotals[pair.column])))
        }
        // The sum of non-negative terms can come out a rounding error below zero.
        mutualInformation = max(0, mutualInformation)
        if mutualInformation == 0 { return 0 }
        func entropy(_ totals: [Int]) -> Double { -totals.reduce(0) { $0 + Double($1) / n * log(Double($1) / n) } }
        return mutualInformation / ((entropy(table.rowTotals) + entropy(table.columnTotals)) / 2)
    }

    /// The Rand index corrected for chance (Hubert & Arabie 1985, "Comparing partitions"),
    /// written through the pair-confusion counts as scikit-learn's `adjusted_rand_score`:
    /// `2 (TN·TP − FN·FP) / ((TP + FN)(FN + TN) + (TP + FP)(FP + TN))`, 1 when no pair disagrees.
    public static func adjustedRandIndex(_ first: Tensor, _ second: Tensor) throws -> Double {
        let table = try Contingency(first, second)
        let n = Double(table.itemCount)
        let sumOfSquares = table.sortedCounts.reduce(0.0) { $0 + Double($1.count) * Double($1.count) }
        let rowSquares = table.rowTotals.reduce(0.0) { $0 + Double($1) * Double($1) }
        let columnSquares = table.columnTotals.reduce(0.0) { $0 + Double($1) * Double($1) }
        // Ordered pairs: together in both, together only in the second, only in the first, in neither.
        let together = sumOfSquares - n
        let onlySecond = columnSquares - sumOfSquares
        let onlyFirst = rowSquares - sumOfSquares
        let neither = n * n - onlySecond - onlyFirst - sumOfSquares
        if onlyFirst == 0 && onlySecond == 0 { return 1 }
        return 2 * (neither * together - onlyFirst * onlySecond)
            / ((together + onlyFirst) * (onlyFirst + neither) + (together + onlySecond) * (onlySecond + neither))
    }
}

/// The contingency table of two labellings: how many items carry each (first, second) pair.
private struct Contingency {
    let itemCount: Int
    /// Items per first label (rows) and per second label (columns), in order of first appearance.
    var rowTotals: [Int] = [], columnTotals: [Int] = []
    var counts: [Pair: Int] = [:]

    struct Pair: Hashable { let row: Int, column: Int }

    /// The non-zero cells in a fixed order, so sums do not depend on hashing (which is seeded per process).
    var sortedCounts: [(pair: Pair, count: Int)] {
        counts.map { ($0.key, $0.value) }.sorted { ($0.pair.row, $0.pair.column) < ($1.pair.row, $1.pair.column) }
    }

    init(_ first: Tensor, _ second: Tensor) throws {
        guard first.rank == 1, second.rank == 1, first.shape == second.shape else {
            throw SelfSupervisedError("clustering scores need two label vectors of one length, got shapes \(first.shape) and \(second.shape)")
        }
        guard first.count > 0 else { throw SelfSupervisedError("clustering scores need at least one labelled item") }
        let a = try classLabels(first, count: first.count, name: "first labelling")
        let b = try classLabels(second, count: second.count, name: "second labelling")
        itemCount = a.count
        var rows: [Int: Int] = [:], columns: [Int: Int] = [:]
        for (x, y) in zip(a, b) {
            let row = rows[x] ?? rows.count, column = columns[y] ?? columns.count
            if row == rows.count { rows[x] = row; rowTotals.append(0) }
            if column == columns.count { columns[y] = column; columnTotals.append(0) }
            rowTotals[row] += 1
            columnTotals[column] += 1
            counts[Pair(row: row, column: column), default: 0] += 1
        }
    }
}
