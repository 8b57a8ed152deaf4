/// A graph with walks drawn over it, as GNN-LRP explanations are shown (Schnake et al., "Higher-Order
/// Explanations of Graph Neural Networks via Relevant Walks", IEEE TPAMI 2022): edges as thin grey
/// lines, each walk as a thick polyline through its nodes — red for positive relevance, blue for
/// negative, its width in proportion to |relevance| — nodes as discs on top, optional labels.
///
/// Walks are drawn weakest first, so the most relevant lie on top. A walk that stays at a node for a
/// layer (a self-loop) rings that node in the walk's colour.
///
/// ```swift
/// let picture = GraphDrawing(positions: [SIMD2(0, 0), SIMD2(1, 0), SIMD2(0.5, 1)], edges: [(0, 1), (1, 2), (0, 2)],
///                            walks: [.init(nodes: [0, 1, 2], relevance: 0.8), .init(nodes: [2, 2, 0], relevance: -0.3)])
/// try picture.render().writePNG(to: url)
/// ```
public struct GraphDrawing {
    public struct Walk {
        /// The nodes in the order the messages went.
        public var nodes: [Int]
        /// Signed: the sign picks the colour, the size the width.
        public var relevance: Double

        public init(nodes: [Int], relevance: Double) {
            self.nodes = nodes
            self.relevance = relevance
        }
    }

    public typealias Color = (UInt8, UInt8, UInt8)
    public static let positiveColor: Color = (214, 39, 40)
    public static let negativeColor: Color = (31, 87, 200)
    public static let edgeColor: Color = (190, 190, 190)
    public static let nodeColor: Color = (70, 70, 70)

    /// One point per node in `[0, 1]²` (y up), mapped into the picture with a margin.
    public var positions: [SIMD2<Double>]
    /// Undirected edges as node pairs.
    public var edges: [(Int, Int)]
    public var walks: [Walk]
    /// One label per node, drawn at its upper right; empty: none.
    public var labels: [String] = []
    /// Nodes drawn with a black ring (the explained node).
    public var highlightedNodes: [Int] = []
    public var title = ""
    public var width = 600
    public var height = 600
    public var nodeRadius = 6
    /// The width in pixels of the walk of largest |relevance|; the others in proportion, at least 1.
    public var maximumWalkWidth = 12

    public init(positions: [SIMD2<Double>], edges: [(Int, Int)], walks: [Walk]) {
        self.positions = positions
        self.edges = edges
        self.walks = walks
    }

    /// The pixel of `node`: the unit square inside a margin, below the title.
    func pixel(_ node: Int) -> (x: Int, y: Int) {
        let margin = Double(nodeRadius + maximumWalkWidth + 12), top = margin + (title.isEmpty ? 0 : 24)
        let point = positions[node]
        func clamped(_ value: Double) -> Double { value.isFinite ? min(max(value, -1), 2) : 0.5 }
        return (Int(margin + clamped(point.x) * (Double(width) - 2 * margin)),
                Int(Double(height) - margin - clamped(point.y) * (Double(height) - margin - top)))
    }

    /// The stroke width of `walk`, in proportion to the largest |relevance| of all walks.
    func strokeWidth(_ walk: Walk) -> Int {
        let largest = walks.map { abs($0.relevance) }.filter(\.isFinite).max() ?? 0
        guard largest > 0, walk.relevance.isFinite else { return 1 }
        return max(1, Int((abs(walk.relevance) / largest * Double(maximumWalkWidth)).rounded()))
    }

    public func render() -> RGBImage {
        var image = RGBImage(width: max(width, 1), height: max(height, 1))
        let known = 0..<positions.count
        if !title.isEmpty { image.draw(text: title, x: 8, y: 8, color: (0, 0, 0), scale: 2) }
        for (u, v) in edges where known.contains(u) && known.contains(v) {
            let (a, b) = (pixel(u), pixel(v))
            image.drawLine(a.x, a.y, b.x, b.y, color: Self.edgeColor)
        }
        for walk in walks.sorted(by: { abs($0.relevance) < abs($1.relevance) }) where walk.nodes.allSatisfy(known.contains) {
            let color = walk.relevance >= 0 ? Self.positiveColor : Self.negativeColor
            let stroke = strokeWidth(walk)
            for (from, to) in zip(walk.nodes, walk.nodes.dropFirst()) {
                let (a, b) = (pixel(from), pixel(to))
                if from == to {
                    image.strokeRing(x: a.x, y: a.y, inner: nodeRadius + 2, outer: nodeRadius + 2 + stroke, color: color)
                } else {
                    image.strokeSegment(a, b, width: stroke, color: color)
                }
            }
        }
        for node in highlightedNodes where known.contains(node) {
            let (x, y) = pixel(node)
            image.strokeRing(x: x, y: y, inner: nodeRadius + 1, outer: nodeRadius + 3, color: (0, 0, 0))
        }
        for node in known {
            let (x, y) = pixel(node)
            image.fillCircle(x: x, y: y, radius: nodeRadius, color: Self.nodeColor)
        }
        for (node, label) in labels.enumerated() where known.contains(node) {
            let (x, y) = pixel(node)
            image.draw(text: label, x: x + nodeRadius + 2, y: y - nodeRadius - 7, color: (40, 40, 40))
        }
        return image
    }
}

extension RGBImage {
    /// A segment `width` pixels wide with round ends: discs along the line.
    mutating func strokeSegment(_ a: (x: Int, y: Int), _ b: (x: Int, y: Int), width: Int, color: (UInt8, UInt8, UInt8)) {
        let steps = max(abs(b.x - a.x), abs(b.y - a.y), 1)
        for step in 0...steps {
            let fraction = Double(step) / Double(steps)
            let x = a.x + Int((Double(b.x - a.x) * fraction).rounded()), y = a.y + Int((Double(b.y - a.y) * fraction).rounded())
            fillCircle(x: x, y: y, radius: width / 2, color: color)
        }
    }

    /// The pixels at distance `inner…outer` from (x, y).
    mutating func strokeRing(x: Int, y: Int, inner: Int, outer: Int, color: (UInt8, UInt8, UInt8)) {
        for dy in -outer...outer {
            for dx in -outer...outer {
                let squared = dx * dx + dy * dy
                if squared >= inner * inner && squared <= outer * outer { set(x + dx, y + dy, color) }
            }
        }
    }
}
