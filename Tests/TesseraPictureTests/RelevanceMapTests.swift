import Testing
@testable import TesseraPicture

@Suite struct RelevanceMapTests {
    @Test func divergingScaleIsRedForBlueAgainstWhiteAtZero() {
        #expect(RelevanceColors.color(2, peak: 2) == (255, 0, 0))
        #expect(RelevanceColors.color(-2, peak: 2) == (0, 0, 255))
        #expect(RelevanceColors.color(0, peak: 2) == (255, 255, 255))
        #expect(RelevanceColors.color(1, peak: 2) == (255, 128, 128))
        #expect(RelevanceColors.color(-5, peak: 2) == (0, 0, 255), "beyond the peak saturates")
        #expect(RelevanceColors.color(.nan, peak: 2) == (255, 0, 255))
        #expect(RelevanceColors.peak(of: [0.5, -3, .infinity]) == 3)
        #expect(RelevanceColors.peak(of: [0, 0]) == 1)
    }

    @Test func heatmapPanelColoursEachPixelBySignAndInputPanelByValue() {
        var map = RelevanceMap(title: "t", input: [0, 1, 0.5, 0], relevance: [4, -4, 0, 2], width: 2, height: 2)
        map.scale = 4
        let image = map.render()
        let origin = map.heatmapOrigin
        #expect(image.get(origin.x + 1, origin.y + 1) == (255, 0, 0))
        #expect(image.get(origin.x + 5, origin.y + 1) == (0, 0, 255))
        #expect(image.get(origin.x + 1, origin.y + 5) == (255, 255, 255))
        #expect(image.get(origin.x + 5, origin.y + 5) == (255, 128, 128))
        // The input panel, left of the heatmap: black at 0, white at the largest value.
        let input = (x: RelevanceMap.margin, y: origin.y)
        #expect(image.get(input.x + 1, input.y + 1) == (0, 0, 0))
        #expect(image.get(input.x + 5, input.y + 1) == (255, 255, 255))
    }

    @Test func tokenStripFillsEachBoxWithItsRelevanceAndWraps() {
        var strip = TokenRelevanceStrip(title: "tokens", tokens: ["a", "bb", "c"], relevance: [1, -1, 0])
        strip.tokensPerLine = 2
        let image = strip.render()
        let colours = (0..<3).map { index -> (UInt8, UInt8, UInt8) in
            let origin = strip.origin(ofToken: index)
            return image.get(origin.x + 1, origin.y + 1)
        }
        #expect(colours[0] == (255, 0, 0) && colours[1] == (0, 0, 255) && colours[2] == (255, 255, 255))
        #expect(strip.origin(ofToken: 2).y > strip.origin(ofToken: 0).y, "the third token starts a second line")
        #expect(image.height > strip.origin(ofToken: 2).y + TokenRelevanceStrip.boxHeight)
    }
}
