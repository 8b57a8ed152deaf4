import Testing
import TesseraExplain
import TesseraNN
import TesseraTensor

/// A layer no composite knows.
final class Doubling: Layer {
    func callAsFunction(_ input: Tensor) -> Tensor { input * 2 }
}

/// The same layer, carrying its own rule.
final class ExplainedDoubling: RelevancePropagating {
    var relevanceRule: any RelevanceRule { PassRule() }
    func callAsFunction(_ input: Tensor) -> Tensor { input * 2 }
}

struct ErrorTests {
    let model = randomMLP([8, 6, 4])

    @Test func unknownCompositeSuggestsTheClosestName() {
        #expect(throws: ExplainError.unknownComposite(name: "epsilonPluss", suggestion: "epsilonPlus",
                                                       known: ["epsilonGammaBox", "epsilonPlus", "epsilonAlpha2Beta1", "zero"])) {
            try makeComposite(named: "epsilonPluss")
        }
        let message = "\(ExplainError.unknownComposite(name: "epsilonPluss", suggestion: "epsilonPlus", known: ["epsilonPlus"]))"
        #expect(message.contains("did you mean 'epsilonPlus'?"))
    }

    @Test func zennitCompositeNamesAreAccepted() throws {
        #expect(try CompositeName(parsing: "epsilon_gamma_box") == .epsilonGammaBox)
        #expect(try CompositeName(parsing: "epsilon_alpha2_beta1") == .epsilonAlpha2Beta1)
    }

    @Test func inputOfTheWrongShapeIsRefused() throws {
        let explainer = try Explainer(model: model, composite: EpsilonPlus(), inputShape: [8])
        #expect(throws: ExplainError.inputShape(expected: [8], got: [2, 7])) {
            try explainer.explain(Tensor.zeros([2, 7]), target: .output(0))
        }
        #expect(throws: ExplainError.inputShape(expected: [8], got: [8])) {
            try explainer.explain(Tensor.zeros([8]), target: .output(0))
        }
    }

    @Test func outputIndexOutOfRangeIsRefused() throws {
        let explainer = try Explainer(model: model, composite: EpsilonPlus(), inputShape: [8])
        #expect(throws: ExplainError.targetOutOfRange(index: 4, outputCount: 4)) {
            try explainer.explain(Tensor.zeros([2, 8]), target: .output(4))
        }
        #expect(throws: ExplainError.targetOutOfRange(index: -1, outputCount: 4)) {
            try explainer.explain(Tensor.zeros([2, 8]), target: .outputs([0, -1]))
        }
        #expect(throws: ExplainError.targetCount(expected: 2, got: 3)) {
            try explainer.explain(Tensor.zeros([2, 8]), target: .outputs([0, 1, 2]))
        }
        #expect(throws: ExplainError.targetOutOfRange(index: 7, outputCount: 4)) {
            try Attribution.gradient(of: model, at: Tensor.zeros([1, 8]), target: .output(7))
        }
    }

    @Test func aLayerWithoutARuleIsNamed() throws {
        var generator = RandomGenerator(seed: 0)
        let network = Sequential(Linear(3, 3, generator: &generator), Doubling())
        #expect(throws: ExplainError.noRule(layer: "layers.1", type: "Doubling")) {
            try Explainer(model: network, composite: EpsilonPlus(), inputShape: [3])
        }
    }

    @Test func aLayerCanBringItsOwnRule() throws {
        var generator = RandomGenerator(seed: 0)
        let network = Sequential(Linear(3, 3, bias: false, generator: &generator), ExplainedDoubling())
        let explainer = try Explainer(model: network, composite: LayerMapComposite.uniform(ZeroRule()), inputShape: [3])
        let explanation = try explainer.explain(randomInput([1, 3]), target: .output(0))
        #expect(Swift.abs(explanation.inputRelevance.sum().item - explanation.outputRelevance.sum().item) < 1e-5)
    }

    @Test func aCompositeCanAssignARuleToALayerType() throws {
        var generator = RandomGenerator(seed: 0)
        let network = Sequential(Linear(3, 3, bias: false, generator: &generator), Doubling())
        let composite = EpsilonPlus().layerMap.assigning(PassRule(), to: Doubling.self)
        let explainer = try Explainer(model: network, composite: composite, inputShape: [3])
        #expect(explainer.steps.map { $0.rule!.description } == ["LRP-ε(1e-06)", "pass"])
    }
}
