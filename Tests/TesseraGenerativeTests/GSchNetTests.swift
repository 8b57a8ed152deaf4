import Foundation
import Testing
import TesseraNN
import TesseraTensor
@testable import TesseraGenerative

/// G-SchNet-style generation: invariances, a normalised position distribution, training, and the stop token.
@Suite struct GSchNetTests {
    func model(seed: UInt64 = 1) throws -> GSchNet {
        var config = GSchNetConfig(typeCount: MoleculeTemplates.typeCount)
        config.features = 16
        var generator = RandomGenerator(seed: seed)
        return try GSchNet(config: config, generator: &generator)
    }

    @Test func predictionsAreInvariantToRigidMotionsOfThePlacedAtoms() throws {
        let gschnet = try model()
        let positions = Tensor([[0, 0], [1, 0.2], [0.3, 1.1]]), types = [1, 0, 2]
        let (c, s): (Float, Float) = (cos(1.1), sin(1.1))
        let moved = positions.matmul(Tensor([[c, s], [-s, c]])) + Tensor([0.7, -2])
        expectClose(try gschnet.nextTypeLogProbabilities(positions: moved, types: types),
                    try gschnet.nextTypeLogProbabilities(positions: positions, types: types), absolute: 1e-5, relative: 1e-4, "types")
        expectClose(try gschnet.distanceLogProbabilities(positions: moved, types: types, nextType: 0),
                    try gschnet.distanceLogProbabilities(positions: positions, types: types, nextType: 0), absolute: 1e-5, relative: 1e-4, "distances")
    }

    @Test func positionDistributionIsNormalisedOverTheGrid() throws {
        let gschnet = try model()
        let logProbabilities = try gschnet.positionLogProbabilities(positions: Tensor([[0, 0], [1, 0]]), types: [0, 1], nextType: 2, grid: gschnet.grid)
        #expect(logProbabilities.shape == [gschnet.grid.shape[0]])
        #expect(abs(logProbabilities.exp().sum().item - 1) < 1e-4)
    }

    @Test func trainingLowersTheNegativeLogLikelihood() throws {
        // Measured on this machine (debug build): 40 steps of 16 sets take 9.5 s and take the
        // valid share of 20 samples from 0 to 0.1, too few samples for a test; the recipe measures
        // validity. Here, 10 steps on 16 sets must lower the NLL.
        var generator = RandomGenerator(seed: 2)
        let data = try MoleculeTemplates.generate(count: 16, noise: 0.02, generator: &generator)
        let gschnet = try model(seed: 3)
        let optimizer = Adam(parameters: gschnet.namedParameters(), learningRate: 1e-2)
        let before = try withoutGradients { try gschnet.negativeLogLikelihood(data).item }
        for _ in 0..<10 {
            optimizer.zeroGradients()
            try gschnet.negativeLogLikelihood(data).backward()
            optimizer.step()
        }
        let after = try withoutGradients { try gschnet.negativeLogLikelihood(data).item }
        #expect(after < before - 1, "NLL \(before) → \(after) nats per set")
    }

    @Test func samplingStopsAtTheStopTokenOrTheAtomLimit() throws {
        var config = GSchNetConfig(typeCount: MoleculeTemplates.typeCount)
        (config.features, config.gridSpacing, config.maximumAtoms) = (8, 0.25, 3)
        var generator = RandomGenerator(seed: 5)
        let gschnet = try GSchNet(config: config, generator: &generator)
        let bias = try #require(gschnet.typeHead.bias)
        bias.assign(Tensor([0, 0, 0, 50]))  // the stop token always wins
        gschnet.typeHead.weight.assign(Tensor.zeros(gschnet.typeHead.weight.shape))
        #expect(try gschnet.sample(count: 4, generator: &generator).allSatisfy { $0.count == 1 })
        bias.assign(Tensor([50, 0, 0, -50]))  // never stop: the limit ends every set, all of type 0 after the first
        let sets = try gschnet.sample(count: 3, generator: &generator)
        #expect(sets.allSatisfy { $0.count == 3 && $0.types.dropFirst().allSatisfy { $0 == 0 } })
        #expect(sets.allSatisfy { $0.positions[0] == [0, 0] && $0.positions.allSatisfy { $0.allSatisfy { abs($0) <= 3.5 } } })
    }

    @Test func badSettingsThrow() throws {
        let gschnet = try model()
        var generator = RandomGenerator(seed: 4)
        #expect(throws: GenerativeError("GSchNet.sample: temperature must be positive and finite, got 0.0")) {
            try gschnet.sample(count: 1, temperature: 0, generator: &generator)
        }
        #expect(throws: GenerativeError("GSchNet: atom type 5 is out of range 0..<3")) {
            try gschnet.nextTypeLogProbabilities(positions: Tensor([[0, 0]]), types: [5])
        }
        #expect(throws: GenerativeError("GSchNet: atom type 3 is out of range 0..<3")) {
            try gschnet.negativeLogLikelihood([PointSet(positions: [[0, 0], [1, 0]], types: [3, 0])])
        }
    }
}
