import Testing

@testable import TesseraPicture

@Suite struct ImageGridTests {
    /// Ten 8 × 8 images: image k is uniformly k/10 except pixel (x: k % 8, y: 7 - k % 8), which is white.
    private func markedImages() -> [[Float]] {
        (0..<10).map { k in
            var values = [Float](repeating: Float(k) / 10, count: 64)
            values[(7 - k % 8) * 8 + k % 8] = 1
            return values
        }
    }

    @Test func tenImagesMakeFourColumnsAndThreeRowsWithImageKInCellK() {
        var grid = ImageGrid(grayscale: markedImages(), width: 8, height: 8)
        (grid.scale, grid.padding) = (3, 2)
        #expect(grid.shape == (4, 3))
        let image = grid.render()
        #expect(image.width == 2 + 4 * (24 + 2) && image.height == 2 + 3 * (24 + 2))
        for k in 0..<10 {
            let (column, row) = (k % 4, k / 4)
            let (left, top) = (2 + column * 26, 2 + row * 26)
            #expect(grid.origin(ofTile: k) == (left, top))
            let grey = UInt8((Float(k) / 10 * 255).rounded())
            // A corner pixel unless it is the marked one, then the marked pixel's whole 3 × 3 block.
            let corner = k % 8 == 0 ? (7, 0) : (0, 7)
            #expect(image.get(left + corner.0 * 3 + 1, top + corner.1 * 3 + 1) == (grey, grey, grey), "image \(k)'s body")
            for dy in 0..<3 {
                for dx in 0..<3 {
                    #expect(image.get(left + (k % 8) * 3 + dx, top + (7 - k % 8) * 3 + dy) == (255, 255, 255), "image \(k)'s mark")
                }
            }
            #expect(image.get(left - 1, top) == grid.background, "padding left of image \(k)")
        }
        // The two cells after the last image stay background.
        #expect(image.get(2 + 3 * 26 + 10, 2 + 2 * 26 + 10) == grid.background)
    }

    @Test func rgbTilesKeepTheirChannelsAndNonFiniteValuesShowMagenta() {
        let rgb = ImageGrid.Tile(rgb: [1, 0, 0, 0, 0.5, 1, .nan, 0, 0, 2, -1, 0.25], width: 2, height: 2)
        var grid = ImageGrid(tiles: [rgb])
        (grid.scale, grid.padding) = (1, 0)
        let image = grid.render()
        #expect(image.get(0, 0) == (255, 0, 0))
        #expect(image.get(1, 0) == (0, 128, 255))
        #expect(image.get(0, 1) == (255, 0, 255))
        #expect(image.get(1, 1) == (255, 0, 64), "clamped to [0, 1]")
    }

    @Test func columnsCanBeChosenAndAnEmptyGridIsBackground() {
        var grid = ImageGrid(grayscale: markedImages(), width: 8, height: 8)
        grid.columns = 10
        #expect(grid.shape == (10, 1))
        #expect(grid.origin(ofTile: 9) == (2 + 9 * 34, 2))
        let empty = ImageGrid(tiles: []).render()
        #expect(empty.width == 4 && empty.height == 4 && empty.pixels.allSatisfy { $0 == 128 })
    }
}
