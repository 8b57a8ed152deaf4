import Foundation
import TesseraGraph

/// Where to draw a graph's nodes: deterministic, so the same graph is drawn the same way every run
/// and pictures of different explanations of one graph line up.
///
/// ```swift
/// let positions = GraphLayout.spring().positions(for: karate)   // 34 points in [0, 1]²
/// ```
public enum GraphLayout: Equatable, Sendable {
    /// On a circle in node order, node 0 at the top, going clockwise (y grows upwards).
    case circular
    /// Fruchterman & Reingold ("Graph Drawing by Force-directed Placement", Software: Practice and
    /// Experience 21(11), 1991), started from the circle: every pair of nodes repels with force `k²/d`,
    /// every edge pulls its ends together with `d²/k` (`k = √(1/n)`, the ideal distance in a unit
    /// square), and a temperature that falls linearly to 0 caps each step's move. O(n²) a step.
    case spring(iterations: Int = 300)

    /// One point per node, scaled into `[0, 1]²` (y up; the aspect ratio kept, the shorter side centred).
    public func positions(for graph: Graph) -> [SIMD2<Double>] {
        let n = graph.nodeCount
        guard n > 1 else { return Array(repeating: SIMD2(0.5, 0.5), count: n) }
        var points = (0..<n).map { node -> SIMD2<Double> in
            let angle = 2 * Double.pi * Double(node) / Double(n)
            return SIMD2(0.5 + 0.5 * sin(angle), 0.5 + 0.5 * cos(angle))
        }
        if case .spring(let iterations) = self {
            points = GraphLayout.relax(points, edges: undirectedEdges(of: graph), iterations: iterations)
        }
        return GraphLayout.fitted(points)
    }

    private static func relax(_ start: [SIMD2<Double>], edges: [(Int, Int)], iterations: Int) -> [SIMD2<Double>] {
        var points = start
        let n = points.count
        let k = (1 / Double(n)).squareRoot()
        for step in 0..<max(iterations, 0) {
            // 0.1 of the unit square at first: large enough to untangle a circle of 34 nodes in a few
            // dozen steps, small enough that no node jumps across the picture.
            let temperature = 0.1 * (1 - Double(step) / Double(iterations))
            var moves = [SIMD2<Double>](repeating: .zero, count: n)
            for i in 0..<n {
                for j in (i + 1)..<n {
                    let delta = points[i] - points[j]
                    let distance = max(length(delta), 1e-9)
                    let push = delta / distance * (k * k / distance)
                    moves[i] += push
                    moves[j] -= push
                }
            }
            for (u, v) in edges {
                let delta = points[u] - points[v]
                let distance = max(length(delta), 1e-9)
                let pull = delta / distance * (distance * distance / k)
                moves[u] -= pull
                moves[v] += pull
            }
            for i in 0..<n {
                let size = length(moves[i])
                if size > 0 { points[i] += moves[i] / size * min(size, temperature) }
            }
        }
        return points
    }

    /// The points moved and scaled uniformly so they span `[0, 1]` along their longer extent.
    private static func fitted(_ points: [SIMD2<Double>]) -> [SIMD2<Double>] {
        let xs = points.map(\.x), ys = points.map(\.y)
        let low = SIMD2(xs.min()!, ys.min()!), span = SIMD2(xs.max()! - low.x, ys.max()! - low.y)
        let scale = max(span.x, span.y)
        guard scale > 0 else { return points.map { _ in SIMD2(0.5, 0.5) } }
        let offset = (SIMD2(1, 1) - span / scale) / 2
        return points.map { ($0 - low) / scale + offset }
    }
}

/// Each undirected edge once, as `(smaller, larger)`, self-loops left out, in first-seen order.
func undirectedEdges(of graph: Graph) -> [(Int, Int)] {
    var seen: Set<[Int]> = [], result: [(Int, Int)] = []
    for (source, target) in zip(graph.sources, graph.targets) where source != target {
        let pair = (min(source, target), max(source, target))
        if seen.insert([pair.0, pair.1]).inserted { result.append(pair) }
    }
    return result
}

private func length(_ vector: SIMD2<Double>) -> Double { (vector * vector).sum().squareRoot() }
