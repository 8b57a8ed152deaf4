import Foundation
import TesseraTensor

/// k-nearest-neighbour classification and semantic search on frozen features `[N, d]` by cosine
/// similarity.
///
/// Two votes: `.uniform`, one vote per neighbour (scikit-learn's `KNeighborsClassifier` with
/// `metric="cosine"`), and `.similarityWeighted(temperature:)`, where neighbour `i` votes with
/// weight `exp(sᵢ / τ)` — the non-parametric classifier of Wu et al. 2018 ("Unsupervised Feature
/// Learning via Non-Parametric Instance Discrimination") that DINO (Caron et al. 2021) evaluates
/// with k = 20 and τ = 0.07. A tied vote goes to the smallest label, as in
/// scikit-learn.
///
/// ```swift
/// let knn = try NearestNeighbourClassifier(features: trainFeatures, labels: trainLabels, neighbourCount: 20,
///                                          vote: .similarityWeighted(temperature: 0.07))
/// let accuracy = try knn.accuracy(features: testFeatures, labels: testLabels)
/// ```
public struct NearestNeighbourClassifier {
    /// How the neighbours' labels are combined.
    public enum Vote: Sendable, Equatable {
        /// Each of the k neighbours counts once.
        case uniform
        /// Neighbour `i` counts `exp(similarityᵢ / temperature)` (Wu et al. 2018).
        case similarityWeighted(temperature: Float)
    }

    /// Number of neighbours consulted (k).
    public let neighbourCount: Int
    /// How their labels are combined.
    public let vote: Vote
    private let gallery: FeatureMatrix
    private let galleryLabels: [Int]

    /// Stores the labelled gallery; `labels` `[N]` hold whole numbers.
    public init(features: Tensor, labels: Tensor, neighbourCount: Int, vote: Vote = .uniform) throws {
        gallery = try FeatureMatrix(features, name: "kNN features").rowNormalised()
        galleryLabels = try classLabels(labels, count: gallery.rowCount, name: "kNN labels")
        guard neighbourCount >= 1, neighbourCount <= gallery.rowCount else {
            throw SelfSupervisedError("kNN neighbourCount must be in 1...\(gallery.rowCount) (the gallery size), got \(neighbourCount)")
        }
        if case .similarityWeighted(let temperature) = vote, !(temperature > 0) {
            throw SelfSupervisedError("kNN vote temperature must be > 0, got \(temperature)")
        }
        self.neighbourCount = neighbourCount
        self.vote = vote
    }

    /// The predicted label of each row of `features` `[M, d]`, as a `[M]` tensor.
    public func predict(_ features: Tensor) throws -> Tensor {
        let queries = try FeatureMatrix(features, name: "kNN queries").rowNormalised()
        try queries.requireColumns(gallery.columnCount, of: "the kNN gallery")
        let similarities = cosineSimilarities(queries, gallery)
        var predictions: [Float] = []
        for query in 0..<queries.rowCount {
            let row = similarities[(query * gallery.rowCount)..<((query + 1) * gallery.rowCount)]
            let neighbours = largestIndices(row, count: neighbourCount)
            // Weights relative to the nearest neighbour's, exp((s − s_max)/τ): the same vote
            // without overflow at small temperatures.
            let nearest = Double(row[row.startIndex + neighbours[0]])
            var votes: [Int: Double] = [:]
            for neighbour in neighbours {
                switch vote {
                case .uniform: votes[galleryLabels[neighbour], default: 0] += 1
                case .similarityWeighted(let temperature):
                    votes[galleryLabels[neighbour], default: 0] += exp((Double(row[row.startIndex + neighbour]) - nearest) / Double(temperature))
                }
            }
            let best = votes.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }!
            predictions.append(Float(best.key))
        }
        return Tensor(predictions)
    }

    /// The fraction of `features` whose predicted label equals `labels`.
    public func accuracy(features: Tensor, labels: Tensor) throws -> Double {
        let predictions = try predict(features).scalars
        let truth = try classLabels(labels, count: predictions.count, name: "kNN test labels")
        return Double(zip(predictions, truth).filter { Int($0) == $1 }.count) / Double(truth.count)
    }
}

/// Semantic search: the gallery items most similar (cosine) to each query, and recall@k.
public enum SemanticSearch {
    /// For each row of `queries` `[M, d]`, the indices of its `count` most similar rows of
    /// `gallery` `[N, d]`, most similar first (ties: the smaller index first).
    public static func nearestNeighbours(of queries: Tensor, in gallery: Tensor, count: Int) throws -> [[Int]] {
        let queryRows = try FeatureMatrix(queries, name: "search queries").rowNormalised()
        let galleryRows = try FeatureMatrix(gallery, name: "search gallery").rowNormalised()
        try queryRows.requireColumns(galleryRows.columnCount, of: "the search gallery")
        guard count >= 1, count <= galleryRows.rowCount else {
            throw SelfSupervisedError("search count must be in 1...\(galleryRows.rowCount) (the gallery size), got \(count)")
        }
        let similarities = cosineSimilarities(queryRows, galleryRows)
        let width = galleryRows.rowCount
        return (0..<queryRows.rowCount).map { largestIndices(similarities[($0 * width)..<(($0 + 1) * width)], count: count) }
    }

    /// Recall@k as in image retrieval (Song et al. 2016, "Deep Metric Learning via Lifted
    /// Structured Feature Embedding"): the fraction of queries with at least one gallery item
    /// of the same label among their k nearest.
    public static func recall(at k: Int, queries: Tensor, queryLabels: Tensor, gallery: Tensor, galleryLabels: Tensor) throws -> Double {
        let neighbours = try nearestNeighbours(of: queries, in: gallery, count: k)
        let wanted = try classLabels(queryLabels, count: neighbours.count, name: "search query labels")
        let found = try classLabels(galleryLabels, count: gallery.shape[0], name: "search gallery labels")
        let hits = zip(neighbours, wanted).filter { row, label in row.contains { found[$0] == label } }.count
        return Double(hits) / Double(wanted.count)
    }
}

// MARK: - Shared by the downstream uses (probe, kNN, k-means, anomaly detection, ICA)

/// A validated feature matrix `[N, d]` copied out of a tensor: at least one row and one column,
/// every value finite, so each algorithm can loop over plain arrays.
struct FeatureMatrix {
    let rowCount: Int
    let columnCount: Int
    /// Row-major values.
    var values: [Float]

    init(_ tensor: Tensor, name: String) throws {
        guard tensor.rank == 2 else { throw SelfSupervisedError("\(name) must be a matrix [N, d], got shape \(tensor.shape)") }
        guard tensor.shape[0] > 0, tensor.shape[1] > 0 else {
            throw SelfSupervisedError("\(name) must have at least one row and one column, got shape \(tensor.shape)")
        }
        rowCount = tensor.shape[0]
        columnCount = tensor.shape[1]
        values = tensor.scalars
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw SelfSupervisedError("\(name) holds \(values[bad]) at row \(bad / columnCount), column \(bad % columnCount); features must be finite")
        }
    }

    init(rowCount: Int, columnCount: Int, values: [Float]) {
        self.rowCount = rowCount
        self.columnCount = columnCount
        self.values = values
    }

    func requireColumns(_ expected: Int, of other: String) throws {
        guard columnCount == expected else {
            throw SelfSupervisedError("features have \(columnCount) columns but \(other) has \(expected)")
        }
    }

    /// Each row divided by its Euclidean length (a zero row stays zero).
    func rowNormalised() -> FeatureMatrix {
        var result = self
        for row in 0..<rowCount {
            let range = (row * columnCount)..<((row + 1) * columnCount)
            let length = values[range].reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
            if length > 0 { for i in range { result.values[i] /= length } }
        }
        return result
    }

    /// Squared Euclidean length of each row.
    var squaredRowLengths: [Float] {
        (0..<rowCount).map { row in values[(row * columnCount)..<((row + 1) * columnCount)].reduce(0) { $0 + $1 * $1 } }
    }
}

/// `a · bᵀ` for `a` `[M, d]` and `b` `[N, d]`, row-major `[M, N]`: the cosine similarities when
/// both are row-normalised.
func cosineSimilarities(_ a: FeatureMatrix, _ b: FeatureMatrix) -> [Float] {
    var result = [Float](repeating: 0, count: a.rowCount * b.rowCount)
    a.values.withUnsafeBufferPointer { left in
        b.values.withUnsafeBufferPointer { right in
            result.withUnsafeMutableBufferPointer { output in
                BLAS.sgemm(transposeA: false, transposeB: true, m: a.rowCount, n: b.rowCount, k: a.columnCount,
                           a: left.baseAddress!, leadingA: a.columnCount, b: right.baseAddress!, leadingB: b.columnCount,
                           c: output.baseAddress!, leadingC: b.rowCount)
            }
        }
    }
    return result
}

/// The `[M, N]` squared Euclidean distances between the rows of `a` and `b`, row-major, as
/// `|a|² − 2 a·b + |b|²` (one matrix product), clamped at zero against rounding. Callers that
/// measure the same `a` many times pass its `squaredRowLengths` once.
func squaredDistances(_ a: FeatureMatrix, _ b: FeatureMatrix, squaredLengthsOfA: [Float]? = nil) -> [Float] {
    var result = cosineSimilarities(a, b)
    let left = squaredLengthsOfA ?? a.squaredRowLengths, right = b.squaredRowLengths
    for i in 0..<a.rowCount {
        for j in 0..<b.rowCount {
            result[i * b.rowCount + j] = max(0, left[i] - 2 * result[i * b.rowCount + j] + right[j])
        }
    }
    return result
}

/// Positions (from 0) of the `count` largest values of `row`, largest first; equal values keep
/// the smaller position first. One pass keeping a sorted list, so k ≪ N costs about N comparisons.
func largestIndices(_ row: ArraySlice<Float>, count: Int) -> [Int] {
    var best: [(value: Float, index: Int)] = []
    best.reserveCapacity(count + 1)
    for (index, value) in zip(0..., row) {
        if best.count == count, value <= best[count - 1].value { continue }
        var position = best.count
        while position > 0, best[position - 1].value < value { position -= 1 }
        best.insert((value, index), at: position)
        if best.count > count { best.removeLast() }
    }
    return best.map(\.index)
}

/// Class labels `[count]` holding whole numbers ≥ 0, as integers.
func classLabels(_ labels: Tensor, count: Int, name: String) throws -> [Int] {
    guard labels.rank == 1, labels.shape[0] == count else {
        throw SelfSupervisedError("\(name) must be a vector [\(count)] (one per feature row), got shape \(labels.shape)")
    }
    return try labels.scalars.enumerated().map { index, value in
        guard value.isFinite, value >= 0, value == value.rounded() else {
            throw SelfSupervisedError("\(name)[\(index)] is \(value); labels must be whole numbers ≥ 0")
        }
        return Int(value)
    }
}
