import Foundation

/// The rectangle of a chart where data are drawn, the data ranges it shows, and the axes around
/// it (grid lines, ticks and tick labels): shared by ``LineChart`` and ``ScatterPlot``.
struct PlotArea {
    /// Pixel edges; `top < bottom`, y grows downwards as in the image.
    var left: Int, right: Int, top: Int, bottom: Int
    /// The data values at the left/right and bottom/top edges; `x.upperBound > x.lowerBound`.
    var x: ClosedRange<Double>, y: ClosedRange<Double>

    /// The pixel of the data point (x, y). Points outside the ranges land outside the area (the
    /// drawing clips them); a fraction that is not finite (a range of ±1e308) lands on the edge,
    /// and fractions are clamped to [-1, 2] so a wild value cannot trap `Int(_:)` or make a line
    /// millions of pixels long.
    func pixel(_ xValue: Double, _ yValue: Double) -> (x: Int, y: Int) {
        func clamped(_ fraction: Double) -> Double { fraction.isFinite ? min(max(fraction, -1), 2) : 0 }
        let fractionX = clamped((xValue - x.lowerBound) / (x.upperBound - x.lowerBound))
        let fractionY = clamped((yValue - y.lowerBound) / (y.upperBound - y.lowerBound))
        return (left + Int(fractionX * Double(right - left)), bottom - Int(fractionY * Double(bottom - top)))
    }

    /// The range from `low` to `high` widened by `padding` of its span on each side, so extreme
    /// points are not drawn on the axes; a single value gets ±5% of itself (at least ±0.001).
    static func paddedRange(low: Double, high: Double, padding: Double = 0.05) -> ClosedRange<Double> {
        let pad = high > low ? (high - low) * padding : max(abs(high) * 0.05, 1e-3)
        let range = (low - pad)...(high + pad)
        return range.upperBound > range.lowerBound && (range.upperBound - range.lowerBound).isFinite ? range : -1...1
    }

    /// Five horizontal grid lines with the y values at the left, five x ticks with their values
    /// below, the two axis lines and `xLabel` centred under the area.
    func drawAxes(into image: inout RGBImage, xLabel: String) {
        let black: (UInt8, UInt8, UInt8) = (0, 0, 0), grey: (UInt8, UInt8, UInt8) = (200, 200, 200)
        for tick in 0...4 {
            let fraction = Double(tick) / 4
            let yValue = y.lowerBound + fraction * (y.upperBound - y.lowerBound)
            let yPixel = bottom - Int(fraction * Double(bottom - top))
            image.drawLine(left, yPixel, right, yPixel, color: grey)
            image.draw(text: Self.formatTick(yValue, span: y.upperBound - y.lowerBound), x: left - 76, y: yPixel - 3, color: black)
            let xValue = x.lowerBound + fraction * (x.upperBound - x.lowerBound)
            let xPixel = left + Int(fraction * Double(right - left))
            image.drawLine(xPixel, bottom, xPixel, bottom + 4, color: black)
            image.draw(text: Self.formatTick(xValue, span: x.upperBound - x.lowerBound), x: xPixel - 12, y: bottom + 8, color: black)
        }
        image.drawLine(left, top, left, bottom, color: black)
        image.drawLine(left, bottom, right, bottom, color: black)
        image.draw(text: xLabel, x: (left + right) / 2 - 12, y: bottom + 22, color: black)
    }

    /// A tick value as text; a value within a thousandth of the axis span of zero is a zero
    /// reached by rounding (`-1.1 + 0.5 · 2.2`), and reads `0`.
    static func formatTick(_ value: Double, span: Double = 0) -> String {
        if abs(value) < span * 1e-3 { return "0" }
        let magnitude = abs(value)
        if magnitude != 0 && (magnitude >= 1e5 || magnitude < 1e-3) { return String(format: "%.1e", value) }
        if magnitude >= 100 { return String(format: "%.0f", value) }
        return String(format: "%.3g", value)
    }
}

/// Ten colours told apart easily, also by most colour-blind readers (Tableau 10, matplotlib's
/// `tab10`): series of a line chart and classes of a scatter plot, in this order.
public enum CategoricalPalette {
    public static let colors: [(UInt8, UInt8, UInt8)] = [
        (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
        (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
    ]

    /// The colour of class or series `index`; indices past ten (or negative) wrap around.
    public static func color(_ index: Int) -> (UInt8, UInt8, UInt8) {
        colors[((index % colors.count) + colors.count) % colors.count]
    }
}
