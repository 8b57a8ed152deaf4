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

    static let palette: [(UInt8, UInt8, UInt8)] = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75)]

    public func render() -> RGBImage {
        var image = RGBImage(width: width, height: panelHeight * max(panels.count, 1))
        for (index, panel) in panels.enumerated() {
            draw(panel, into: &image, top: index * panelHeight)
        }
        return image
    }

    private func draw(_ panel: Panel, into image: inout RGBImage, top: Int) {
        let black: (UInt8, UInt8, UInt8) = (0, 0, 0), grey: (UInt8, UInt8, UInt8) = (200, 200, 200)
        let (left, right, upper, lower) = (80, width - 20, top + 30, top + panelHeight - 40)
        image.draw(text: panel.title, x: left, y: top + 8, color: black, scale: 2)
        let points = panel.series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        guard let minX = points.map(\.x).min(), let maxX = points.map(\.x).max(),
              let minY = points.map(\.y).min(), let maxY = points.map(\.y).max() else { return }
        let spanX = maxX > minX ? maxX - minX : 1
        let padY = maxY > minY ? (maxY - minY) * 0.05 : max(abs(maxY) * 0.05, 1e-3)
        let (lowY, highY) = (minY - padY, maxY + padY)
        func pixel(_ x: Double, _ y: Double) -> (Int, Int) {
            (left + Int((x - minX) / spanX * Double(right - left)), lower - Int((y - lowY) / (highY - lowY) * Double(lower - upper)))
        }
        for tick in 0...4 {
            let fraction = Double(tick) / 4
            let yValue = lowY + fraction * (highY - lowY)
            let yPixel = lower - Int(fraction * Double(lower - upper))
            image.drawLine(left, yPixel, right, yPixel, color: grey)
            image.draw(text: formatTick(yValue), x: 4, y: yPixel - 3, color: black)
            let xValue = minX + fraction * spanX
            let xPixel = left + Int(fraction * Double(right - left))
            image.drawLine(xPixel, lower, xPixel, lower + 4, color: black)
            image.draw(text: formatTick(xValue), x: xPixel - 12, y: lower + 8, color: black)
        }
        image.drawLine(left, upper, left, lower, color: black)
        image.drawLine(left, lower, right, lower, color: black)
        image.draw(text: xLabel, x: (left + right) / 2 - 12, y: lower + 22, color: black)
        for (index, series) in panel.series.enumerated() {
            let color = Self.palette[index % Self.palette.count]
            let finite = series.points.filter { $0.x.isFinite && $0.y.isFinite }
            for (a, b) in zip(finite, finite.dropFirst()) {
                let (x0, y0) = pixel(a.x, a.y), (x1, y1) = pixel(b.x, b.y)
                image.drawLine(x0, y0, x1, y1, color: color, thickness: 2)
            }
            if finite.count == 1 {
                let (x, y) = pixel(finite[0].x, finite[0].y)
                image.drawLine(x - 2, y, x + 2, y, color: color, thickness: 3)
            }
            let legendY = upper + 4 + index * 12
            image.drawLine(right - 150, legendY + 3, right - 135, legendY + 3, color: color, thickness: 2)
            image.draw(text: series.name, x: right - 130, y: legendY, color: black)
        }
    }

    private func formatTick(_ value: Double) -> String {
        let magnitude = abs(value)
        if magnitude != 0 && (magnitude >= 1e5 || magnitude < 1e-3) { return String(format: "%.1e", value) }
        if magnitude >= 100 { return String(format: "%.0f", value) }
        return String(format: "%.3g", value)
    }
}
