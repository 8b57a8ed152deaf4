import Foundation
import Testing
import TesseraTensor
import TesseraData

/// The generated image–caption pairs of CLIP: reproducible, captions that say what the pixels show,
/// and a clear error for a word outside the vocabulary.
struct CaptionedShapesTests {
    @Test func sameSeedGivesTheSamePairs() throws {
        var first = RandomGenerator(seed: 4), second = RandomGenerator(seed: 4), third = RandomGenerator(seed: 5)
        let a = try CaptionedShapes.make(count: 40, generator: &first)
        let b = try CaptionedShapes.make(count: 40, generator: &second)
        let c = try CaptionedShapes.make(count: 40, generator: &third)
        #expect(a.images.inputs.scalars == b.images.inputs.scalars && a.captions == b.captions && a.tokens.scalars == b.tokens.scalars)
        #expect(a.captions != c.captions)
    }

    /// Each image's shape-coloured pixels sit in the quadrant its caption names and cover the area
    /// its size word implies; the caption's words are its attributes and its tokens their ids.
    @Test func captionsSayWhatTheImageShows() throws {
        var generator = RandomGenerator(seed: 9)
        let size = 16, pairs = try CaptionedShapes.make(count: 200, canvasSize: size, generator: &generator)
        #expect(pairs.images.inputs.shape == [200, 3, size, size] && pairs.tokens.shape == [200, 8])
        let pixels = pairs.images.inputs.scalars, plane = size * size
        for index in 0..<pairs.count {
            let attributes = pairs.attributes[index], color = ColoredShapes.palette[attributes.color]
            #expect(attributes.color != pairs.backgroundColors[index])
            let lit = (0..<plane).filter { pixel in
                zip([color.red, color.green, color.blue], 0..<3).allSatisfy { pixels[(index * 3 + $0.1) * plane + pixel] == $0.0 }
            }
            let rows = lit.map { $0 / size }, columns = lit.map { $0 % size }
            let centreRow = (rows.min()! + rows.max()!) / 2, centreColumn = (columns.min()! + columns.max()!) / 2
            #expect((centreRow < size / 2) == attributes.isTop && (centreColumn < size / 2) == attributes.isLeft, "\(pairs.captions[index])")
            #expect((rows.max()! - rows.min()! >= 8) == attributes.isLarge, "\(pairs.captions[index])")
            let words = pairs.captions[index].split(separator: " ").map(String.init)
            #expect(words.contains(color.name) && words.contains(CaptionedShapes.shapeWords[attributes.shape.rawValue]))
            #expect(pairs.tokens.scalars[(index * 8)..<(index * 8 + 8)].map { CaptionedShapes.vocabulary[Int($0)] } == words)
        }
        #expect(pairs.captions[0] == CaptionedShapes.caption(pairs.attributes[0]))
    }

    @Test func aCaptionWithAnUnknownTokenNamesTheTokenAndTheCaption() throws {
        #expect(try CaptionedShapes.tokens(of: "a small red circle at the top left").count == 8)
        do {
            _ = try CaptionedShapes.tokens(of: "a small purple circle at the top left")
            Issue.record("an unknown word was accepted")
        } catch {
            #expect("\(error)".contains("\"purple\"") && "\(error)".contains("a small purple circle at the top left"), "\(error)")
        }
        #expect(throws: DataError.self) { try CaptionedShapes.validate(template: "a {size} {color} {shape} near the {position}") }
        var generator = RandomGenerator(seed: 1)
        #expect(throws: DataError.self) { try CaptionedShapes.make(count: 4, canvasSize: 10, generator: &generator) }
    }
}
