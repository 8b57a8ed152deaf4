import Foundation
import Testing
import TesseraTensor
@testable import TesseraGenerative

/// The yardstick's math: the Fréchet distance between Gaussian fits against scipy, its properties,
/// and the classifier scores.
@Suite struct FrechetDistanceTests {
    @Test func distanceMatchesScipySqrtmReference() throws {
        let fixture = try Fixture("generative")
        for (real, generated, distance) in [("frechet.real", "frechet.generated", "frechet.distance"),
                                            ("frechet.wide_real", "frechet.wide_generated", "frechet.wide_distance")] {
            let ours = try frechetDistance(real: fixture.tensor(real), generated: fixture.tensor(generated))
            let reference = Double(try fixture.tensor(distance).item)
            #expect(abs(ours - reference) <= 1e-4 * max(1, reference), "\(distance): \(ours) vs scipy \(reference)")
        }
    }

    @Test func identicalSetsAreAtDistanceZero() throws {
        var generator = RandomGenerator(seed: 3)
        let features = Tensor.randomNormal([200, 10], generator: &generator).matmul(Tensor.randomNormal([10, 10], generator: &generator))
        let distance = try frechetDistance(real: features, generated: features)
        #expect(distance >= 0 && distance < 1e-8, "distance \(distance)")
    }

    @Test func shiftedMeansGiveTheSquaredShift() throws {
        var generator = RandomGenerator(seed: 4)
        let features = Tensor.randomNormal([150, 5], generator: &generator)
        let shift: [Float] = [0.5, -1, 2, 0, 0.25]
        let shifted = features + Tensor(shift)
        let expected = shift.reduce(0) { $0 + Double($1 * $1) }
        let distance = try frechetDistance(real: features, generated: shifted)
        #expect(abs(distance - expected) < 1e-5 * expected, "distance \(distance), ‖Δμ‖² \(expected)")
    }

    @Test func distanceIsSymmetricAndGrowsWithScale() throws {
        var generator = RandomGenerator(seed: 5)
        let a = Tensor.randomNormal([120, 4], generator: &generator)
        let b = Tensor.randomNormal([120, 4], generator: &generator) * 1.5
        let c = Tensor.randomNormal([120, 4], generator: &generator) * 3
        let ab = try frechetDistance(real: a, generated: b), ba = try frechetDistance(real: b, generated: a)
        #expect(abs(ab - ba) < 1e-9 * max(1, ab), "\(ab) vs \(ba)")
        #expect(try frechetDistance(real: a, generated: c) > ab, "a wider set is farther away")
    }

    @Test func singularCovarianceStaysRealAndFinite() throws {
        // 3 samples in 6 dimensions: both covariances have rank 2, where sqrtm of Σ₁Σ₂ can go complex.
        var generator = RandomGenerator(seed: 6)
        let a = Tensor.randomNormal([3, 6], generator: &generator), b = Tensor.randomNormal([3, 6], generator: &generator)
        let distance = try frechetDistance(real: a, generated: b)
        #expect(distance.isFinite && distance > 0, "distance \(distance)")
    }

    @Test func eigendecompositionReconstructsTheMatrix() throws {
        let matrix: [Double] = [4, 1, 0.5, 1, 3, 0.2, 0.5, 0.2, 1]
        let eigen = try SymmetricEigendecomposition(matrix, size: 3)
        let rebuilt = eigen.reconstructed { $0 }
        for i in 0..<9 { #expect(abs(rebuilt[i] - matrix[i]) < 1e-12, "element \(i)") }
        let root = eigen.reconstructed { $0.squareRoot() }
        let square = multiplySquare(root, root, size: 3)
        for i in 0..<9 { #expect(abs(square[i] - matrix[i]) < 1e-12, "√A·√A element \(i)") }
    }

    @Test func badFeaturesThrowNamingWhatWasExpected() {
        #expect(throws: GenerativeError("GaussianFit: a covariance needs at least 2 feature vectors, got 1")) {
            try GaussianFit(features: Tensor.zeros([1, 3]))
        }
        #expect(throws: GenerativeError("GaussianFit: expected features [count, dimensions], got shape [4]")) {
            try GaussianFit(features: Tensor.zeros([4]))
        }
        #expect(throws: GenerativeError("frechetDistance: both fits need the same dimensions, got 3 and 2")) {
            try frechetDistance(real: Tensor.ones([4, 3]), generated: Tensor.ones([4, 2]))
        }
        #expect(throws: GenerativeError("GaussianFit: the features hold NaN or infinity")) {
            try GaussianFit(features: Tensor([[1, .nan], [0, 1]]))
        }
    }

    @Test func accuracyAndConfidenceMatchPyTorch() throws {
        let fixture = try Fixture("generative")
        let logits = try fixture.tensor("scores.logits")
        let labels = try fixture.tensor("scores.labels").scalars.map { Int($0) }
        let accuracy = try classificationAccuracy(logits: logits, labels: labels)
        let confidence = try meanConfidence(logits: logits)
        #expect(abs(accuracy - Double(try fixture.tensor("scores.accuracy").item)) < 1e-6)
        #expect(abs(confidence - Double(try fixture.tensor("scores.confidence").item)) < 1e-6)
        #expect(accuracy > 0 && accuracy < 1, "the fixture has right and wrong rows")
    }

    @Test func scoresRejectBadLogitsAndLabels() {
        let logits = Tensor([[1, 2, 3], [3, 2, 1]])
        #expect(throws: GenerativeError("classificationAccuracy: expected 2 labels (one per row of logits), got 1")) {
            try classificationAccuracy(logits: logits, labels: [0])
        }
        #expect(throws: GenerativeError("classificationAccuracy: label 3 is out of range 0..<3")) {
            try classificationAccuracy(logits: logits, labels: [0, 3])
        }
        #expect(throws: GenerativeError("meanConfidence: expected logits [count > 0, classes > 0], got shape [3]")) {
            try meanConfidence(logits: Tensor([1, 2, 3]))
        }
    }
}
