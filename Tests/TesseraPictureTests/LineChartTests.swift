import Foundation
import Testing

@testable import TesseraPicture

@Suite struct LineChartTests {
    @Test func aRisingSeriesRunsFromTheLowerLeftToTheUpperRightInItsColour() throws {
        let rising = LineChart.Series(name: "accuracy", points: (0...10).map { (x: Double($0), y: Double($0) / 10) })
        let falling = LineChart.Series(name: "loss", points: (0...10).map { (x: Double($0), y: 1 - Double($0) / 10) })
        let chart = LineChart(panels: [.init(title: "curves", series: [rising, falling])])
        let image = chart.render()
        #expect(image.width == 900 && image.height == 300)
        // The crossing lines take all four corners, so the legend sits right of a narrower area;
        // y shows 0…1.05 (the data are ≥ 0), so 0 is on the bottom edge.
        let area = try #require(chart.layout(chart.panels[0], top: 0)).area
        #expect(area.left == 80 && area.right < 880 && area.top == 30 && area.bottom == 260)
        #expect(area.y.lowerBound == 0 && abs(area.y.upperBound - 1.05) < 1e-12)
        #expect(image.get(81, 260) == CategoricalPalette.color(0))
        #expect(image.get(area.right, area.pixel(10, 1).y) == CategoricalPalette.color(0))
        #expect(image.get(81, area.pixel(0, 1).y) == CategoricalPalette.color(1))
        #expect(image.get(area.right, 260) == CategoricalPalette.color(1))
    }

    @Test func emptyNonFiniteAndHugeSeriesRenderWithoutTrapping() {
        let panels: [LineChart.Panel] = [
            .init(title: "empty", series: []),
            .init(title: "nan", series: [.init(name: "x", points: [(x: .nan, y: 1), (x: 1, y: .infinity)])]),
            .init(title: "huge", series: [.init(name: "x", points: [(x: 0, y: 1e308), (x: 1, y: -1e308)])]),
            .init(title: "single", series: [.init(name: "x", points: [(x: 5, y: 5)])]),
            .init(title: "log of nothing positive", series: [.init(name: "x", points: [(x: 0, y: 0), (x: 1, y: -1)])], logarithmic: true),
        ]
        let image = LineChart(panels: panels, smoothing: 0.6).render()
        #expect(image.height == 5 * 300)
        // The single point is a short mark in the middle of its panel (x range 5…6, y 4.75…5.25).
        #expect(image.get(80, 900 + 145) == CategoricalPalette.color(0))
    }

    /// Whether any point of the series, or any of 50 points along each segment between two of
    /// them (in data space, mapped by the area), lands in the legend grown by the line width.
    func legendCoversData(_ chart: LineChart, _ panel: LineChart.Panel) throws -> Bool {
        let layout = try #require(chart.layout(panel, top: 0))
        let legend = try #require(layout.legend)
        let grown = LineChart.Rectangle(x: legend.x - 2, y: legend.y - 2, width: legend.width + 4, height: legend.height + 4)
        for series in panel.series {
            let smoothed = chart.smoothing > 0 ? exponentialMovingAverage(series.points.map(\.y), weight: chart.smoothing) : series.points.map(\.y)
            for ys in [series.points.map(\.y), smoothed] {
                let points = zip(series.points, ys).map { (x: $0.x, y: $1) }
                for (a, b) in zip(points, points.dropFirst()) {
                    for t in stride(from: 0.0, through: 1.0, by: 0.02) {
                        let pixel = layout.area.pixel(a.x + t * (b.x - a.x), a.y + t * (b.y - a.y))
                        if grown.contains(pixel.x, pixel.y) { return true }
                    }
                }
            }
        }
        return false
    }

    @Test func theLegendTakesAnEmptyCornerOrGoesOutsideButNeverCoversData() throws {
        let steps = (0...200).map(Double.init)
        let loss = LineChart.Series(name: "loss", points: steps.map { (x: $0, y: 2.3 * exp(-$0 / 30) + 0.05) })
        let accuracy = LineChart.Series(name: "test_accuracy", points: steps.map { (x: $0, y: 1 - 0.9 * exp(-$0 / 40)) })
        var generator = SplitMix(seed: 7)
        let noise = LineChart.Series(name: "noise", points: steps.map { (x: $0, y: 2.4 * Double(generator.next() % 1000) / 1000) })

        let falling = LineChart(panels: [.init(title: "loss", series: [loss])])
        let fallingLayout = try #require(falling.layout(falling.panels[0], top: 0))
        #expect(fallingLayout.legend!.x > fallingLayout.area.left + 400, "a falling loss leaves the top right free")
        #expect(try !legendCoversData(falling, falling.panels[0]))

        let rising = LineChart(panels: [.init(title: "accuracy", series: [accuracy])])
        let risingLayout = try #require(rising.layout(rising.panels[0], top: 0))
        #expect(risingLayout.legend!.x < risingLayout.area.left + 100, "a rising accuracy fills the top right, so top left")
        #expect(try !legendCoversData(rising, rising.panels[0]))

        let crowded = LineChart(panels: [.init(title: "everything", series: [loss, accuracy, noise])], smoothing: 0.6)
        let crowdedLayout = try #require(crowded.layout(crowded.panels[0], top: 0))
        #expect(crowdedLayout.legend!.x > crowdedLayout.area.right, "noise over the whole area: the legend goes outside")
        #expect(try !legendCoversData(crowded, crowded.panels[0]))
    }

    @Test func aLossAxisStartsAtZeroAndASignedOneCrossesIt() throws {
        let chart = LineChart(panels: [
            .init(title: "loss", series: [.init(name: "loss", points: [(x: 0, y: 2.38), (x: 10, y: 0.01)])]),
            .init(title: "return", series: [.init(name: "return", points: [(x: 0, y: -1), (x: 10, y: 1)])]),
            .init(title: "negative", series: [.init(name: "log_likelihood", points: [(x: 0, y: -3), (x: 10, y: -0.01)])]),
        ])
        #expect(try #require(chart.layout(chart.panels[0], top: 0)).area.y.lowerBound == 0)
        #expect(try #require(chart.layout(chart.panels[1], top: 0)).area.y.lowerBound < -1)
        #expect(try #require(chart.layout(chart.panels[2], top: 0)).area.y.upperBound == 0)
        // Data far from zero keep their own range: accuracies 0.9…0.97 are not squashed into 0…1.
        let near = PlotArea.valueRange(low: 0.9, high: 0.97)
        #expect(near.lowerBound > 0.89 && near.lowerBound < 0.9 && near.upperBound > 0.97 && near.upperBound < 0.98)
        let loss = PlotArea.valueRange(low: 0.12, high: 2.3)
        #expect(loss.lowerBound == 0 && abs(loss.upperBound - (2.3 + 0.05 * 2.18)) < 1e-12)
    }

    @Test func aLogAxisSpacesDecadesEquallyAndLeavesOutValuesThatAreNotPositive() throws {
        let series = LineChart.Series(name: "loss", points: [(x: 0, y: 100), (x: 1, y: 10), (x: 2, y: 1), (x: 3, y: 0)])
        let chart = LineChart(panels: [.init(title: "loss", series: [series], logarithmic: true)])
        let layout = try #require(chart.layout(chart.panels[0], top: 0))
        #expect(layout.area.logY && layout.area.y.lowerBound > 0 && layout.area.y.lowerBound < 1)
        let ys = layout.lines[0].smoothed.map(\.y)
        #expect(ys.count == 3, "the zero is left out")
        #expect(abs((ys[2] - ys[1]) - (ys[1] - ys[0])) <= 1, "each decade takes the same height: \(ys)")
        #expect(ys[0] < ys[1] && ys[1] < ys[2])
        #expect(AxisTicks.logarithmic(layout.area.y) == [1, 10, 100])
    }

    @Test func smoothingDrawsTheAverageInFullColourOverAFaintRawCurve() throws {
        let zigzag = LineChart.Series(name: "loss", points: (0...40).map { (x: Double($0), y: $0 % 2 == 0 ? 1.0 : 3.0) })
        let chart = LineChart(panels: [.init(title: "loss", series: [zigzag])], smoothing: 0.9)
        let layout = try #require(chart.layout(chart.panels[0], top: 0))
        let raw = try #require(layout.lines[0].raw)
        #expect(raw.map(\.y) == zigzag.points.map { layout.area.pixel($0.x, $0.y).y })
        let image = chart.render()
        // Near the end the average is close to 2: its pixel is the full colour, the raw peaks faint.
        let last = layout.lines[0].smoothed.last!
        #expect(abs(last.y - layout.area.pixel(40, 2).y) < 15)
        #expect(image.get(layout.lines[0].smoothed[30].x, layout.lines[0].smoothed[30].y) == CategoricalPalette.color(0))
        #expect(image.get(raw[31].x, raw[31].y) == LineChart.faint(CategoricalPalette.color(0)))
    }
}

/// A small deterministic generator for test data.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
