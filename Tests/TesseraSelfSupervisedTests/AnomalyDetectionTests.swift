import Foundation
import Testing
import TesseraSelfSupervised
import TesseraTensor

/// AUROC against scikit-learn with ties, and a held-out cluster detected as anomalous.
struct AnomalyDetectionTests {
    @Test func aurocMatchesScikitLearnWithTies() throws {
        let fixture = try downstreamFixture()
        let value = try areaUnderROCCurve(scores: try fixture.tensor("auroc.scores"), labels: try fixture.tensor("auroc.labels"))
        #expect(abs(value - Double(try fixture.tensor("auroc.value").scalars[0])) < 1e-6)
        // Hand-checked: positives {2, 1}, negatives {1, 0}: pairs (2>1, 2>0, 1=1 → ½, 1>0) = 3.5 / 4.
        #expect(try areaUnderROCCurve(scores: Tensor([2, 1, 1, 0]), labels: Tensor([1, 1, 0, 0])) == 0.875)
    }

    /// Three normal classes around the axes and an outlier class far away: the k-th-neighbour
    /// distance separates it perfectly, and the held-out-class protocol reports AUROC 1.
    @Test func heldOutClassIsDetected() throws {
        var generator = RandomGenerator(seed: 9)
        let centres: [[Float]] = [[5, 0], [0, 5], [-5, 0], [0, -12]]
        func sample(_ count: Int) -> (Tensor, Tensor) {
            let labels = (0..<count).map { $0 % 4 }
            return (Tensor(shape: [count, 2], scalars: labels.flatMap { centres[$0].map { $0 + generator.nextNormal() } }),
                    Tensor(labels.map(Float.init)))
        }
        let (train, trainLabels) = sample(200), (test, testLabels) = sample(80)
        let auroc = try NearestNeighbourAnomalyDetector.heldOutClassAUROC(trainFeatures: train, trainLabels: trainLabels, testFeatures: test,
                                                                          testLabels: testLabels, outlierClass: 3, neighbourCount: 5)
        #expect(auroc == 1)
        let detector = try NearestNeighbourAnomalyDetector(normalFeatures: Tensor([[0, 0], [1, 0], [3, 0]]), neighbourCount: 2)
        expectClose(try detector.scores(Tensor([[0, 0], [0, 4]])), Tensor([1, Float(17).squareRoot()]), "2nd-neighbour distances")
    }

    @Test func badInputIsNamed() throws {
        #expect(throws: SelfSupervisedError("AUROC needs both classes, got 0 positives and 2 negatives")) {
            try areaUnderROCCurve(scores: Tensor([1, 2]), labels: Tensor([0, 0]))
        }
        #expect(throws: SelfSupervisedError("AUROC score 1 is nan; scores must be finite")) {
            try areaUnderROCCurve(scores: Tensor([1, .nan]), labels: Tensor([0, 1]))
        }
        #expect(throws: SelfSupervisedError("anomaly neighbourCount must be in 1...2 (the normal features), got 4")) {
            try NearestNeighbourAnomalyDetector(normalFeatures: Tensor([[0, 0], [1, 0]]), neighbourCount: 4)
        }
    }
}
