import Testing
import TesseraExplain
import TesseraNN
import TesseraTensor

/// Montavon et al. 2019, Sect. 10.2: what each rule conserves, layer by layer.
struct ConservationTests {
    @Test func lrpZeroWithoutBiasesConservesRelevanceAtEveryLayer() throws {
        let model = randomMLP([10, 16, 12, 5], bias: false)
        let explainer = try Explainer(model: model, composite: LayerMapComposite.uniform(ZeroRule()), inputShape: [10])
        let explanation = try explainer.explain(randomInput([4, 10]), target: .outputs([0, 1, 2, 4]), keepLayerRelevances: true)
        let total = rowSums(explanation.outputRelevance)
        #expect(explanation.layerRelevances.count == 5)
        for (name, relevance) in explanation.layerRelevances {
            for (actual, expected) in zip(rowSums(relevance), total) {
                #expect(Swift.abs(actual - expected) <= 1e-5 + 1e-4 * Swift.abs(expected), "\(name): \(actual) vs \(expected)")
            }
        }
        #expect(total.allSatisfy { $0 != 0 })
    }

    @Test func epsilonAbsorbsTheBiasAndEpsilonShares() throws {
        // Σ_j R_j = Σ_k R_k (z_k − b_k) / (z_k + ε sign z_k) at each dense layer.
        let model = randomMLP([8, 12, 6], bias: true)
        let epsilon: Float = 0.5
        let explainer = try Explainer(model: model, composite: LayerMapComposite.uniform(EpsilonRule(epsilon: epsilon)), inputShape: [8])
        let input = randomInput([3, 8])
        let explanation = try explainer.explain(input, target: .output(2), keepLayerRelevances: true)
        var activations = [input]
        for layer in model.layers { activations.append(layer(activations.last!)) }
        let relevances = explanation.layerRelevances.map(\.relevance) + [explanation.outputRelevance]
        for (index, layer) in model.layers.enumerated() {
            guard let linear = layer as? Linear else { continue }
            let z = activations[index + 1]
            let kept = withoutGradients { (relevances[index + 1] * (z - linear.bias!) / (z + (z.greaterEqual(0) * 2 - 1) * epsilon)).sum(alongAxes: [1]) }
            for (actual, expected) in zip(rowSums(relevances[index]), kept.scalars) {
                #expect(Swift.abs(actual - expected) <= 1e-5 + 1e-4 * Swift.abs(expected), "layer \(index): \(actual) vs \(expected)")
            }
            // The absorbed share is not zero, so the check above is not the trivial one.
            #expect(zip(rowSums(relevances[index]), rowSums(relevances[index + 1])).contains { Swift.abs($0 - $1) > 1e-3 })
        }
    }

    @Test func lrpZeroOnAReLUNetworkIsGradientTimesInput() throws {
        let model = randomMLP([10, 16, 12, 5], bias: true)
        let input = randomInput([4, 10], low: -1, high: 1)
        let explainer = try Explainer(model: model, composite: LayerMapComposite.uniform(ZeroRule()), inputShape: [10])
        let lrp = try explainer.explain(input, target: .outputs([4, 3, 2, 1])).inputRelevance
        let gradientTimesInput = try Attribution.gradientTimesInput(of: model, at: input, target: .outputs([4, 3, 2, 1]))
        expectClose(lrp, gradientTimesInput, absolute: 1e-5, relative: 1e-4)
    }

    @Test func lrpZeroOnAPoolingCNNIsGradientTimesInput() throws {
        var generator = RandomGenerator(seed: 3)
        let model = Sequential(Conv2d(1, 3, kernelSize: 3, padding: 1, generator: &generator), ReLU(), MaxPool2d(kernelSize: 2),
                               Conv2d(3, 4, kernelSize: 3, padding: 1, generator: &generator), ReLU(), Flatten(),
                               Linear(64, 5, generator: &generator))
        let input = randomInput([2, 1, 8, 8])
        let explainer = try Explainer(model: model, composite: LayerMapComposite.uniform(ZeroRule()), inputShape: [1, 8, 8])
        let lrp = try explainer.explain(input, target: .output(3)).inputRelevance
        expectClose(lrp, try Attribution.gradientTimesInput(of: model, at: input, target: .output(3)), absolute: 1e-5, relative: 1e-3)
    }

    @Test func residualSplitConservesRelevance() throws {
        var generator = RandomGenerator(seed: 5)
        let body = Sequential(Linear(6, 6, bias: false, generator: &generator), ReLU(), Linear(6, 6, bias: false, generator: &generator))
        let model = Sequential(Linear(4, 6, bias: false, generator: &generator), ReLU(), Residual(body), Linear(6, 3, bias: false, generator: &generator))
        let explainer = try Explainer(model: model, composite: LayerMapComposite.uniform(ZeroRule()), inputShape: [4])
        #expect(explainer.steps[2].body?.map(\.name) == ["layers.2.body.layers.0", "layers.2.body.layers.1", "layers.2.body.layers.2"])
        let explanation = try explainer.explain(randomInput([3, 4]), target: .output(1), keepLayerRelevances: true)
        for (actual, expected) in zip(rowSums(explanation.inputRelevance), rowSums(explanation.outputRelevance)) {
            #expect(Swift.abs(actual - expected) <= 1e-5 + 1e-4 * Swift.abs(expected))
        }
        #expect(explanation.layerRelevance("layers.2.body.layers.0") != nil)
    }

    @Test func preActivationBlockIsWalkedAsAResidualWithItsSecondNormFolded() throws {
        var generator = RandomGenerator(seed: 8)
        let model = Sequential(Conv2d(1, 4, kernelSize: 3, padding: 1, generator: &generator),
                               PreActivationBlock(inputChannels: 4, outputChannels: 4, generator: &generator),
                               Flatten(), Linear(4 * 8 * 8, 3, generator: &generator))
        let explainer = try Explainer(model: model, composite: EpsilonPlus(), inputShape: [1, 8, 8])
        #expect(explainer.steps[1].body?.map(\.name) == ["layers.1.norm1", "layers.1.relu1", "layers.1.conv1", "layers.1.relu2", "layers.1.conv2"])
        let input = randomInput([2, 1, 8, 8])
        let explanation = try explainer.explain(input, target: .output(0))
        for entry in model.namedModules() { (entry.module as? any ModeDependentModule)?.mode = .evaluation }
        expectClose(explanation.output, withoutGradients { model(input) }, absolute: 1e-5, relative: 1e-4, "the walk computes the model")
        #expect(explanation.inputRelevance.scalars.allSatisfy { $0.isFinite })

        let projecting = Sequential(PreActivationBlock(inputChannels: 1, outputChannels: 2, generator: &generator))
        #expect(throws: ExplainError.self) { try Explainer(model: projecting, composite: EpsilonPlus(), inputShape: [1, 8, 8]) }
    }

    @Test func aModelListingItsForwardPassIsExplainedAsItComputes() throws {
        var generator = RandomGenerator(seed: 12)
        let model = DigitsLikeClassifier(generator: &generator)
        for norm in model.normalizations {
            norm.runningMean.value.assign(Tensor.randomNormal([norm.featureCount], standardDeviation: 0.1, generator: &generator))
            norm.mode = .evaluation
        }
        let input = randomInput([3, 1, 8, 8])
        let explainer = try Explainer(model: model, composite: LayerMapComposite.uniform(ZeroRule()), inputShape: [1, 8, 8])
        #expect(explainer.steps.count == 10)  // both batch norms folded
        let explanation = try explainer.explain(input, target: .outputs([1, 5, 9]))
        expectClose(explanation.output, withoutGradients { model(input) }, absolute: 1e-5, relative: 1e-4)
        expectClose(explanation.inputRelevance, try Attribution.gradientTimesInput(of: model, at: input, target: .outputs([1, 5, 9])),
                    absolute: 1e-5, relative: 1e-3)
    }
}
