import Foundation
import Testing
import TesseraTensor
@testable import TesseraNN

/// A user-defined model: no registration, parameters found from stored properties.
final class TwoTower: Module {
    let encoder: Sequential
    let heads: [Linear]
    let norm: BatchNorm
    let optionalHead: Linear?
    let missingHead: Linear?
    let scale: Tensor
    let temperature: Float = 0.5

    init(generator: inout RandomGenerator) {
        encoder = Sequential(Linear(4, 8, generator: &generator), ReLU(), Dropout(probability: 0.5),
                             Linear(8, 8, generator: &generator))
        heads = [Linear(8, 2, generator: &generator), Linear(8, 3, bias: false, generator: &generator)]
        norm = BatchNorm(featureCount: 8)
        optionalHead = Linear(8, 1, generator: &generator)
        missingHead = nil
        scale = Tensor(1).requiringGradient()
    }
}

@Suite struct ModuleTests {
    var rng = RandomGenerator(seed: 3)

    @Test mutating func parametersAreNamedByDottedPathsInDeclarationOrder() {
        let model = TwoTower(generator: &rng)
        #expect(model.namedParameters().map(\.name) == [
            "encoder.layers.0.weight", "encoder.layers.0.bias", "encoder.layers.3.weight", "encoder.layers.3.bias",
            "heads.0.weight", "heads.0.bias", "heads.1.weight", "norm.weight", "norm.bias",
            "optionalHead.weight", "optionalHead.bias", "scale",
        ])
        #expect(model.parameterCount == 4 * 8 + 8 + 8 * 8 + 8 + 8 * 2 + 2 + 8 * 3 + 8 + 8 + 8 + 1 + 1)
    }

    @Test mutating func mlpNamesItsLinearLayersConsecutively() {
        let mlp = MLP(sizes: [64, 256, 256, 10], activation: .relu, dropout: 0.1, generator: &rng)
        #expect(mlp.namedParameters().map(\.name) == [
            "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias", "layers.2.weight", "layers.2.bias",
        ])
        #expect(mlp.layers.map(\.weight.shape) == [[256, 64], [256, 256], [10, 256]])
        #expect(mlp(Tensor.zeros([5, 64])).shape == [5, 10])
    }

    @Test mutating func buffersAreSavedButNotOptimized() {
        let model = TwoTower(generator: &rng)
        let bufferNames = model.namedBuffers().map(\.name)
        #expect(bufferNames == ["norm.runningMean", "norm.runningVariance", "norm.batchesTracked"])
        let parameterNames = Set(model.namedParameters().map(\.name))
        #expect(parameterNames.isDisjoint(with: bufferNames))
        let state = model.stateDictionary()
        #expect(Set(state.keys) == parameterNames.union(bufferNames))
    }

    @Test mutating func sharedLayerIsReportedOnceUnderItsFirstName() {
        let shared = Linear(3, 3, generator: &rng)
        let model = Sequential(shared, Tanh(), shared)
        #expect(model.namedParameters().map(\.name) == ["layers.0.weight", "layers.0.bias"])
    }

    @Test mutating func stateDictionaryRoundTripsIntoAFreshModel() throws {
        let source = TwoTower(generator: &rng)
        var other = RandomGenerator(seed: 99)
        let target = TwoTower(generator: &other)
        #expect(target.heads[0].weight.scalars != source.heads[0].weight.scalars)
        source.norm.runningMean.value.assign(Tensor.full([8], 0.25))
        try target.loadStateDictionary(source.stateDictionary())
        for (name, tensor) in source.stateDictionary() {
            #expect(target.stateDictionary()[name]!.scalars == tensor.scalars, "\(name)")
        }
        // Loading copies values: the two models do not share storage afterwards.
        source.heads[0].weight.storage.pointer[0] += 1
        #expect(target.heads[0].weight.scalars[0] != source.heads[0].weight.scalars[0])
    }

    @Test mutating func loadStateDictionaryNamesMissingUnexpectedAndMismatchedKeys() throws {
        let model = MLP(sizes: [2, 3, 1], generator: &rng)
        var state = model.stateDictionary()
        state["layers.1.bias"] = nil
        state["layers.2.weight"] = Tensor.zeros([1, 3])
        state["layers.0.weight"] = Tensor.zeros([3, 5])
        let before = model.layers[0].bias!.scalars
        state["layers.0.bias"] = Tensor.full([3], 7)
        let error = try #require(throws: StateDictionaryError.self) { try model.loadStateDictionary(state) }
        #expect(error.missingKeys == ["layers.1.bias"])
        #expect(error.unexpectedKeys == ["layers.2.weight"])
        #expect(error.shapeMismatches == [.init(key: "layers.0.weight", expected: [3, 2], found: [3, 5])])
        #expect(error.description.contains("layers.0.weight: the module has shape [3, 2], the dictionary [3, 5]"))
        #expect(model.layers[0].bias!.scalars == before, "a refused dictionary must load nothing")
    }

    @Test mutating func nonStrictLoadingSkipsMissingKeysButNotShapeMismatches() throws {
        let model = MLP(sizes: [2, 3, 1], generator: &rng)
        try model.loadStateDictionary(["layers.1.bias": Tensor([5]), "extra": Tensor(1)], strict: false)
        #expect(model.layers[1].bias!.scalars == [5])
        #expect(throws: StateDictionaryError.self) {
            try model.loadStateDictionary(["layers.1.bias": Tensor([5, 6])], strict: false)
        }
    }

    @Test mutating func freezingStopsGradientsAndUnfreezingRestoresThem() {
        let trunk = Linear(3, 4, generator: &rng), head = Linear(4, 1, generator: &rng)
        let input = Tensor.randomNormal([5, 3], generator: &rng)
        trunk.freeze()
        head(trunk(input)).sum().backward()
        #expect(trunk.weight.grad == nil && trunk.bias?.grad == nil)
        #expect(head.weight.grad != nil)
        trunk.unfreeze()
        head.zeroGradients()
        head(trunk(input)).sum().backward()
        #expect(trunk.weight.grad != nil)
    }

    @Test mutating func zeroGradientsClearsEveryParameter() {
        let model = MLP(sizes: [3, 4, 2], generator: &rng)
        model(Tensor.ones([2, 3])).sum().backward()
        #expect(model.parameters().allSatisfy { $0.grad != nil })
        model.zeroGradients()
        #expect(model.parameters().allSatisfy { $0.grad == nil })
    }

    @Test mutating func evalSwitchesDropoutToIdentityAndTrainSwitchesBack() {
        let model = TwoTower(generator: &rng)
        let dropout = try! #require(model.encoder.layers[2] as? Dropout)
        let input = Tensor.ones([4, 100])
        #expect(model.isTraining)
        #expect(dropout(input).scalars.contains(0))
        model.eval()
        #expect(!model.isTraining && model.norm.mode == .evaluation)
        #expect(dropout(input).scalars == input.scalars)
        model.train()
        #expect(model.isTraining && model.norm.mode == .training)
        let kept = dropout(input).scalars
        #expect(kept.contains(0) && kept.contains(2), "training dropout zeroes or scales by 1/(1-p)")
    }

    @Test func evalSwitchesBatchNormToRunningStatistics() {
        let norm = BatchNorm(featureCount: 2)
        let input = Tensor([[1, 10], [3, 30]])
        // Training: normalized by the batch, so each column becomes (−1, 1) (up to ε).
        let trained = norm(input).scalars
        #expect(Swift.abs(trained[0] + 1) < 1e-3 && Swift.abs(trained[3] - 1) < 1e-3)
        norm.eval()
        // Evaluation: running mean 0.1·batch mean, running variance 0.9 + 0.1·unbiased variance.
        let evaluated = norm(input).scalars
        let expected = (1 - 0.2) / (0.9 + 0.1 * 2 + 1e-5 as Float).squareRoot()
        #expect(Swift.abs(evaluated[0] - expected) < 1e-5)
    }

    @Test func dropoutGeneratorStateRoundTripsSoMasksRepeat() {
        let model = Sequential(Dropout(probability: 0.5), Dropout(probability: 0.5))
        model.seedGenerators(from: RandomGenerator(seed: 5))
        let saved = model.namedGenerators()
        #expect(saved.keys.sorted() == ["layers.0", "layers.1"])
        #expect(saved["layers.0"] != saved["layers.1"], "each dropout layer gets its own stream")
        let input = Tensor.ones([64])
        let first = model(input).scalars
        #expect(model(input).scalars != first)
        model.loadGenerators(saved)
        #expect(model(input).scalars == first)
    }

    @Test func activationDecodesFromItsRawValueAndMatchesTheTensorOp() throws {
        let decoded = try JSONDecoder().decode([Activation].self, from: Data(#"["relu","gelu","leakyRelu","identity"]"#.utf8))
        #expect(decoded == [.relu, .gelu, .leakyRelu, .identity])
        let x = Tensor([-2, -0.5, 0, 1.5])
        for activation in Activation.allCases {
            #expect(activation(x).scalars == activation.layer(x).scalars, "\(activation)")
        }
        #expect(Activation.leakyRelu(x).scalars == [-0.02, -0.005, 0, 1.5])
    }

    @Test mutating func residualAddsTheInputAndFlattenKeepsTheBatchAxis() {
        let body = Linear(3, 3, generator: &rng)
        let residual = Residual(body)
        let x = Tensor.randomNormal([2, 3], generator: &rng)
        expectClose(residual(x), x + body(x))
        #expect(residual.namedParameters().map(\.name) == ["body.weight", "body.bias"])
        #expect(Flatten()(Tensor.zeros([2, 3, 4, 5])).shape == [2, 60])
    }
}
