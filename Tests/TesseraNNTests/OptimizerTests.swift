import Testing
import TesseraTensor
@testable import TesseraNN

/// Five steps on a 3-4-2 tanh MLP regression problem from PyTorch's initial weights end at
/// PyTorch's weights (LARS: at a NumPy reference's).
@Suite struct OptimizerTests {
    let fixture: Fixture

    init() throws {
        fixture = try Fixture("optimizers")
    }

    func makeModel() throws -> MLP {
        var rng = RandomGenerator(seed: 0)
        let model = MLP(sizes: [3, 4, 2], activation: .tanh, generator: &rng)
        try model.loadStateDictionary(fixture.dictionary(prefix: "initial.state."))
        return model
    }

    func train(_ model: MLP, _ optimizer: Optimizer, steps: Int = 5) throws {
        let x = try fixture.tensor("problem.x"), y = try fixture.tensor("problem.y")
        for _ in 0..<steps {
            optimizer.zeroGradients()
            meanSquaredError(model(x), y).backward()
            optimizer.step()
        }
    }

    func expectFinalWeights(_ model: MLP, _ name: String, tolerance: Float = 2e-5) throws {
        let expected = try fixture.dictionary(prefix: "\(name).final.state.")
        let initial = try fixture.dictionary(prefix: "initial.state.")
        for (key, parameter) in model.namedParameters() {
            let target = try #require(expected[key])
            #expect(target.scalars != initial[key]!.scalars, "\(name): the fixture must move \(key)")
            expectClose(parameter, target, absolute: tolerance, "\(name) \(key)")
        }
    }

    typealias Parameters = [(name: String, parameter: Tensor)]

    static let cases: [(String, (Parameters) -> Optimizer)] = [
        ("sgd", { SGD(parameters: $0, learningRate: 0.1) }),
        ("sgdMomentum", { SGD(parameters: $0, learningRate: 0.1, momentum: 0.9, dampening: 0.1) }),
        ("sgdNesterov", { SGD(parameters: $0, learningRate: 0.1, momentum: 0.9, nesterov: true) }),
        ("sgdWeightDecay", { SGD(parameters: $0, learningRate: 0.1, momentum: 0.5, weightDecay: 0.1) }),
        ("adam", { Adam(parameters: $0, learningRate: 0.05, beta1: 0.8, beta2: 0.95) }),
        ("adamWeightDecay", { Adam(parameters: $0, learningRate: 0.05, weightDecay: 0.1) }),
        ("adamW", { AdamW(parameters: $0, learningRate: 0.05, weightDecay: 0.5) }),
        ("rmsprop", { RMSprop(parameters: $0, learningRate: 0.01) }),
        ("rmspropCenteredMomentum", { RMSprop(parameters: $0, learningRate: 0.01, alpha: 0.9, weightDecay: 0.05,
                                              momentum: 0.8, centered: true) }),
        ("lars", { LARS(parameters: $0, learningRate: 0.5, momentum: 0.9, weightDecay: 0.01, trustCoefficient: 0.001) }),
        ("larsBig", { LARS(parameters: $0, learningRate: 20, momentum: 0.9, weightDecay: 0.1, trustCoefficient: 0.02) }),
    ]

    @Test(arguments: cases.map(\.0))
    func fiveStepsMatchTheReference(name: String) throws {
        let model = try makeModel()
        let make = try #require(Self.cases.first { $0.0 == name }?.1)
        try train(model, make(model.namedParameters()))
        try expectFinalWeights(model, name, tolerance: name.hasPrefix("lars") ? 1e-4 : 2e-5)
    }

    @Test func stateRoundTripsSoAResumedRunMatchesAnUninterruptedOne() throws {
        let uninterrupted = try makeModel()
        try train(uninterrupted, Adam(parameters: uninterrupted.namedParameters(), learningRate: 0.05, beta1: 0.8, beta2: 0.95))

        let first = try makeModel()
        let before = Adam(parameters: first.namedParameters(), learningRate: 0.05, beta1: 0.8, beta2: 0.95)
        try train(first, before, steps: 2)
        let saved = before.stateDictionary()
        #expect(saved["layers.0.weight.step"]?.item == 2)
        #expect(saved["layers.1.bias.exponentialAverageOfSquares"]?.shape == [2])

        let resumed = try makeModel()
        try resumed.loadStateDictionary(first.stateDictionary())
        let after = Adam(parameters: resumed.namedParameters(), learningRate: 0.05, beta1: 0.8, beta2: 0.95)
        try after.loadStateDictionary(saved)
        try train(resumed, after, steps: 3)
        for ((name, a), (_, b)) in zip(resumed.namedParameters(), uninterrupted.namedParameters()) {
            expectClose(a, b, absolute: 1e-6, "resumed \(name)")
        }
        try expectFinalWeights(resumed, "adam")
    }

    @Test func loadingStateWithAnUnknownParameterOrWrongShapeThrows() throws {
        let model = try makeModel()
        let optimizer = SGD(parameters: model.namedParameters(), learningRate: 0.1, momentum: 0.9)
        #expect(throws: OptimizerStateError.self) { try optimizer.loadStateDictionary(["decoder.weight.step": Tensor(1)]) }
        let error = try #require(throws: OptimizerStateError.self) {
            try optimizer.loadStateDictionary(["layers.0.bias.step": Tensor(1), "layers.0.bias.momentumBuffer": Tensor.zeros([5])])
        }
        #expect(error.description.contains("layers.0.bias.momentumBuffer has shape [5], expected [4]"))
    }

    @Test func stepSkipsParametersWithoutGradients() throws {
        let model = try makeModel()
        let optimizer = Adam(parameters: model.namedParameters(), learningRate: 0.1)
        model.layers[0].freeze()
        let frozen = model.layers[0].weight.scalars
        try train(model, optimizer, steps: 2)
        #expect(model.layers[0].weight.scalars == frozen)
        #expect(optimizer.state["layers.0.weight"] == nil, "no state is created for a parameter never updated")
        #expect(optimizer.state["layers.1.weight"]?["step"]?.item == 2)
    }

    @Test func larsExcludesBiasesAndNormalizationParametersByName() {
        #expect(LARS.biasesAndNormalization("encoder.layers.0.bias"))
        #expect(LARS.biasesAndNormalization("blocks.1.norm1.weight"))
        #expect(LARS.biasesAndNormalization("projector.batchNorm.weight"))
        #expect(!LARS.biasesAndNormalization("encoder.layers.0.weight"))
        #expect(!LARS.biasesAndNormalization("normalizer"), "only module names are matched, not the parameter's own name")
    }

    @Test func clippingScalesAllGradientsByOneFactorAndReturnsTheNorm() throws {
        let model = try makeModel()
        for (name, parameter) in model.namedParameters() {
            parameter.grad = try fixture.tensor("clip.grad.\(name)")
        }
        let norm = clipGradientNorm(model.parameters(), maximumNorm: 0.1)
        #expect(Swift.abs(norm - (try fixture.tensor("clip.norm").item)) < 1e-5)
        for (name, parameter) in model.namedParameters() {
            expectClose(try #require(parameter.grad), try fixture.tensor("clip.clipped.\(name)"), absolute: 1e-6, "clipped \(name)")
        }
        // Below the threshold nothing changes.
        let unclipped = model.parameters().map { $0.grad!.scalars }
        let smallNorm = clipGradientNorm(model.parameters(), maximumNorm: 10)
        #expect(Swift.abs(smallNorm - 0.1) < 1e-5)
        #expect(model.parameters().map { $0.grad!.scalars } == unclipped)
    }
}
