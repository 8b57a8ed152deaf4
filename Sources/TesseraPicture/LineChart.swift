import Foundation

/// Line charts of training curves: one panel per metric group, stacked vertically, with axes,
/// tick labels and a legend, written as PNG.
public struct LineChart {
    public struct Series {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public init(name: String, points: [(x: Double, y: Double)]) {
            self.name = name
            self.points = points
        }
    }

    public struct Panel {
        public var title: String
        public var series: [Series]
        public init(title: String, series: [Series]) {
            self.title = title
            self.series = series
        }
    }

    public var panels: [Panel]
    public var xLabel: String
    public var width = 900
    public var panelHeight = 300

    public init(panels: [Panel], xLabel: String = "step") {
        self.panels = panels
        self.xLabel = xLabel
    }

    public func render() -> RGBImage {
        var image = RGBImage(width: width, height: panelHeight * max(panels.count, 1))
        for (index, panel) in panels.enumerated() {
            draw(panel, into: &image, top: index * panelHeight)
        }
        return image
    }

    private func draw(_ panel: Panel, into image: inout RGBImage, top: Int) {
        let black: (UInt8, UInt8, UInt8) = (0, 0, 0)
        image.draw(text: panel.title, x: 80, y: top + 8, color: black, scale: 2)
        let points = panel.series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        guard let minX = points.map(\.x).min(), let maxX = points.map(\.x).max(),
              let minY = points.map(\.y).min(), let maxY = points.map(\.y).max() else { return }
        // Steps start at the left edge; values get headroom above and below.
        let area = PlotArea(left: 80, right: width - 20, top: top + 30, bottom: top + panelHeight - 40,
                            x: minX...(maxX > minX ? maxX : minX + 1), y: PlotArea.paddedRange(low: minY, high: maxY))
        area.drawAxes(into: &image, xLabel: xLabel)
        for (index, series) in panel.series.enumerated() {
            let color = CategoricalPalette.color(index)
            let finite = series.points.filter { $0.x.isFinite && $0.y.isFinite }
            for (a, b) in zip(finite, finite.dropFirst()) {
                let (x0, y0) = area.pixel(a.x, a.y), (x1, y1) = area.pixel(b.x, b.y)
                image.drawLine(x0, y0, x1, y1, color: color, thickness: 2)
            }
            if finite.count == 1 {
                let (x, y) = area.pixel(finite[0].x, finite[0].y)
                image.drawLine(x - 2, y, x + 2, y, color: color, thickness: 3)
            }
            let legendY = area.top + 4 + index * 12
            image.drawLine(area.right - 150, legendY + 3, area.right - 135, legendY + 3, color: color, thickness: 2)
            image.draw(text: series.name, x: area.right - 130, y: legendY, color: black)
        }
    }
}
