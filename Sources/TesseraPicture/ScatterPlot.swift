/// A scatter plot of 2-D points, each a filled dot in its class's colour (``CategoricalPalette``,
/// ten colours, then they repeat), with axes and tick labels, a title, a legend when class names
/// are given, and an optional text label next to each point (node numbers, token names).
///
/// Points whose coordinates are not finite are left out and counted in the title, so a diverged
/// embedding shows up as such instead of as an empty or crashing plot. Equal coordinates (one
/// point, or all points at one place) get a range around them and land in the middle.
///
/// ```swift
/// let plot = ScatterPlot(points: embedding.map { .init(x: $0.x, y: $0.y, classIndex: $0.label) },
///                        title: "embedding after 1000 steps", classNames: (0..<10).map(String.init))
/// try plot.render().writePNG(to: url)
/// ```
public struct ScatterPlot {
    public struct Point {
        public var x: Double
        public var y: Double
        /// Picks the colour (and the legend entry, when ``ScatterPlot/classNames`` has one).
        public var classIndex: Int
        /// Drawn at the dot's upper right.
        public var label: String?

        public init(x: Double, y: Double, classIndex: Int = 0, label: String? = nil) {
            self.x = x
            self.y = y
            self.classIndex = classIndex
            self.label = label
        }
    }

    public var points: [Point]
    public var title: String
    /// Legend entries, by class index; empty: no legend.
    public var classNames: [String]
    public var xLabel = ""
    public var width = 600
    public var height = 600
    /// Dot radius in pixels.
    public var pointRadius = 3

    public init(points: [Point], title: String, classNames: [String] = []) {
        self.points = points
        self.title = title
        self.classNames = classNames
    }

    /// The points that can be drawn: finite coordinates.
    var finitePoints: [Point] { points.filter { $0.x.isFinite && $0.y.isFinite } }

    /// The title as drawn: with the count of left-out points, if any.
    var displayedTitle: String {
        let skipped = points.count - finitePoints.count
        return skipped == 0 ? title : "\(title) (\(skipped) non-finite point\(skipped == 1 ? "" : "s") skipped)"
    }

    /// Where data go: the legend, if any, takes a column at the right.
    func plotArea() -> PlotArea {
        let legendWidth = classNames.isEmpty ? 0 : 40 + 6 * (classNames.map(\.count).max() ?? 0)
        let finite = finitePoints
        let xs = finite.map(\.x), ys = finite.map(\.y)
        let x = xs.isEmpty ? -1...1 : PlotArea.paddedRange(low: xs.min()!, high: xs.max()!)
        let y = ys.isEmpty ? -1...1 : PlotArea.paddedRange(low: ys.min()!, high: ys.max()!)
        return PlotArea(left: 80, right: max(width - 20 - legendWidth, 81), top: 36, bottom: max(height - 40, 37), x: x, y: y)
    }

    public func render() -> RGBImage {
        let black: (UInt8, UInt8, UInt8) = (0, 0, 0)
        var image = RGBImage(width: max(width, 1), height: max(height, 1))
        let area = plotArea()
        image.draw(text: displayedTitle, x: area.left, y: 8, color: black, scale: 2)
        area.drawAxes(into: &image, xLabel: xLabel)
        let finite = finitePoints
        for point in finite {
            let (x, y) = area.pixel(point.x, point.y)
            image.fillCircle(x: x, y: y, radius: pointRadius, color: CategoricalPalette.color(point.classIndex))
        }
        // Labels after every dot, so no dot covers a label.
        for point in finite {
            guard let label = point.label else { continue }
            let (x, y) = area.pixel(point.x, point.y)
            image.draw(text: label, x: x + pointRadius + 2, y: y - pointRadius - 7, color: (60, 60, 60))
        }
        for (index, name) in classNames.enumerated() {
            let y = area.top + 8 + index * 14
            image.fillCircle(x: area.right + 24, y: y + 3, radius: 3, color: CategoricalPalette.color(index))
            image.draw(text: name, x: area.right + 32, y: y, color: black)
        }
        return image
    }
}
