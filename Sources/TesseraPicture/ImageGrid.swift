import Foundation

/// Many small images tiled into one picture — generated digits, reconstructions, filters — each
/// enlarged `scale` times (nearest neighbour, so pixels stay crisp) with `padding` pixels of
/// background between and around them. The grid is as square as the count allows: ⌈√n⌉ columns
/// and as many rows as needed, filled row by row.
///
/// ```swift
/// let grid = ImageGrid(grayscale: samples.map { $0.scalars }, width: 8, height: 8)
/// try grid.render().writePNG(to: url)     // 64 samples: 8 × 8 tiles
/// ```
public struct ImageGrid {
    /// One image: row-major values in [0, 1] (clamped), one per pixel (grayscale, 0 black, 1
    /// white) or three (RGB, interleaved). A non-finite value is drawn magenta so a diverged
    /// sample is seen, not hidden.
    public struct Tile {
        public var width: Int
        public var height: Int
        public var channels: Int
        public var values: [Float]

        public init(grayscale values: [Float], width: Int, height: Int) {
            self.init(values: values, width: width, height: height, channels: 1)
        }

        public init(rgb values: [Float], width: Int, height: Int) {
            self.init(values: values, width: width, height: height, channels: 3)
        }

        private init(values: [Float], width: Int, height: Int, channels: Int) {
            precondition(width >= 0 && height >= 0 && values.count == width * height * channels,
                         "ImageGrid.Tile: \(values.count) values for \(width) × \(height) × \(channels)")
            self.width = width
            self.height = height
            self.channels = channels
            self.values = values
        }

        /// The pixel at (x, y) as 8-bit RGB.
        func color(_ x: Int, _ y: Int) -> (UInt8, UInt8, UInt8) {
            let base = (y * width + x) * channels
            let channel = (0..<3).map { values[base + min($0, channels - 1)] }
            guard channel.allSatisfy(\.isFinite) else { return (255, 0, 255) }
            let bytes = channel.map { UInt8((min(max($0, 0), 1) * 255).rounded()) }
            return (bytes[0], bytes[1], bytes[2])
        }
    }

    public var tiles: [Tile]
    /// Screen pixels per image pixel, each way.
    public var scale = 4
    /// Background pixels between tiles and around the grid.
    public var padding = 2
    /// Columns of the grid; nil: ⌈√count⌉.
    public var columns: Int?
    public var background: (UInt8, UInt8, UInt8) = (128, 128, 128)

    public init(tiles: [Tile]) {
        self.tiles = tiles
    }

    /// Grayscale images of one size, e.g. `[Float]` rows of a `[n, 8, 8]` batch.
    public init(grayscale images: [[Float]], width: Int, height: Int) {
        self.init(tiles: images.map { Tile(grayscale: $0, width: width, height: height) })
    }

    /// Columns and rows of the grid: at least one each, so an empty grid is a background square.
    public var shape: (columns: Int, rows: Int) {
        let columns = max(self.columns ?? Int(Double(tiles.count).squareRoot().rounded(.up)), 1)
        return (columns, max((tiles.count + columns - 1) / columns, 1))
    }

    /// Each cell fits the largest tile; smaller tiles sit in their cell's top-left corner.
    var cellSize: (width: Int, height: Int) {
        ((tiles.map(\.width).max() ?? 0) * scale, (tiles.map(\.height).max() ?? 0) * scale)
    }

    /// The top-left pixel of tile `index`.
    public func origin(ofTile index: Int) -> (x: Int, y: Int) {
        let (columns, _) = shape, cell = cellSize
        return (padding + (index % columns) * (cell.width + padding), padding + (index / columns) * (cell.height + padding))
    }

    public func render() -> RGBImage {
        let (columns, rows) = shape, cell = cellSize
        var image = RGBImage(width: padding + columns * (cell.width + padding), height: padding + rows * (cell.height + padding),
                             background: background)
        for (index, tile) in tiles.enumerated() {
            let origin = origin(ofTile: index)
            for y in 0..<tile.height {
                for x in 0..<tile.width {
                    image.fill(x: origin.x + x * scale, y: origin.y + y * scale, width: scale, height: scale, color: tile.color(x, y))
                }
            }
        }
        return image
    }
}
