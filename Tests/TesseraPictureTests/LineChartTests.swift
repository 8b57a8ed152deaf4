import Testing

@testable import TesseraPicture

@Suite struct LineChartTests {
    @Test func aRisingSeriesRunsFromTheLowerLeftToTheUpperRightInItsColour() {
        let rising = LineChart.Series(name: "accuracy", points: (0...10).map { (x: Double($0), y: Double($0) / 10) })
        let falling = LineChart.Series(name: "loss", points: (0...10).map { (x: Double($0), y: 1 - Double($0) / 10) })
        let image = LineChart(panels: [.init(title: "curves", series: [rising, falling])]).render()
        #expect(image.width == 900 && image.height == 300)
        // Area: x 80…880, y 30…260; y shows −0.05…1.05, so 0 is at 260 − 10 and 1 at 260 − 219.
        #expect(image.get(81, 251) == CategoricalPalette.color(0))
        #expect(image.get(880, 41) == CategoricalPalette.color(0))
        #expect(image.get(81, 41) == CategoricalPalette.color(1))
        #expect(image.get(880, 251) == CategoricalPalette.color(1))
    }

    @Test func emptyNonFiniteAndHugeSeriesRenderWithoutTrapping() {
        let panels: [LineChart.Panel] = [
            .init(title: "empty", series: []),
            .init(title: "nan", series: [.init(name: "x", points: [(x: .nan, y: 1), (x: 1, y: .infinity)])]),
            .init(title: "huge", series: [.init(name: "x", points: [(x: 0, y: 1e308), (x: 1, y: -1e308)])]),
            .init(title: "single", series: [.init(name: "x", points: [(x: 5, y: 5)])]),
        ]
        let image = LineChart(panels: panels).render()
        #expect(image.height == 4 * 300)
        // The single point is a short mark in the middle of its panel (x range 5…6, y 4.75…5.25).
        #expect(image.get(80, 900 + 145) == CategoricalPalette.color(0))
    }
}
