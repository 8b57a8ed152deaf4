import Foundation
import Testing
import TesseraSelfSupervised
import TesseraTensor

/// The downstream fixtures, written by scikit-learn (`Tests/Fixtures/fixtures_downstream.py`).
func downstreamFixture() throws -> Fixture {
    try Fixture("downstream", bundle: .module, generator: "Tests/Fixtures/generate.py fixtures_downstream")
}

/// The linear probe against scikit-learn's `LogisticRegression` on the same standardised features.
struct LinearProbeTests {
    /// Same objective, solved to convergence on both sides: the coefficients themselves agree,
    /// which pins the standardisation, the C scaling and the unpenalised bias at once.
    @Test func coefficientsAndProbabilitiesMatchScikitLearn() throws {
        let fixture = try downstreamFixture()
        let probe = try LinearProbe.fit(features: try fixture.tensor("probe.train_x"), labels: try fixture.tensor("probe.train_y"),
                                        classCount: 3, configuration: .init(inverseRegularization: 0.5, tolerance: 1e-8))
        expectClose(probe.weights, try fixture.tensor("probe.coef"), absolute: 1e-4, relative: 1e-3, "coefficients")
        expectClose(probe.bias, try fixture.tensor("probe.intercept"), absolute: 1e-4, relative: 1e-3, "intercept")
        expectClose(try probe.probabilities(try fixture.tensor("probe.test_x")), try fixture.tensor("probe.probabilities"),
                    absolute: 1e-4, relative: 1e-3, "test probabilities")
    }

    @Test func separatesClassesAndIsDeterministic() throws {
        var generator = RandomGenerator(seed: 5)
        let noise = Tensor.randomNormal([60, 4], generator: &generator).scalars
        let labels = (0..<60).map { Float($0 % 3) }
        let features = Tensor(shape: [60, 4], scalars: noise.enumerated().map { $0.element + ($0.offset % 4 == Int(labels[$0.offset / 4]) ? 4 : 0) })
        let first = try LinearProbe.fit(features: features, labels: Tensor(labels), classCount: 3)
        let second = try LinearProbe.fit(features: features, labels: Tensor(labels), classCount: 3)
        #expect(try first.accuracy(features: features, labels: Tensor(labels)) == 1)
        #expect(first.weights.scalars == second.weights.scalars)
    }

    @Test func badInputIsNamed() throws {
        let features = Tensor([[0, 1], [1, 0], [1, 1], [0, 0]])
        #expect(throws: SelfSupervisedError.self) { try LinearProbe.fit(features: features, labels: Tensor([0, 1, 0]), classCount: 2) }
        #expect(throws: SelfSupervisedError("probe class 2 has no training example; every class in 0..<3 needs one")) {
            try LinearProbe.fit(features: features, labels: Tensor([0, 1, 0, 1]), classCount: 3)
        }
        let nan = Tensor([[0, 1], [1, .nan], [1, 1], [0, 0]])
        #expect(throws: SelfSupervisedError("probe features holds nan at row 1, column 1; features must be finite")) {
            try LinearProbe.fit(features: nan, labels: Tensor([0, 1, 0, 1]), classCount: 2)
        }
        let probe = try LinearProbe.fit(features: features, labels: Tensor([0, 1, 0, 1]), classCount: 2)
        #expect(throws: SelfSupervisedError("features have 3 columns but the probe has 2")) { try probe.predict(Tensor([[0, 1, 2]])) }
    }
}
