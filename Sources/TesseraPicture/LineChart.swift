import Foundation

/// Line charts of training curves: one panel per metric group, stacked vertically, with axes at
/// 1-2-5 ticks, a legend where it covers no data, optional TensorBoard smoothing and log scale,
/// written as PNG.
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
        /// A logarithmic y axis (for losses over several decades); values ≤ 0 are left out.
        public var logarithmic: Bool
        public init(title: String, series: [Series], logarithmic: Bool = false) {
            self.title = title
            self.series = series
            self.logarithmic = logarithmic
        }
    }

    /// Pixel rectangle, `x, y` its top-left corner.
    struct Rectangle: Equatable {
        var x: Int, y: Int, width: Int, height: Int
        func contains(_ px: Int, _ py: Int) -> Bool { px >= x && px < x + width && py >= y && py < y + height }
    }

    /// Where a panel draws: its plot area, the legend's rectangle, and each series' polylines in
    /// pixels (the smoothed one, and the raw one drawn faint behind it when smoothing).
    struct Layout {
        var area: PlotArea
        var legend: Rectangle?
        var lines: [(smoothed: [(x: Int, y: Int)], raw: [(x: Int, y: Int)]?)]
    }

    public var panels: [Panel]
    public var xLabel: String
    public var width = 900
    public var panelHeight = 300
    /// TensorBoard's smoothing weight in [0, 1): 0 draws the raw curves; above 0 draws
    /// ``exponentialMovingAverage(_:weight:)`` of each curve with the raw one faint behind it.
    public var smoothing = 0.0

    public init(panels: [Panel], xLabel: String = "step", smoothing: Double = 0) {
        self.panels = panels
        self.xLabel = xLabel
        self.smoothing = smoothing
    }

    public func render() -> RGBImage {
        var image = RGBImage(width: width, height: panelHeight * max(panels.count, 1))
        for (index, panel) in panels.enumerated() {
            draw(panel, into: &image, top: index * panelHeight)
        }
        return image
    }

    /// The finite points of a series (positive ones on a log axis).
    private func plotted(_ series: Series, logarithmic: Bool) -> [(x: Double, y: Double)] {
        series.points.filter { $0.x.isFinite && $0.y.isFinite && (!logarithmic || $0.y > 0) }
    }

    func layout(_ panel: Panel, top: Int) -> Layout? {
        let finite = panel.series.map { plotted($0, logarithmic: panel.logarithmic) }
        let points = finite.flatMap { $0 }
        guard let minX = points.map(\.x).min(), let maxX = points.map(\.x).max(),
              let minY = points.map(\.y).min(), let maxY = points.map(\.y).max() else { return nil }
        // Steps start at the left edge; values get headroom, but not below zero when all are ≥ 0.
        var area = PlotArea(left: 80, right: width - 20, top: top + 30, bottom: top + panelHeight - 40,
                            x: minX...(maxX > minX ? maxX : minX + 1),
                            y: PlotArea.valueRange(low: minY, high: maxY, logarithmic: panel.logarithmic))
        area.logY = panel.logarithmic
        let legendSize = (width: 34 + 6 * (panel.series.map(\.name.count).max() ?? 0), height: 8 + 12 * panel.series.count)

        func lines(in area: PlotArea) -> [(smoothed: [(x: Int, y: Int)], raw: [(x: Int, y: Int)]?)] {
            finite.map { points in
                let raw = points.map { area.pixel($0.x, $0.y) }
                guard smoothing > 0 else { return (raw, nil) }
                let smoothed = exponentialMovingAverage(points.map(\.y), weight: smoothing)
                return (zip(points, smoothed).map { area.pixel($0.x, $1) }, raw)
            }
        }
        // The first inside corner (top right, top left, bottom right, bottom left) that no line
        // passes through; when every corner is taken, the plot narrows and the legend goes right of it.
        let inside = lines(in: area)
        let drawn = inside.flatMap { [$0.smoothed] + ($0.raw.map { [$0] } ?? []) }
        let corners = [(area.right - legendSize.width - 4, area.top + 4), (area.left + 4, area.top + 4),
                       (area.right - legendSize.width - 4, area.bottom - legendSize.height - 4),
                       (area.left + 4, area.bottom - legendSize.height - 4)]
        for (x, y) in corners {
            let legend = Rectangle(x: x, y: y, width: legendSize.width, height: legendSize.height)
            if !drawn.contains(where: { Self.polyline($0, touches: legend, margin: 3) }) {
                return Layout(area: area, legend: legend, lines: inside)
            }
        }
        area.right = max(width - 20 - legendSize.width - 12, area.left + 1)
        let outside = Rectangle(x: area.right + 12, y: area.top, width: legendSize.width, height: legendSize.height)
        return Layout(area: area, legend: outside, lines: lines(in: area))
    }

    /// Whether a line through `points` (drawn 2 pixels thick) comes within `margin` of `rectangle`.
    static func polyline(_ points: [(x: Int, y: Int)], touches rectangle: Rectangle, margin: Int) -> Bool {
        let grown = Rectangle(x: rectangle.x - margin - 2, y: rectangle.y - margin - 2,
                              width: rectangle.width + 2 * margin + 2, height: rectangle.height + 2 * margin + 2)
        if points.count == 1 { return grown.contains(points[0].x, points[0].y) }
        for (a, b) in zip(points, points.dropFirst()) {
            let samples = max(abs(b.x - a.x), abs(b.y - a.y), 1)
            for sample in 0...samples {
                let t = Double(sample) / Double(samples)
                let x = Int((Double(a.x) + t * Double(b.x - a.x)).rounded()), y = Int((Double(a.y) + t * Double(b.y - a.y)).rounded())
                if grown.contains(x, y) { return true }
            }
        }
        return false
    }

    private func draw(_ panel: Panel, into image: inout RGBImage, top: Int) {
        let black: (UInt8, UInt8, UInt8) = (0, 0, 0)
        image.draw(text: panel.title + (panel.logarithmic ? " (log scale)" : ""), x: 80, y: top + 8, color: black, scale: 2)
        guard let layout = layout(panel, top: top) else { return }
        layout.area.drawAxes(into: &image, xLabel: xLabel)
        for (index, line) in layout.lines.enumerated() {
            if let raw = line.raw { Self.stroke(raw, into: &image, color: Self.faint(CategoricalPalette.color(index)), thickness: 1) }
        }
        for (index, line) in layout.lines.enumerated() {
            Self.stroke(line.smoothed, into: &image, color: CategoricalPalette.color(index), thickness: 2)
        }
        if let legend = layout.legend {
            image.fill(x: legend.x, y: legend.y, width: legend.width, height: legend.height, color: (255, 255, 255))
            let grey: (UInt8, UInt8, UInt8) = (170, 170, 170)
            image.drawLine(legend.x, legend.y, legend.x + legend.width - 1, legend.y, color: grey)
            image.drawLine(legend.x, legend.y + legend.height - 1, legend.x + legend.width - 1, legend.y + legend.height - 1, color: grey)
            image.drawLine(legend.x, legend.y, legend.x, legend.y + legend.height - 1, color: grey)
            image.drawLine(legend.x + legend.width - 1, legend.y, legend.x + legend.width - 1, legend.y + legend.height - 1, color: grey)
            for (index, series) in panel.series.enumerated() {
                let y = legend.y + 5 + index * 12
                image.drawLine(legend.x + 5, y + 3, legend.x + 20, y + 3, color: CategoricalPalette.color(index), thickness: 2)
                image.draw(text: series.name, x: legend.x + 26, y: y, color: black)
            }
        }
    }

    private static func stroke(_ points: [(x: Int, y: Int)], into image: inout RGBImage, color: (UInt8, UInt8, UInt8), thickness: Int) {
        for (a, b) in zip(points, points.dropFirst()) { image.drawLine(a.x, a.y, b.x, b.y, color: color, thickness: thickness) }
        if points.count == 1 { image.drawLine(points[0].x - 2, points[0].y, points[0].x + 2, points[0].y, color: color, thickness: 3) }
    }

    /// A series colour mixed 70% with white: the raw curve behind a smoothed one.
    static func faint(_ color: (UInt8, UInt8, UInt8)) -> (UInt8, UInt8, UInt8) {
        func mix(_ channel: UInt8) -> UInt8 { UInt8((Int(channel) * 3 + 255 * 7) / 10) }
        return (mix(color.0), mix(color.1), mix(color.2))
    }
}
