import Testing
import TesseraExplain
import TesseraNN
import TesseraTensor

/// Whole networks under zennit's composites, on the same weights and inputs as zennit 0.5.1: an
/// MLP, and a CNN shaped like the digits CNN with a batch norm to fold (fixtures_explain.py).
struct CompositeTests {
    let fixture: Fixture

    init() throws {
        fixture = try Fixture("explain")
    }

    /// `MLP(sizes: [64, 16, 12, 10])` with the fixture's weights, so the MLP conformance is what is walked.
    func mlp() throws -> MLP {
        var generator = RandomGenerator(seed: 0)
        let model = MLP(sizes: [64, 16, 12, 10], generator: &generator)
        for (layer, index) in zip(model.layers, [0, 2, 4]) {
            layer.weight.assign(try fixture.tensor("mlp/\(index).weight"))
            layer.bias!.assign(try fixture.tensor("mlp/\(index).bias"))
        }
        return model
    }

    func cnn() throws -> Sequential {
        Sequential(try convolution(fixture, "cnn/0"), try batchNorm(fixture, "cnn/1"), ReLU(), MaxPool2d(kernelSize: 2),
                   try convolution(fixture, "cnn/4"), ReLU(), AvgPool2d(kernelSize: 2), Flatten(), try linear(fixture, "cnn/8"))
    }

    func explain(_ model: any ExplainableModel, _ prefix: String, _ compositeName: String, inputShape: [Int]) throws -> Explanation {
        let p = try fixture.tensor("\(prefix)/params").scalars  // low, high, epsilon, gamma
        let composite = try makeComposite(named: compositeName, low: p[0], high: p[1], epsilon: p[2], gamma: p[3])
        let explainer = try Explainer(model: model, composite: composite, inputShape: inputShape)
        let targets = try fixture.tensor("\(prefix)/targets").scalars.map { Int($0) }
        return try explainer.explain(try fixture.tensor("\(prefix)/input"), target: .outputs(targets))
    }

    @Test(arguments: ["epsilonGammaBox", "epsilonPlus", "epsilonAlpha2Beta1"])
    func mlpRelevanceMatchesZennit(_ composite: String) throws {
        let explanation = try explain(try mlp(), "mlp", composite, inputShape: [64])
        expectClose(explanation.output, try fixture.tensor("mlp/output"), absolute: 1e-5, relative: 1e-4, "output")
        expectClose(explanation.inputRelevance, try fixture.tensor("mlp/\(composite)"), absolute: 1e-6, relative: 1e-3, composite)
    }

    @Test(arguments: ["epsilonGammaBox", "epsilonPlus", "epsilonAlpha2Beta1"])
    func cnnRelevanceMatchesZennit(_ composite: String) throws {
        let model = try cnn()
        let explanation = try explain(model, "cnn", composite, inputShape: [1, 8, 8])
        expectClose(explanation.output, try fixture.tensor("cnn/output"), absolute: 1e-5, relative: 1e-4, "output")
        expectClose(explanation.inputRelevance, try fixture.tensor("cnn/\(composite)"), absolute: 1e-6, relative: 1e-3, composite)
        // The batch norm was folded for the explanation, and is back in its own mode afterwards.
        #expect((model.layers[1] as! BatchNorm).mode == .training)
    }

    @Test func epsilonGammaBoxAssignsByPositionAndType() throws {
        let explainer = try Explainer(model: try cnn(), composite: EpsilonGammaBox(low: 0, high: 1), inputShape: [1, 8, 8])
        let rules = explainer.steps.map { $0.rule!.description }
        // The batch norm is folded into the first convolution, so eight steps remain.
        #expect(rules == ["z^B", "pass", "winner-takes-all", "LRP-γ(0.25)", "pass", "norm", "pass", "LRP-ε(1e-06)"])
        #expect(explainer.steps.map(\.name) == ["layers.0", "layers.2", "layers.3", "layers.4", "layers.5", "layers.6", "layers.7", "layers.8"])
    }

    @Test func denseFirstLayerTakesTheBoxRuleWhenAsked() throws {
        let p = try fixture.tensor("mlp/params").scalars
        let composite = EpsilonGammaBox(low: p[0], high: p[1], epsilon: p[2], gamma: p[3], firstLayerKinds: [.convolution, .dense])
        let explainer = try Explainer(model: try mlp(), composite: composite, inputShape: [64])
        #expect(explainer.steps.map { $0.rule!.description } == ["z^B", "pass", "LRP-ε(0.1)", "pass", "LRP-ε(0.1)"])
        #expect(explainer.steps.map(\.name) == ["layers.0", "activation.0", "layers.1", "activation.1", "layers.2"])
        let targets = try fixture.tensor("mlp/targets").scalars.map { Int($0) }
        let explanation = try explainer.explain(try fixture.tensor("mlp/input"), target: .outputs(targets))
        expectClose(explanation.inputRelevance, try fixture.tensor("mlp/epsilonGammaBoxDenseFirst"), absolute: 1e-6, relative: 1e-3)
    }
}
