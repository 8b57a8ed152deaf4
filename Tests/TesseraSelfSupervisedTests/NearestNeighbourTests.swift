import Foundation
import Testing
import TesseraSelfSupervised
import TesseraTensor

/// kNN classification against scikit-learn and semantic search on a case worked by hand.
struct NearestNeighbourTests {
    @Test func uniformVoteMatchesScikitLearnExactly() throws {
        let fixture = try downstreamFixture()
        for k in [1, 5, 8] {
            let knn = try NearestNeighbourClassifier(features: try fixture.tensor("knn.gallery_x"), labels: try fixture.tensor("knn.gallery_y"),
                                                     neighbourCount: k)
            #expect(try knn.predict(try fixture.tensor("knn.query_x")).scalars == (try fixture.tensor("knn.predicted_k\(k)")).scalars, "k = \(k)")
        }
    }

    /// Three neighbours: two of class 0 barely similar, one of class 1 very similar. The uniform
    /// vote says 0; exp(s/τ) at a low temperature lets the close neighbour win.
    @Test func weightedVoteFavoursTheCloseNeighbour() throws {
        let gallery = Tensor([[1, 0], [0.2, 1], [0.2, -1], [-1, 0]]), labels = Tensor([1, 0, 0, 2])
        let query = Tensor([[1, 0.05]])
        let uniform = try NearestNeighbourClassifier(features: gallery, labels: labels, neighbourCount: 3)
        let weighted = try NearestNeighbourClassifier(features: gallery, labels: labels, neighbourCount: 3, vote: .similarityWeighted(temperature: 0.07))
        let hot = try NearestNeighbourClassifier(features: gallery, labels: labels, neighbourCount: 3, vote: .similarityWeighted(temperature: 100))
        #expect(try uniform.predict(query).scalars == [0])
        #expect(try weighted.predict(query).scalars == [1])
        #expect(try hot.predict(query).scalars == [0])
        // At τ = 1e-3, exp(s/τ) overflows a Double for every s > 0.71, which would tie both classes at
        // infinity here (similarities 0.999 for class 1, 0.963 and 0.912 for class 0).
        let close = Tensor([[1, 0], [0.9, 0.3], [0.9, -0.35]]), closeLabels = Tensor([1, 0, 0])
        let cold = try NearestNeighbourClassifier(features: close, labels: closeLabels, neighbourCount: 3, vote: .similarityWeighted(temperature: 1e-3))
        #expect(try cold.predict(query).scalars == [1])
    }

    /// Cosine ignores length: [10, 0] is nearest to [1, 0.1]. Recall@1 misses the query whose
    /// nearest item is of another label, recall@2 finds it.
    @Test func semanticSearchAndRecallAtK() throws {
        let gallery = Tensor([[10, 0], [0, 1], [1, 1], [-1, 0]]), galleryLabels = Tensor([0, 1, 2, 3])
        let queries = Tensor([[1, 0.1], [0.1, 1], [1, 0.9]]), queryLabels = Tensor([0, 1, 0])
        #expect(try SemanticSearch.nearestNeighbours(of: queries, in: gallery, count: 2) == [[0, 2], [1, 2], [2, 0]])
        #expect(try SemanticSearch.recall(at: 1, queries: queries, queryLabels: queryLabels, gallery: gallery, galleryLabels: galleryLabels) == 2.0 / 3)
        #expect(try SemanticSearch.recall(at: 2, queries: queries, queryLabels: queryLabels, gallery: gallery, galleryLabels: galleryLabels) == 1)
    }

    @Test func badInputIsNamed() throws {
        let gallery = Tensor([[1, 0], [0, 1]])
        #expect(throws: SelfSupervisedError("kNN neighbourCount must be in 1...2 (the gallery size), got 3")) {
            try NearestNeighbourClassifier(features: gallery, labels: Tensor([0, 1]), neighbourCount: 3)
        }
        #expect(throws: SelfSupervisedError("kNN labels must be a vector [2] (one per feature row), got shape [3]")) {
            try NearestNeighbourClassifier(features: gallery, labels: Tensor([0, 1, 1]), neighbourCount: 1)
        }
        #expect(throws: SelfSupervisedError("kNN vote temperature must be > 0, got 0.0")) {
            try NearestNeighbourClassifier(features: gallery, labels: Tensor([0, 1]), neighbourCount: 1, vote: .similarityWeighted(temperature: 0))
        }
        let knn = try NearestNeighbourClassifier(features: gallery, labels: Tensor([0, 1]), neighbourCount: 1)
        #expect(throws: SelfSupervisedError("kNN queries holds nan at row 0, column 0; features must be finite")) { try knn.predict(Tensor([[.nan, 0]])) }
        #expect(throws: SelfSupervisedError("search count must be in 1...2 (the gallery size), got 5")) {
            try SemanticSearch.nearestNeighbours(of: gallery, in: gallery, count: 5)
        }
    }
}
