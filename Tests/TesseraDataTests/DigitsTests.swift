import Foundation
import Testing
import TesseraTensor
@testable import TesseraData

@Suite("Digits")
struct DigitsTests {
    /// The bundled CSV, read as plain text independently of `CSVReader`.
    static func labelsInSourceFile() throws -> [Int] {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/TesseraData/Resources/digits.csv")
        let text = try String(contentsOf: url, encoding: .utf8)
        return text.split(separator: "\n").map { Int($0.split(separator: ",")[0])! }
    }

    @Test func holdsAllImagesWithTheClassCountsOfTheFile() throws {
        let digits = try Digits.load()
        #expect(digits.count == 1797)
        #expect(digits.inputShape == [1, 8, 8])
        var loaded = [Int](repeating: 0, count: 10), inFile = [Int](repeating: 0, count: 10)
        for label in digits.labels.scalars { loaded[Int(label)] += 1 }
        for label in try Self.labelsInSourceFile() { inFile[label] += 1 }
        #expect(loaded == inFile)
        #expect(loaded.allSatisfy { (174...183).contains($0) })
    }

    @Test func pixelsAreScaledIntoUnitIntervalAndReachBothEnds() throws {
        let pixels = try Digits.load(layout: .flat).inputs
        #expect(pixels.shape == [1797, 64])
        #expect(pixels.scalars.min() == 0)
        #expect(pixels.scalars.max() == 1)
        // Scaling by 1/16 leaves every value a multiple of 1/16.
        #expect(pixels.scalars.allSatisfy { ($0 * 16).rounded() == $0 * 16 })
    }

    @Test func imageAndFlatLayoutsHoldTheSamePixels() throws {
        let image = try Digits.load(layout: .image), flat = try Digits.load(layout: .flat)
        #expect(image.inputs.scalars == flat.inputs.scalars)
        // The file's first row is "0,0,0,5,13,…": a 0 whose top row reads 0, 0, 5, 13.
        #expect(image.labels.scalars[0] == 0)
        #expect(image.inputs[element: 0, 0, 0, 2] == 5.0 / 16)
        #expect(image.inputs[element: 0, 0, 0, 3] == 13.0 / 16)
    }

    @Test func splitIsEightyTwentyDisjointAndStratified() throws {
        let split = try Digits.split(seed: 1)
        #expect(split.train.count + split.test.count == 1797)
        #expect(abs(split.test.count - 359) <= 5)
        #expect(Set(split.trainIndices).isDisjoint(with: split.testIndices))
        #expect(Set(split.trainIndices + split.testIndices).count == 1797)
        let all = try Digits.load()
        for digit in 0..<10 {
            let total = all.labels.scalars.filter { $0 == Float(digit) }.count
            let inTest = split.test.labels.scalars.filter { $0 == Float(digit) }.count
            #expect(abs(Double(inTest) - 0.2 * Double(total)) <= 0.5)
        }
        // The test subset holds the examples its indices name.
        #expect(split.test.inputs.scalars.prefix(64) == all.example(at: split.testIndices[0]).input.scalars[...])
    }

    @Test func sameSeedGivesSameSplitAndOtherSeedAnother() throws {
        let first = try Digits.split(seed: 5), again = try Digits.split(seed: 5), other = try Digits.split(seed: 6)
        #expect(first.testIndices == again.testIndices)
        #expect(first.testIndices != other.testIndices)
        let plain = try Digits.split(seed: 5, stratified: false)
        #expect(plain.test.count == 359)
        #expect(plain.testIndices != first.testIndices)
    }
}
