/// A grid of heatmap panels: each panel is a `rows × columns` matrix of values in `[0, max]`,
/// drawn from white (0) to dark blue (the panel's own largest value); each row of panels has its
/// title above it. Attention maps use it with one row per layer and one panel per head.
///
/// ```swift
/// let map = Heatmap(rows: [.init(title: "layer 0", panels: [.init(rows: 2, columns: 2, values: [1, 0, 0.5, 0.5])])])
/// try map.render().writePNG(to: url)
/// ```
public struct Heatmap {
    public struct Panel {
        public var rows: Int
        public var columns: Int
        /// Row-major, `rows × columns` values; negative and non-finite values are drawn as 0.
        public var values: [Float]

        public init(rows: Int, columns: Int, values: [Float]) {
            precondition(rows >= 0 && columns >= 0 && values.count == rows * columns,
                         "Heatmap.Panel: \(values.count) values for \(rows) × \(columns)")
            self.rows = rows
            self.columns = columns
            self.values = values
        }
    }

    public struct Row {
        public var title: String
        public var panels: [Panel]

        public init(title: String, panels: [Panel]) {
            self.title = title
            self.panels = panels
        }
    }

    public var rows: [Row]
    /// Pixels per matrix cell, each way.
    public var cellSize = 8

    public init(rows: [Row]) {
        self.rows = rows
    }

    static let margin = 6
    static let titleHeight = 12

    /// Every panel gets the same slot, as large as the largest panel, so panels line up in columns.
    var slot: (width: Int, height: Int) {
        let panels = rows.flatMap(\.panels)
        return ((panels.map(\.columns).max() ?? 0) * cellSize, (panels.map(\.rows).max() ?? 0) * cellSize)
    }

    /// The top-left pixel of panel `column` in row `row`.
    func origin(row: Int, column: Int) -> (x: Int, y: Int) {
        let (margin, slot) = (Self.margin, slot)
        return (margin + column * (slot.width + margin), margin + row * (Self.titleHeight + slot.height + margin) + Self.titleHeight)
    }

    public func render() -> RGBImage {
        let (margin, slot) = (Self.margin, slot)
        let panelsPerRow = rows.map(\.panels.count).max() ?? 0
        var image = RGBImage(width: margin + panelsPerRow * (slot.width + margin),
                             height: rows.count * (Self.titleHeight + slot.height + margin) + margin)
        for (rowIndex, row) in rows.enumerated() {
            image.draw(text: row.title, x: margin, y: origin(row: rowIndex, column: 0).y - Self.titleHeight, color: (0, 0, 0))
            for (column, panel) in row.panels.enumerated() {
                draw(panel, into: &image, at: origin(row: rowIndex, column: column))
            }
        }
        return image
    }

    private func draw(_ panel: Panel, into image: inout RGBImage, at origin: (x: Int, y: Int)) {
        let peak = max(panel.values.filter(\.isFinite).max() ?? 1, 1e-12)
        for row in 0..<panel.rows {
            for column in 0..<panel.columns {
                let value = panel.values[row * panel.columns + column]
                let shade = value.isFinite ? Double(min(max(value, 0), peak)) / Double(peak) : 0
                let color = (UInt8(255 - 225 * shade), UInt8(255 - 180 * shade), UInt8(255 - 60 * shade))
                image.fill(x: origin.x + column * cellSize, y: origin.y + row * cellSize, width: cellSize, height: cellSize, color: color)
            }
        }
    }
}
