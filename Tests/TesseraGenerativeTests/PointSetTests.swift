import Foundation
import Testing
import TesseraTensor
@testable import TesseraGenerative

/// The point-set data, its metrics, and SchNet's continuous-filter convolution.
@Suite struct PointSetTests {
    static func randomSets(_ count: Int, generator: inout RandomGenerator) throws -> [PointSet] {
        try (0..<count).map { _ in
            let atoms = 3 + generator.nextInt(below: 2)
            let positions = (0..<atoms).map { _ in [generator.nextUniform() * 3 - 1.5, generator.nextUniform() * 3 - 1.5] }
            return try PointSet(positions: positions, types: (0..<atoms).map { _ in generator.nextInt(below: MoleculeTemplates.typeCount) })
        }
    }

    @Test func generatedMoleculesAreValidAndRandomPointsAreNot() throws {
        var generator = RandomGenerator(seed: 1)
        let data = try MoleculeTemplates.generate(count: 200, noise: 0.02, generator: &generator)
        #expect(MoleculeTemplates.validShare(data) >= 0.99)
        #expect(Set(data.map(\.count)) == [3, 4], "every template appears")
        let random = try Self.randomSets(200, generator: &generator)
        #expect(MoleculeTemplates.validShare(random) < 0.05)
        // Validity ignores rotation and order: a reversed, rotated template is still valid.
        var square = MoleculeTemplates.templates[2]
        square.positions = square.positions.reversed().map { [-$0[1], $0[0]] }
        square.types.reverse()
        #expect(MoleculeTemplates.isValid(square))
        square.types[0] = 1
        #expect(!MoleculeTemplates.isValid(square), "a wrong atom type is invalid")
    }

    @Test func histogramDistanceSeparatesDataFromNoise() throws {
        var generator = RandomGenerator(seed: 2)
        let first = try pairwiseDistanceHistogram(MoleculeTemplates.generate(count: 300, generator: &generator))
        let second = try pairwiseDistanceHistogram(MoleculeTemplates.generate(count: 300, generator: &generator))
        let random = try pairwiseDistanceHistogram(Self.randomSets(300, generator: &generator))
        #expect(abs(first.reduce(0, +) - 1) < 1e-12)
        let same = try histogramDistance(first, second), different = try histogramDistance(first, random)
        #expect(same < 0.1 && different > 0.4, "data vs data \(same), data vs random points \(different)")
        #expect(throws: GenerativeError("histogramDistance: both histograms need the same bins, got 30 and 2")) {
            try histogramDistance(first, [0.5, 0.5])
        }
    }

    @Test func continuousFilterConvolutionIsInvariantToRigidMotionsAndEquivariantToOrder() throws {
        var generator = RandomGenerator(seed: 3)
        let convolution = try ContinuousFilterConvolution(features: 4, basisCount: 10, cutoff: 3, generator: &generator)
        let features = Tensor.randomNormal([4, 4], generator: &generator)
        let positions = Tensor.randomNormal([4, 2], generator: &generator)
        let output = try convolution(features, positions: positions)
        let (c, s): (Float, Float) = (cos(0.7), sin(0.7))
        let moved = positions.matmul(Tensor([[c, s], [-s, c]])) + Tensor([3, -1])
        expectClose(try convolution(features, positions: moved), output, absolute: 1e-5, relative: 1e-4, "rotated and shifted")
        let order = Tensor([2, 0, 3, 1])
        let permuted = try convolution(features.indexSelect(alongAxis: 0, indices: order), positions: positions.indexSelect(alongAxis: 0, indices: order))
        expectClose(permuted, output.indexSelect(alongAxis: 0, indices: order), absolute: 1e-5, relative: 1e-4, "reordered")
        // Moving one atom changes the others' outputs: the filter really depends on distance.
        let nudged = positions + Tensor(shape: [4, 2]) { $0 == 0 ? 0.5 : 0 }
        #expect((try convolution(features, positions: nudged) - output).abs().max().item > 1e-3)
    }

    @Test func continuousFilterConvolutionGradientMatchesFiniteDifferences() throws {
        var generator = RandomGenerator(seed: 4)
        let convolution = try ContinuousFilterConvolution(features: 3, basisCount: 8, cutoff: 3, generator: &generator)
        let features = Tensor.randomNormal([3, 3], generator: &generator)
        let positions = Tensor.randomNormal([3, 2], generator: &generator)
        expectGradientMatchesFiniteDifferences(positions, step: 1e-2, tolerance: 2e-2, "∂/∂positions") { p in
            (try! convolution(features, positions: p)).pow(2).sum()
        }
    }

    @Test func badPointSetsThrow() {
        #expect(throws: GenerativeError("PointSet: expected one type per position, got 2 positions and 1 types")) {
            try PointSet(positions: [[0, 0], [1, 0]], types: [0])
        }
        #expect(throws: GenerativeError("PointSet: expected at least one position, all with 2 or 3 coordinates")) {
            try PointSet(positions: [[0, 0], [1, 0, 2]], types: [0, 1])
        }
    }
}
