import TesseraTensor

/// A failure in graph input: an edge pointing outside the node range, a feature matrix of the
/// wrong height, a label file naming unknown nodes. The message names the file, line or tensor
/// and what was expected.
public struct GraphError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A graph in coordinate (COO) form: edge `e` goes from `sources[e]` to `targets[e]`, and a
/// message passing layer sends along it from the source to the target.
///
/// An undirected graph stores every edge `{u, v}` twice, as `u → v` and `v → u` (a self-loop
/// once), so layers see one convention. Node features are a `[nodeCount, featureCount]` tensor;
/// node labels and a graph label are optional, for node and graph tasks.
///
/// ```swift
/// let triangle = try Graph(nodeCount: 3, edges: [(0, 1), (1, 2), (2, 0)])
/// triangle.edgeCount   // 6: both directions of the three undirected edges
/// ```
public struct Graph {
    public let nodeCount: Int
    /// Edge `e` runs from node `sources[e]` …
    public let sources: [Int]
    /// … to node `targets[e]`.
    public let targets: [Int]
    /// One weight per stored edge, or `nil` for an unweighted graph (weight 1).
    public let edgeWeights: [Float]?
    /// Whether `edges` were taken as given (`true`) or mirrored (`false`).
    public let isDirected: Bool
    /// `[nodeCount, featureCount]`, or `nil` when the nodes carry no features.
    public var nodeFeatures: Tensor?
    /// A class per node (node classification), or `nil`.
    public var nodeLabels: [Int]?
    /// A class index or a regression target for the whole graph, or `nil`.
    public var graphLabel: Float?

    /// A graph on `nodeCount` nodes. `edges` are `(source, target)` pairs; unless `directed`, each
    /// is stored in both directions (with its weight).
    public init(nodeCount: Int, edges: [(Int, Int)], weights: [Float]? = nil, directed: Bool = false,
                nodeFeatures: Tensor? = nil, nodeLabels: [Int]? = nil, graphLabel: Float? = nil,
                name: String = "graph") throws {
        guard nodeCount >= 0 else { throw GraphError("\(name): node count must not be negative, got \(nodeCount)") }
        if let weights, weights.count != edges.count {
            throw GraphError("\(name): \(weights.count) edge weights for \(edges.count) edges")
        }
        var sources: [Int] = [], targets: [Int] = [], storedWeights: [Float] = []
        sources.reserveCapacity(directed ? edges.count : 2 * edges.count)
        for (e, (u, v)) in edges.enumerated() {
            guard (0..<nodeCount).contains(u), (0..<nodeCount).contains(v) else {
                throw GraphError("\(name): edge \(e) (\(u) → \(v)) points outside the node range 0..<\(nodeCount)")
            }
            if let weight = weights?[e], !weight.isFinite {
                throw GraphError("\(name): edge \(e) (\(u) → \(v)) has weight \(weight); weights must be finite")
            }
            sources.append(u); targets.append(v)
            if let weights { storedWeights.append(weights[e]) }
            if !directed && u != v {
                sources.append(v); targets.append(u)
                if let weights { storedWeights.append(weights[e]) }
            }
        }
        try self.init(nodeCount: nodeCount, sources: sources, targets: targets, edgeWeights: weights == nil ? nil : storedWeights,
                      isDirected: directed, nodeFeatures: nodeFeatures, nodeLabels: nodeLabels, graphLabel: graphLabel, name: name)
    }

    /// A graph from a `[2, E]` edge-index tensor (row 0 sources, row 1 targets), as PyTorch
    /// Geometric stores it, taken as directed. Every entry must be a whole number in range.
    public init(nodeCount: Int, edgeIndex: Tensor, weights: [Float]? = nil, nodeFeatures: Tensor? = nil,
                nodeLabels: [Int]? = nil, graphLabel: Float? = nil, name: String = "edge index") throws {
        guard edgeIndex.rank == 2, edgeIndex.shape[0] == 2 else {
            throw GraphError("\(name): an edge index has shape [2, edges], got \(edgeIndex.shape)")
        }
        let values = edgeIndex.scalars, edgeCount = edgeIndex.shape[1]
        var pairs: [(Int, Int)] = []
        for e in 0..<edgeCount {
            var ends: [Int] = []
            for (row, value) in [values[e], values[edgeCount + e]].enumerated() {
                guard let index = Int(exactly: value) else {
                    throw GraphError("\(name): entry [\(row), \(e)] is \(value); node indices are whole numbers")
                }
                guard index >= 0 else { throw GraphError("\(name): entry [\(row), \(e)] is \(index); node indices are not negative") }
                ends.append(index)
            }
            pairs.append((ends[0], ends[1]))
        }
        try self.init(nodeCount: nodeCount, edges: pairs, weights: weights, directed: true, nodeFeatures: nodeFeatures,
                      nodeLabels: nodeLabels, graphLabel: graphLabel, name: name)
    }

    /// The stored form, checked: every other initialiser ends here.
    init(nodeCount: Int, sources: [Int], targets: [Int], edgeWeights: [Float]?, isDirected: Bool,
         nodeFeatures: Tensor?, nodeLabels: [Int]?, graphLabel: Float?, name: String) throws {
        if let nodeFeatures {
            guard nodeFeatures.rank == 2, nodeFeatures.shape[0] == nodeCount else {
                throw GraphError("\(name): node features of shape \(nodeFeatures.shape) do not fit \(nodeCount) nodes; expected [\(nodeCount), features]")
            }
        }
        if let nodeLabels {
            guard nodeLabels.count == nodeCount else {
                throw GraphError("\(name): \(nodeLabels.count) node labels for \(nodeCount) nodes")
            }
            if let bad = nodeLabels.firstIndex(where: { $0 < 0 }) {
                throw GraphError("\(name): node \(bad) has label \(nodeLabels[bad]); class labels are not negative")
            }
        }
        self.nodeCount = nodeCount
        self.sources = sources
        self.targets = targets
        self.edgeWeights = edgeWeights
        self.isDirected = isDirected
        self.nodeFeatures = nodeFeatures
        self.nodeLabels = nodeLabels
        self.graphLabel = graphLabel
    }

    /// Stored (directed) edges: twice the undirected edges, plus self-loops once.
    public var edgeCount: Int { sources.count }
    /// Columns of the node features (0 without features).
    public var featureCount: Int { nodeFeatures?.shape[1] ?? 0 }

    /// The sources as an index tensor for `Tensor.indexSelect(alongAxis:indices:)`.
    public var sourceIndex: Tensor { Tensor(sources.map(Float.init)) }
    /// The targets as an index tensor for the scatter ops.
    public var targetIndex: Tensor { Tensor(targets.map(Float.init)) }
    /// The weights as an `[E, 1]` column (ones for an unweighted graph).
    public var edgeWeightColumn: Tensor { Tensor(shape: [edgeCount, 1], scalars: edgeWeights ?? [Float](repeating: 1, count: edgeCount)) }

    /// How many stored edges end at each node (weighted: their total weight).
    public var inDegrees: [Float] {
        var degrees = [Float](repeating: 0, count: nodeCount)
        for (e, target) in targets.enumerated() { degrees[target] += edgeWeights?[e] ?? 1 }
        return degrees
    }

    /// The neighbours each node receives messages from, in edge order.
    public var incomingNeighbours: [[Int]] {
        var neighbours = [[Int]](repeating: [], count: nodeCount)
        for (source, target) in zip(sources, targets) { neighbours[target].append(source) }
        return neighbours
    }

    /// This graph with a self-loop of weight `weight` added to every node that has none.
    public func addingSelfLoops(weight: Float = 1) -> Graph {
        var hasLoop = [Bool](repeating: false, count: nodeCount)
        for (source, target) in zip(sources, targets) where source == target { hasLoop[source] = true }
        let missing = (0..<nodeCount).filter { !hasLoop[$0] }
        let weights = edgeWeights.map { $0 + [Float](repeating: weight, count: missing.count) }
            ?? (weight == 1 ? nil : [Float](repeating: 1, count: edgeCount) + [Float](repeating: weight, count: missing.count))
        return try! Graph(nodeCount: nodeCount, sources: sources + missing, targets: targets + missing, edgeWeights: weights,
                          isDirected: isDirected, nodeFeatures: nodeFeatures, nodeLabels: nodeLabels, graphLabel: graphLabel,
                          name: "graph")
    }

    /// The dense `nodeCount × nodeCount` adjacency matrix, `A[target][source]` = the edge's
    /// weight (summed over parallel edges), row-major. For small graphs and tests.
    public func adjacencyMatrix() -> [Float] {
        var matrix = [Float](repeating: 0, count: nodeCount * nodeCount)
        for (e, (source, target)) in zip(sources, targets).enumerated() { matrix[target * nodeCount + source] += edgeWeights?[e] ?? 1 }
        return matrix
    }
}
