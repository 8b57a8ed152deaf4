import Testing

@testable import TesseraPicture

@Suite struct HeatmapTests {
    private func brightness(_ color: (UInt8, UInt8, UInt8)) -> Int { Int(color.0) + Int(color.1) + Int(color.2) }

    @Test func theDarkestCellOfEachPanelIsItsMaximum() {
        // Three shuffles of 0…34, scaled differently: values at least one step apart, so no two
        // cells can round to the same colour, and each panel's maximum sits in another cell.
        let panels = [(2, 0.2), (3, 1.0), (4, 7.5)].map { multiplier, peak in
            Heatmap.Panel(rows: 5, columns: 7, values: (0..<35).map { Float((($0 * multiplier + 5) % 35)) / 34 * Float(peak) })
        }
        var heatmap = Heatmap(rows: [.init(title: "layer 0", panels: Array(panels[0..<2])), .init(title: "layer 1", panels: [panels[2]])])
        heatmap.cellSize = 4
        let image = heatmap.render()
        for (index, panel) in panels.enumerated() {
            let origin = heatmap.origin(row: index / 2, column: index % 2)
            var darkest = (cell: -1, brightness: Int.max)
            for cell in 0..<35 {
                let value = brightness(image.get(origin.x + (cell % 7) * 4 + 2, origin.y + (cell / 7) * 4 + 2))
                #expect(value != darkest.brightness, "two cells share the darkest colour")
                if value < darkest.brightness { darkest = (cell, value) }
            }
            let maximum = panel.values.indices.max { panel.values[$0] < panel.values[$1] }!
            #expect(darkest.cell == maximum, "panel \(index)")
            // The maximum is the scale's dark-blue end in every panel, whatever its value.
            #expect(image.get(origin.x + (maximum % 7) * 4, origin.y + (maximum / 7) * 4) == (30, 75, 195))
        }
    }

    @Test func zeroIsWhiteAndPanelsLineUpUnderTheirTitles() {
        let panel = Heatmap.Panel(rows: 2, columns: 2, values: [0, 1, .nan, -3])
        var heatmap = Heatmap(rows: [.init(title: "a", panels: [panel, panel]), .init(title: "b", panels: [panel])])
        heatmap.cellSize = 3
        let image = heatmap.render()
        #expect(image.width == 6 + 2 * (6 + 6) && image.height == 2 * (12 + 6 + 6) + 6)
        let second = heatmap.origin(row: 1, column: 0)
        #expect(second == (6, 6 + 24 + 12))
        #expect(image.get(second.x, second.y) == (255, 255, 255))
        #expect(image.get(second.x + 3, second.y) == (30, 75, 195))
        #expect(image.get(second.x, second.y + 3) == (255, 255, 255), "NaN is drawn as 0")
        #expect(image.get(second.x + 3, second.y + 3) == (255, 255, 255), "negative is drawn as 0")
        var titleInk = 0
        for y in (second.y - 12)..<second.y { for x in 6..<12 where image.get(x, y) == (0, 0, 0) { titleInk += 1 } }
        #expect(titleInk > 3, "the row's title is above its panels")
    }
}
