import Foundation
import Testing
import TesseraData
import TesseraSelfSupervised
import TesseraTensor

/// Colorization: the documented grey levels, the colour bins and the coloured shapes set.
struct ColorizationTests {
    @Test func coloursConvertToTheBT601GreyAndBackToTheirBins() throws {
        // Eight pixels in a row, one per palette colour.
        let palette = ColoredShapes.palette
        let image = Tensor(shape: [1, 3, 1, palette.count],
                           scalars: palette.map(\.red) + palette.map(\.green) + palette.map(\.blue))
        let task = try Colorization.batch(image)
        let expected = palette.map { 0.299 * $0.red + 0.587 * $0.green + 0.114 * $0.blue }
        #expect(task.inputs.shape == [1, 1, 1, palette.count])
        #expect(zip(task.inputs.scalars, expected).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(Set(task.inputs.scalars).count == palette.count, "every palette colour has its own grey level")
        #expect(task.bins.scalars == (0..<palette.count).map(Float.init))
        #expect(task.colors.scalars == image.scalars)
    }

    @Test func coloredShapesPaintTheShapeAndBackgroundInDifferentPaletteColours() throws {
        var generator = RandomGenerator(seed: 2)
        let set = ColoredShapes.make(count: 30, canvasSize: 12, generator: &generator)
        #expect(set.dataset.inputs.shape == [30, 3, 12, 12])
        #expect(set.dataset.labels.scalars.filter { $0 == 0 }.count == 10)
        let bins = try Colorization.bins(set.dataset.inputs)
        for image in 0..<30 {
            #expect(set.shapeColors[image] != set.backgroundColors[image])
            let present = Set(bins.select(alongAxis: 0, index: image).scalars.map(Int.init))
            #expect(present == [set.shapeColors[image], set.backgroundColors[image]])
        }
        let logits = Tensor.zeros([30, Colorization.binCount, 12, 12])
        #expect(abs(Colorization.binnedLoss(logits: logits, bins: bins).item - log(Float(Colorization.binCount))) < 1e-4)
    }
}
