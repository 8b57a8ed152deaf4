import TesseraGraph

/// What a renderer needs to draw a GNN-LRP explanation on its graph (TesseraPicture's
/// `GraphDrawing` takes these arrays as they are): where the nodes go, the edges, and the most
/// relevant walks with their signed relevances.
///
/// ```swift
/// let drawing = try lrp.drawing(of: karate, target: .node(33, output: 1), walkCount: 8)
/// var picture = GraphDrawing(positions: drawing.positions, edges: drawing.edges,
///                            walks: drawing.walks.map { .init(nodes: $0.nodes, relevance: Double($0.relevance)) })
/// picture.highlightedNodes = drawing.highlightedNodes
/// try picture.render().writePNG(to: url)
/// ```
public struct WalkDrawing {
    /// One point per node in `[0, 1]²`, y up.
    public var positions: [SIMD2<Double>]
    /// Each undirected edge once, `(smaller, larger)`, without self-loops.
    public var edges: [(Int, Int)]
    /// The most relevant walks, largest |relevance| first.
    public var walks: [WalkRelevance]
    /// The explained node of a node target (drawn ringed); empty for a graph target.
    public var highlightedNodes: [Int]
}

extension GNNLRP {
    /// The `walkCount` most relevant walks for `target` with the graph laid out by `layout`.
    public func drawing(of graph: Graph, target: Target, walkCount: Int = 10, layout: GraphLayout = .spring()) throws -> WalkDrawing {
        let walks = try topWalks(walkCount, in: graph, target: target)
        var highlighted: [Int] = []
        if case .node(let node, _) = target { highlighted = [node] }
        return WalkDrawing(positions: layout.positions(for: graph), edges: undirectedEdges(of: graph), walks: walks,
                           highlightedNodes: highlighted)
    }
}
