import Testing

@testable import TesseraPicture

@Suite struct GraphDrawingTests {
    /// A unit square: 0 bottom left, 1 bottom right, 2 top right, 3 top left.
    private func square(_ walks: [GraphDrawing.Walk]) -> GraphDrawing {
        GraphDrawing(positions: [SIMD2(0, 0), SIMD2(1, 0), SIMD2(1, 1), SIMD2(0, 1)], edges: [(0, 1), (1, 2), (2, 3), (3, 0)], walks: walks)
    }

    private func midpoint(_ drawing: GraphDrawing, _ u: Int, _ v: Int) -> (x: Int, y: Int) {
        let (a, b) = (drawing.pixel(u), drawing.pixel(v))
        return ((a.x + b.x) / 2, (a.y + b.y) / 2)
    }

    /// How many pixels of `color` the column at `x` has.
    private func columnCount(_ image: RGBImage, x: Int, _ color: GraphDrawing.Color) -> Int {
        (0..<image.height).filter { image.get(x, $0) == color }.count
    }

    @Test func positiveWalksAreRedNegativeOnesBlueAndOtherEdgesGrey() {
        let drawing = square([.init(nodes: [0, 1, 2], relevance: 0.8), .init(nodes: [2, 3], relevance: -0.4)])
        let image = drawing.render()
        for (u, v) in [(0, 1), (1, 2)] {
            let (x, y) = midpoint(drawing, u, v)
            #expect(image.get(x, y) == GraphDrawing.positiveColor, "edge \(u)-\(v) is on the positive walk")
        }
        let (x, y) = midpoint(drawing, 2, 3)
        #expect(image.get(x, y) == GraphDrawing.negativeColor)
        let (greyX, greyY) = midpoint(drawing, 3, 0)
        #expect(image.get(greyX, greyY) == GraphDrawing.edgeColor, "no walk runs along 3-0")
        let corner = drawing.pixel(0)
        #expect(image.get(corner.x, corner.y) == GraphDrawing.nodeColor, "nodes are drawn over the walks")
    }

    @Test func aWalksWidthIsInProportionToItsRelevance() {
        // Bottom edge (0-1) with relevance 1, top edge (3-2) with −0.5: both horizontal, so a column
        // through their midpoints crosses each stroke once.
        let drawing = square([.init(nodes: [0, 1], relevance: 1), .init(nodes: [3, 2], relevance: -0.5)])
        let image = drawing.render()
        let x = midpoint(drawing, 0, 1).x
        let strong = columnCount(image, x: x, GraphDrawing.positiveColor), weak = columnCount(image, x: x, GraphDrawing.negativeColor)
        #expect(abs(strong - drawing.maximumWalkWidth) <= 1, "the strongest walk is \(strong) px wide")
        #expect(abs(weak - drawing.maximumWalkWidth / 2) <= 1, "half the relevance, \(weak) px")
    }

    @Test func theMoreRelevantOfTwoOverlappingWalksLiesOnTop() {
        for order in [[0, 1], [1, 0]] {
            let walks: [GraphDrawing.Walk] = [.init(nodes: [0, 1], relevance: -0.2), .init(nodes: [0, 1], relevance: 0.9)]
            let drawing = square(order.map { walks[$0] })
            let (x, y) = midpoint(drawing, 0, 1)
            #expect(drawing.render().get(x, y) == GraphDrawing.positiveColor)
        }
    }

    @Test func aWalkThatStaysAtANodeRingsItAndTheHighlightedNodeIsRingedBlack() {
        var drawing = square([.init(nodes: [1, 1, 2], relevance: -1)])
        drawing.highlightedNodes = [3]
        let image = drawing.render()
        let one = drawing.pixel(1), three = drawing.pixel(3)
        // Left of node 1, away from the segment to 2 (which goes up).
        #expect(image.get(one.x - drawing.nodeRadius - 4, one.y) == GraphDrawing.negativeColor)
        #expect(image.get(three.x + drawing.nodeRadius + 2, three.y) == (0, 0, 0))
    }
}
