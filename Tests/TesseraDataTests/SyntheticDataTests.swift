import Foundation
import Testing
import TesseraTensor
@testable import TesseraData

@Suite("Synthetic data sets")
struct SyntheticDataTests {
    static func points(_ data: TensorDataset, label: Int) -> [(x: Float, y: Float)] {
        (0..<data.count).filter { data.labels.scalars[$0] == Float(label) }
            .map { (data.inputs[element: $0, 0], data.inputs[element: $0, 1]) }
    }

    static func mean(_ values: [Float]) -> Float { values.reduce(0, +) / Float(values.count) }

    static func classCounts(_ data: TensorDataset, classes: Int) -> [Int] {
        (0..<classes).map { label in data.labels.scalars.filter { $0 == Float(label) }.count }
    }

    @Test func moonsHaveTheirHalfCircleMeans() {
        var rng = RandomGenerator(seed: 1)
        let moons = SyntheticPoints.moons(count: 2001, noise: 0.1, generator: &rng)
        #expect(moons.inputs.shape == [2001, 2])
        #expect(Self.classCounts(moons, classes: 2) == [1001, 1000])
        let upper = Self.points(moons, label: 0), lower = Self.points(moons, label: 1)
        // Mean of (cos t, sin t) over t in [0, π] is (0, 2/π); the lower moon is shifted to (1, 0.5 − 2/π).
        #expect(abs(Self.mean(upper.map(\.x))) < 0.02)
        #expect(abs(Self.mean(upper.map(\.y)) - 2 / Float.pi) < 0.02)
        #expect(abs(Self.mean(lower.map(\.x)) - 1) < 0.02)
        #expect(abs(Self.mean(lower.map(\.y)) - (0.5 - 2 / Float.pi)) < 0.02)
    }

    @Test func circlesInnerRadiusIsFactorTimesOuter() {
        var rng = RandomGenerator(seed: 2)
        let exact = SyntheticPoints.circles(count: 200, factor: 0.3, generator: &rng)
        let radius = { (p: (x: Float, y: Float)) in (p.x * p.x + p.y * p.y).squareRoot() }
        #expect(Self.points(exact, label: 0).allSatisfy { abs(radius($0) - 1) < 1e-5 })
        #expect(Self.points(exact, label: 1).allSatisfy { abs(radius($0) - 0.3) < 1e-5 })
        let noisy = SyntheticPoints.circles(count: 2000, factor: 0.5, noise: 0.05, generator: &rng)
        let ratio = Self.mean(Self.points(noisy, label: 1).map(radius)) / Self.mean(Self.points(noisy, label: 0).map(radius))
        #expect(abs(ratio - 0.5) < 0.02)
        #expect(Self.classCounts(noisy, classes: 2) == [1000, 1000])
    }

    @Test func spiralPointsLieOnTheirArm() {
        var rng = RandomGenerator(seed: 3)
        let spirals = SyntheticPoints.spirals(count: 300, arms: 3, turns: 1.5, generator: &rng)
        #expect(Self.classCounts(spirals, classes: 3) == [100, 100, 100])
        for arm in 0..<3 {
            for point in Self.points(spirals, label: arm) {
                let radius = (point.x * point.x + point.y * point.y).squareRoot()
                let turn = atan2(point.y, point.x) / (2 * Float.pi) - 1.5 * radius   // = arm / 3 (mod 1)
                let phase = (turn - Float(arm) / 3).truncatingRemainder(dividingBy: 1)
                #expect(min(abs(phase), 1 - abs(phase)) < 1e-3)
            }
        }
    }

    @Test func gaussianMixtureClassesCentreOnTheRing() {
        var rng = RandomGenerator(seed: 4)
        let mixture = SyntheticPoints.gaussianMixture(count: 4000, components: 4, radius: 3, standardDeviation: 0.25, generator: &rng)
        #expect(Self.classCounts(mixture, classes: 4) == [1000, 1000, 1000, 1000])
        for component in 0..<4 {
            let members = Self.points(mixture, label: component)
            let angle = 2 * Float.pi * Float(component) / 4
            let meanX = Self.mean(members.map(\.x)), meanY = Self.mean(members.map(\.y))
            #expect(abs(meanX - 3 * cos(angle)) < 0.05 && abs(meanY - 3 * sin(angle)) < 0.05)
            let spread = Self.mean(members.map { ($0.x - meanX) * ($0.x - meanX) }).squareRoot()
            #expect(abs(spread - 0.25) < 0.025)
        }
    }

    @Test func checkerboardClassIsTheParityOfTheCell() {
        var rng = RandomGenerator(seed: 5)
        let board = SyntheticPoints.checkerboard(count: 1000, cells: 4, generator: &rng)
        #expect(Self.classCounts(board, classes: 2) == [500, 500])
        for index in 0..<board.count {
            let x = board.inputs[element: index, 0], y = board.inputs[element: index, 1]
            #expect((0..<4).contains(x) && (0..<4).contains(y))
            #expect(Float((Int(x) + Int(y)) % 2) == board.labels.scalars[index])
        }
        // All 16 cells are used.
        let cells = Set((0..<board.count).map { Int(board.inputs[element: $0, 0]) * 4 + Int(board.inputs[element: $0, 1]) })
        #expect(cells.count == 16)
    }

    @Test func sameGeneratorStateGivesTheSameSet() {
        var first = RandomGenerator(seed: 6), second = RandomGenerator(seed: 6), third = RandomGenerator(seed: 7)
        let a = SyntheticPoints.moons(count: 50, noise: 0.1, generator: &first)
        let b = SyntheticPoints.moons(count: 50, noise: 0.1, generator: &second)
        let c = SyntheticPoints.moons(count: 50, noise: 0.1, generator: &third)
        #expect(a.inputs.scalars == b.inputs.scalars && a.labels.scalars == b.labels.scalars)
        #expect(a.inputs.scalars != c.inputs.scalars)
    }

    /// Facts about the lit pixels of one image: the fraction of their bounding box they fill,
    /// whether the box's corners are dark, whether its centre row and column are fully lit, and
    /// whether the pixel half-way from the centre to the top-left corner is lit.
    static func litBox(_ images: Tensor, _ index: Int, size: Int)
        -> (fill: Float, cornersDark: Bool, centreCrossLit: Bool, diagonalLit: Bool) {
        let pixels = Array(images.scalars[(index * size * size)..<((index + 1) * size * size)])
        let lit = pixels.indices.filter { pixels[$0] > 0 }
        let rows = lit.map { $0 / size }, columns = lit.map { $0 % size }
        let top = rows.min()!, bottom = rows.max()!, left = columns.min()!, right = columns.max()!
        let area = Float((bottom - top + 1) * (right - left + 1))
        let corners = [(top, left), (top, right), (bottom, left), (bottom, right)]
        let centreRow = (top + bottom) / 2, centreColumn = (left + right) / 2
        let crossLit = (left...right).allSatisfy { pixels[centreRow * size + $0] > 0 }
            && (top...bottom).allSatisfy { pixels[$0 * size + centreColumn] > 0 }
        let halfSize = (bottom - top) / 2
        let diagonal = pixels[(centreRow - halfSize / 2) * size + centreColumn - halfSize / 2]
        return (Float(lit.count) / area, corners.allSatisfy { pixels[$0.0 * size + $0.1] == 0 }, crossLit, diagonal > 0)
    }

    @Test func shapeImagesShowTheirClass() {
        var rng = RandomGenerator(seed: 8)
        let shapes = SyntheticShapes.make(count: 300, canvasSize: 16, generator: &rng)
        #expect(shapes.inputs.shape == [300, 1, 16, 16])
        #expect(Self.classCounts(shapes, classes: 3) == [100, 100, 100])
        #expect(shapes.inputs.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
        for index in 0..<shapes.count {
            let box = Self.litBox(shapes.inputs, index, size: 16)
            #expect(box.centreCrossLit)
            switch SyntheticShapes.Shape(rawValue: Int(shapes.labels.scalars[index]))! {
            case .square: #expect(box.fill == 1)
            case .disc: #expect(box.cornersDark && box.diagonalLit && box.fill > 0.5 && box.fill < 0.85)
            case .cross: #expect(box.cornersDark && !box.diagonalLit && box.fill < 0.6)
            }
        }
    }
}
