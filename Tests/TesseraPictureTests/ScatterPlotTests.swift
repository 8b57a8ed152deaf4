import Testing

@testable import TesseraPicture

@Suite struct ScatterPlotTests {
    typealias Color = (UInt8, UInt8, UInt8)

    /// The mean position of the pixels of `color` inside the plot area, and their count.
    private func centroid(of color: Color, in image: RGBImage, area: PlotArea) -> (x: Double, y: Double, count: Int) {
        var (sumX, sumY, count) = (0, 0, 0)
        for y in area.top...area.bottom {
            for x in area.left...area.right where image.get(x, y) == color {
                sumX += x; sumY += y; count += 1
            }
        }
        return count == 0 ? (.nan, .nan, 0) : (Double(sumX) / Double(count), Double(sumY) / Double(count), count)
    }

    @Test func pointsAtTheCornersOfTheDataRangeLandNearThePlotAreaCornersInTheirClassColours() {
        let plot = ScatterPlot(points: [.init(x: -2, y: 10, classIndex: 0), .init(x: 4, y: 30, classIndex: 3)], title: "corners")
        let image = plot.render(), area = plot.plotArea()
        let lowerLeft = centroid(of: CategoricalPalette.color(0), in: image, area: area)
        let upperRight = centroid(of: CategoricalPalette.color(3), in: image, area: area)
        let size = Double(area.right - area.left)
        #expect(lowerLeft.count > 10 && upperRight.count > 10)
        // Inside the area (5% headroom), and within 10% of its width from the corner.
        #expect(lowerLeft.x > Double(area.left) && lowerLeft.x - Double(area.left) < 0.1 * size)
        #expect(lowerLeft.y < Double(area.bottom) && Double(area.bottom) - lowerLeft.y < 0.1 * size)
        #expect(upperRight.x < Double(area.right) && Double(area.right) - upperRight.x < 0.1 * size)
        #expect(upperRight.y > Double(area.top) && upperRight.y - Double(area.top) < 0.1 * size)
        let (x, y) = area.pixel(-2, 10)
        #expect(image.get(x, y) == CategoricalPalette.color(0))
    }

    @Test func theTenClassColoursAreDistinctAndIndicesWrap() {
        let colors = CategoricalPalette.colors
        #expect(colors.count >= 10)
        for i in colors.indices {
            for j in colors.indices where j > i {
                let distance = abs(Int(colors[i].0) - Int(colors[j].0)) + abs(Int(colors[i].1) - Int(colors[j].1)) + abs(Int(colors[i].2) - Int(colors[j].2))
                #expect(distance > 60, "colours \(i) and \(j) are too close")
            }
        }
        #expect(CategoricalPalette.color(13) == colors[3])
        #expect(CategoricalPalette.color(-1) == colors[9])
    }

    @Test func aSinglePointAndAllEqualPointsLandInTheMiddle() {
        for points in [[ScatterPlot.Point(x: 3, y: 3, classIndex: 2)], Array(repeating: .init(x: 0, y: 0, classIndex: 2), count: 5)] {
            let plot = ScatterPlot(points: points, title: "degenerate")
            let image = plot.render(), area = plot.plotArea()
            let middle = centroid(of: CategoricalPalette.color(2), in: image, area: area)
            #expect(abs(middle.x - Double(area.left + area.right) / 2) < 2)
            #expect(abs(middle.y - Double(area.top + area.bottom) / 2) < 2)
        }
    }

    @Test func nonFinitePointsAreSkippedAndCountedInTheTitle() {
        let plot = ScatterPlot(points: [.init(x: .nan, y: 1), .init(x: 1, y: .infinity), .init(x: 2, y: 2, classIndex: 1)], title: "nan")
        #expect(plot.displayedTitle == "nan (2 non-finite points skipped)")
        let image = plot.render(), area = plot.plotArea()
        #expect(centroid(of: CategoricalPalette.color(1), in: image, area: area).count > 10)
        #expect(ScatterPlot(points: [.init(x: 1, y: 1)], title: "t").displayedTitle == "t")
        #expect(ScatterPlot(points: [.init(x: .nan, y: .nan)], title: "t").displayedTitle == "t (1 non-finite point skipped)")
    }

    @Test func extremeAndEmptyInputsRenderWithoutTrapping() {
        let cases: [[ScatterPlot.Point]] = [
            [], [.init(x: .nan, y: .nan)],
            [.init(x: -1e308, y: 0), .init(x: 1e308, y: .greatestFiniteMagnitude)],
            [.init(x: 0, y: 0, classIndex: -7), .init(x: 1e-300, y: 1e-300, classIndex: Int.max)],
        ]
        for points in cases {
            #expect(ScatterPlot(points: points, title: "extreme").render().width == 600)
        }
        var tiny = ScatterPlot(points: [.init(x: 0, y: 0), .init(x: 1, y: 1)], title: "tiny", classNames: ["a", "b"])
        (tiny.width, tiny.height) = (10, 10)
        #expect(tiny.render().pixels.count == 10 * 10 * 3)
    }

    @Test func labelsAndLegendAreDrawnBesideTheDotsAndTheArea() {
        var plot = ScatterPlot(points: [.init(x: 0, y: 0, label: "17"), .init(x: 1, y: 1, classIndex: 1)], title: "labels")
        let unlabeled = ScatterPlot(points: [.init(x: 0, y: 0), .init(x: 1, y: 1, classIndex: 1)], title: "labels")
        let labelColor: Color = (60, 60, 60)
        let area = plot.plotArea(), (x, y) = area.pixel(0, 0)
        func labelPixels(_ image: RGBImage) -> Int {
            var count = 0
            for dy in -12...0 { for dx in 0...20 where image.get(x + dx, y + dy) == labelColor { count += 1 } }
            return count
        }
        #expect(labelPixels(plot.render()) > 5)
        #expect(labelPixels(unlabeled.render()) == 0)

        plot.classNames = ["zero", "one"]
        let withLegend = plot.plotArea(), image = plot.render()
        #expect(withLegend.right < area.right, "the legend takes a column at the right")
        var swatch = false
        for row in withLegend.top..<(withLegend.top + 40) {
            for column in withLegend.right..<plot.width where image.get(column, row) == CategoricalPalette.color(1) { swatch = true }
        }
        #expect(swatch)
    }

    @Test func theLabelAndTitlePunctuationHasGlyphsThatFitTheCell() {
        for character in "0123456789abcdefghijklmnopqrstuvwxyz.-_:/%()=+*, " {
            let rows = BitmapFont.rows(of: character)
            #expect(rows?.count == BitmapFont.height, "glyph for '\(character)'")
            #expect(rows?.allSatisfy { $0 < 1 << BitmapFont.width } == true, "glyph for '\(character)' is wider than the cell")
        }
        #expect(BitmapFont.rows(of: "*") != BitmapFont.rows(of: " "), "the labelled-node marker is not blank")
    }
}
