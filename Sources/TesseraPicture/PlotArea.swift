import Foundation

/// The rectangle of a chart where data are drawn, the data ranges it shows, and the axes around
/// it (grid lines, ticks and tick labels): shared by ``LineChart`` and ``ScatterPlot``.
struct PlotArea {
    /// Pixel edges; `top < bottom`, y grows downwards as in the image.
    var left: Int, right: Int, top: Int, bottom: Int
    /// The data values at the left/right and bottom/top edges; `x.upperBound > x.lowerBound`.
    var x: ClosedRange<Double>, y: ClosedRange<Double>
    /// A logarithmic y axis (`y` then has a positive lower bound); values ≤ 0 land below the area.
    var logY = false

    /// The pixel of the data point (x, y). Points outside the ranges land outside the area (the
    /// drawing clips them); a fraction that is not finite (a range of ±1e308) lands on the edge,
    /// and fractions are clamped to [-1, 2] so a wild value cannot trap `Int(_:)` or make a line
    /// millions of pixels long.
    func pixel(_ xValue: Double, _ yValue: Double) -> (x: Int, y: Int) {
        func clamped(_ fraction: Double) -> Double { fraction.isFinite ? min(max(fraction, -1), 2) : 0 }
        let fractionX = clamped((xValue - x.lowerBound) / (x.upperBound - x.lowerBound))
        let fractionY = clamped(logY ? log10(yValue / y.lowerBound) / log10(y.upperBound / y.lowerBound)
                                     : (yValue - y.lowerBound) / (y.upperBound - y.lowerBound))
        return (left + Int(fractionX * Double(right - left)), bottom - Int(fractionY * Double(bottom - top)))
    }

    /// The range from `low` to `high` widened by `padding` of its span on each side, so extreme
    /// points are not drawn on the axes; a single value gets ±5% of itself (at least ±0.001).
    static func paddedRange(low: Double, high: Double, padding: Double = 0.05) -> ClosedRange<Double> {
        let pad = high > low ? (high - low) * padding : max(abs(high) * 0.05, 1e-3)
        let range = (low - pad)...(high + pad)
        return range.upperBound > range.lowerBound && (range.upperBound - range.lowerBound).isFinite ? range : -1...1
    }

    /// The y range a chart of values from `low` to `high` shows: ``paddedRange(low:high:padding:)``,
    /// except that it does not cross zero when the data do not (a loss axis starts at 0, not at
    /// −0.05), and reaches zero when the data nearly do. On a log axis: the positive values' range widened by 5% of its decades each side.
    static func valueRange(low: Double, high: Double, logarithmic: Bool = false) -> ClosedRange<Double> {
        if logarithmic {
            guard low > 0, high >= low, high.isFinite else { return 0.1...1 }
            let pad = high > low ? pow(high / low, 0.05) : 2
            return (low / pad)...(high * pad)
        }
        let padded = paddedRange(low: low, high: high)
        // Zero is the natural end of a loss or accuracy axis: it is kept when the data come within
        // a fifth of their span of it (losses 0.12…2.3 show 0…2.4), and never crossed.
        if low >= 0 && high > low && (padded.lowerBound < 0 || low <= 0.2 * (high - low)) { return 0...padded.upperBound }
        if high <= 0 && high > low && (padded.upperBound > 0 || -high <= 0.2 * (high - low)) { return padded.lowerBound...0 }
        return padded
    }

    /// The y ticks (1-2-5 steps, or powers of ten on a log axis) as grid lines with their values
    /// at the left, the x ticks with their values below, the two axis lines and `xLabel` centred
    /// under the area.
    func drawAxes(into image: inout RGBImage, xLabel: String) {
        let black: (UInt8, UInt8, UInt8) = (0, 0, 0), grey: (UInt8, UInt8, UInt8) = (200, 200, 200)
        let yStep = AxisTicks.step(span: y.upperBound - y.lowerBound)
        for yValue in logY ? AxisTicks.logarithmic(y) : AxisTicks.linear(y) {
            let yPixel = pixel(x.lowerBound, yValue).y
            image.drawLine(left, yPixel, right, yPixel, color: grey)
            let text = logY ? AxisTicks.logLabel(yValue) : AxisTicks.label(yValue, step: yStep)
            image.draw(text: text, x: left - 8 - text.count * (BitmapFont.width + 1), y: yPixel - 3, color: black)
        }
        let xStep = AxisTicks.step(span: x.upperBound - x.lowerBound)
        for xValue in AxisTicks.linear(x) {
            let xPixel = pixel(xValue, y.lowerBound).x
            image.drawLine(xPixel, bottom, xPixel, bottom + 4, color: black)
            let text = AxisTicks.label(xValue, step: xStep)
            image.draw(text: text, x: xPixel - text.count * (BitmapFont.width + 1) / 2, y: bottom + 8, color: black)
        }
        image.drawLine(left, top, left, bottom, color: black)
        image.drawLine(left, bottom, right, bottom, color: black)
        image.draw(text: xLabel, x: (left + right) / 2 - 12, y: bottom + 22, color: black)
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
