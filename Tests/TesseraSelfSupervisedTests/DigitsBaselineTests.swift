import Foundation
import Testing
import TesseraData
import TesseraSelfSupervised
import TesseraTensor

/// The raw-pixel baselines of the README's digits table: every downstream use on the flattened
/// 8×8 images (pixels / 16), the row a pretrained encoder's features have to beat.
///
/// The split: `Digits.split(layout: .flat, testFraction: 0.2, seed: 0)` (1,438 train / 359 test,
/// stratified); the 10% of labels are `split.train.split(testFraction: 0.1, seed: 1).test`
/// (145 images, stratified). Measured (debug build, 2026-12-04):
///
/// | use                                                     | raw pixels |
/// |---------------------------------------------------------|------------|
/// | linear probe (C = 1) on the 145 labels, test accuracy   | 0.9192 (scikit-learn's LogisticRegression on the same split: 0.9192) |
/// | kNN, k = 20, exp(s/0.07) vote (DINO's), test accuracy   | 0.9136 |
/// | kNN, k = 20, uniform vote                               | 0.8496 (scikit-learn: 0.8496) |
/// | k-means (k = 10, 10 restarts) on the test images, NMI   | 0.7762 |
/// | k-means on the test images, ARI                         | 0.6622 |
///
/// For comparison (not asserted, too slow for a debug test): the probe on all 1,438 training
/// labels reaches 0.9777; recall@1 of the test images in the labelled gallery is 0.9359, and
/// holding out the zeros as anomalies (5th-neighbour distance to the other training digits)
/// gives AUROC 0.9992. scikit-learn's KMeans on the same test images lands in another local
/// minimum with NMI 0.757 / ARI 0.633.
struct DigitsBaselineTests {
    @Test func rawPixelBaselinesWithTenPercentOfTheLabels() throws {
        let split = try Digits.split(layout: .flat, testFraction: 0.2, seed: 0)
        let labelled = split.train.split(testFraction: 0.1, seed: 1).test
        #expect(labelled.count == 145)

        let probe = try LinearProbe.fit(features: labelled.inputs, labels: labelled.labels, classCount: Digits.classCount)
        let probeAccuracy = try probe.accuracy(features: split.test.inputs, labels: split.test.labels)
        #expect((0.89...0.95).contains(probeAccuracy), "probe accuracy \(probeAccuracy), measured 0.9192")

        let knn = try NearestNeighbourClassifier(features: labelled.inputs, labels: labelled.labels, neighbourCount: 20,
                                                 vote: .similarityWeighted(temperature: 0.07))
        let knnAccuracy = try knn.accuracy(features: split.test.inputs, labels: split.test.labels)
        #expect((0.88...0.94).contains(knnAccuracy), "kNN accuracy \(knnAccuracy), measured 0.9136")

        let clustering = try KMeans.fit(split.test.inputs, clusterCount: Digits.classCount, seed: 0)
        let nmi = try ClusteringScores.normalizedMutualInformation(split.test.labels, clustering.assignments)
        let ari = try ClusteringScores.adjustedRandIndex(split.test.labels, clustering.assignments)
        #expect((0.72...0.83).contains(nmi), "k-means NMI \(nmi), measured 0.7762")
        #expect((0.58...0.74).contains(ari), "k-means ARI \(ari), measured 0.6622")
    }
}
