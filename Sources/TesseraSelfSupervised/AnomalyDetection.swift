import Foundation
import TesseraTensor

/// Anomaly detection on frozen features: a point is as anomalous as it is far from its k-th
/// nearest normal training feature (Ramaswamy, Rastogi & Shim 2000, "Efficient Algorithms for
/// Mining Outliers from Large Data Sets"; on self-supervised features as in Bergman, Cohen &
/// Hoshen 2020, "Deep Nearest Neighbor Anomaly Detection"). The evaluation holds one class out of
/// training and scores how well it stands out by the area under the ROC curve.
///
/// ```swift
/// let detector = try NearestNeighbourAnomalyDetector(normalFeatures: normalTrain, neighbourCount: 5)
/// let auroc = try areaUnderROCCurve(scores: try detector.scores(test), labels: isOutlier)
/// ```
public struct NearestNeighbourAnomalyDetector {
    /// How far a point is from a normal feature.
    public enum Distance: Sendable {
        /// Euclidean distance.
        case euclidean
        /// `1 − cosine similarity`.
        case cosine
    }

    /// Which neighbour's distance is the score (k = 1: the nearest).
    public let neighbourCount: Int
    /// The distance used.
    public let distance: Distance
    private let normal: FeatureMatrix

    /// Stores the normal features `[N, d]`; `neighbourCount` is in `1...N`.
    public init(normalFeatures: Tensor, neighbourCount: Int = 1, distance: Distance = .euclidean) throws {
        let features = try FeatureMatrix(normalFeatures, name: "normal features")
        guard neighbourCount >= 1, neighbourCount <= features.rowCount else {
            throw SelfSupervisedError("anomaly neighbourCount must be in 1...\(features.rowCount) (the normal features), got \(neighbourCount)")
        }
        normal = distance == .cosine ? features.rowNormalised() : features
        self.neighbourCount = neighbourCount
        self.distance = distance
    }

    /// The anomaly score of each row of `features` `[M, d]`, `[M]`: its distance to the k-th
    /// nearest normal feature (larger is more anomalous).
    public func scores(_ features: Tensor) throws -> Tensor {
        var queries = try FeatureMatrix(features, name: "anomaly queries")
        try queries.requireColumns(normal.columnCount, of: "the normal features")
        // Rank by a "larger is nearer" value so one selection routine serves both distances.
        let closeness: [Float]
        switch distance {
        case .euclidean: closeness = squaredDistances(queries, normal).map { -$0 }
        case .cosine:
            queries = queries.rowNormalised()
            closeness = cosineSimilarities(queries, normal)
        }
        let width = normal.rowCount
        return Tensor((0..<queries.rowCount).map { query in
            let row = closeness[(query * width)..<((query + 1) * width)]
            let kth = row[row.startIndex + largestIndices(row, count: neighbourCount).last!]
            return distance == .euclidean ? (-kth).squareRoot() : 1 - kth
        })
    }

    /// Holds `outlierClass` out: fits on the training rows of every other class and returns the
    /// AUROC of the scores on the test rows, with the held-out class's rows as the positives.
    public static func heldOutClassAUROC(trainFeatures: Tensor, trainLabels: Tensor, testFeatures: Tensor, testLabels: Tensor,
                                         outlierClass: Int, neighbourCount: Int = 1, distance: Distance = .euclidean) throws -> Double {
        let train = try FeatureMatrix(trainFeatures, name: "anomaly train features")
        let labels = try classLabels(trainLabels, count: train.rowCount, name: "anomaly train labels")
        let normalRows = labels.indices.filter { labels[$0] != outlierClass }
        guard !normalRows.isEmpty else { throw SelfSupervisedError("anomaly training set has no row outside the held-out class \(outlierClass)") }
        let d = train.columnCount
        let normal = Tensor(shape: [normalRows.count, d], scalars: normalRows.flatMap { train.values[($0 * d)..<(($0 + 1) * d)] })
        let detector = try NearestNeighbourAnomalyDetector(normalFeatures: normal, neighbourCount: neighbourCount, distance: distance)
        let test = try classLabels(testLabels, count: testFeatures.shape.first ?? 0, name: "anomaly test labels")
        return try areaUnderROCCurve(scores: try detector.scores(testFeatures),
                                     labels: Tensor(test.map { $0 == outlierClass ? 1 : 0 }))
    }
}

/// The area under the ROC curve of `scores` `[N]` for binary `labels` `[N]` (1 = positive, e.g.
/// an outlier; 0 = negative): the probability that a random positive scores above a random
/// negative, a tie counting one half (the Mann–Whitney statistic; Hanley & McNeil 1982). With
/// ties this equals the trapezoidal area of scikit-learn's `roc_auc_score`. Computed from mid-ranks.
public func areaUnderROCCurve(scores: Tensor, labels: Tensor) throws -> Double {
    guard scores.rank == 1, labels.shape == scores.shape else {
        throw SelfSupervisedError("AUROC needs scores [N] and labels [N], got shapes \(scores.shape) and \(labels.shape)")
    }
    let values = scores.scalars, classes = labels.scalars
    if let bad = values.firstIndex(where: { !$0.isFinite }) { throw SelfSupervisedError("AUROC score \(bad) is \(values[bad]); scores must be finite") }
    if let bad = classes.firstIndex(where: { $0 != 0 && $0 != 1 }) { throw SelfSupervisedError("AUROC label \(bad) is \(classes[bad]); labels must be 0 or 1") }
    let positives = classes.filter { $0 == 1 }.count, negatives = classes.count - positives
    guard positives > 0, negatives > 0 else {
        throw SelfSupervisedError("AUROC needs both classes, got \(positives) positives and \(negatives) negatives")
    }
    let order = values.indices.sorted { values[$0] < values[$1] }
    var positiveRankSum = 0.0, start = 0
    while start < order.count {
        var end = start
        while end + 1 < order.count, values[order[end + 1]] == values[order[start]] { end += 1 }
        let midRank = Double(start + end) / 2 + 1  // ranks from 1; a tied run shares its mean rank
        for position in start...end where classes[order[position]] == 1 { positiveRankSum += midRank }
        start = end + 1
    }
    let p = Double(positives)
    return (positiveRankSum - p * (p + 1) / 2) / (p * Double(negatives))
}
