import TesseraTensor

/// Many graphs as one disjoint graph: graph k's nodes are numbered after those of graphs
/// 0…k−1, its edges shifted with them, so one message passing pass serves the whole batch and no
/// message crosses from one graph to another. `graphIndex[n]` names the graph node `n` came
/// from; the readouts pool nodes by it.
///
/// ```swift
/// let batch = try GraphBatch([first, second])
/// let embeddings = layer(batch.graph, batch.graph.nodeFeatures!)     // [nodes of both, width]
/// let perGraph = Readout.mean(embeddings, batch: batch)               // [2, width]
/// ```
public struct GraphBatch {
    /// The disjoint union, with the members' features stacked and their node labels joined.
    public let graph: Graph
    /// For every node of ``graph``, the member it belongs to.
    public let graphIndex: [Int]
    /// Where each member's nodes start in ``graph`` (and, last, the total node count).
    public let nodeOffsets: [Int]
    /// The members' graph labels, in order (for graph tasks), or `nil` if any member has none.
    public let graphLabels: [Float]?

    public var graphCount: Int { nodeOffsets.count - 1 }
    /// ``graphIndex`` as an index tensor for the scatter ops.
    public var graphIndexTensor: Tensor { Tensor(graphIndex.map(Float.init)) }

    public init(_ graphs: [Graph]) throws {
        var offsets = [0], sources: [Int] = [], targets: [Int] = [], graphIndex: [Int] = []
        let weighted = graphs.contains { $0.edgeWeights != nil }
        var weights: [Float] = []
        let featureCounts = Set(graphs.map { $0.nodeFeatures.map { $0.shape[1] } ?? -1 })
        guard featureCounts.count <= 1 else {
            throw GraphError("graph batch: members have different feature widths \(featureCounts.sorted().map { $0 < 0 ? "none" : String($0) })")
        }
        for (k, member) in graphs.enumerated() {
            let offset = offsets.last!
            sources += member.sources.map { $0 + offset }
            targets += member.targets.map { $0 + offset }
            if weighted { weights += member.edgeWeights ?? [Float](repeating: 1, count: member.edgeCount) }
            graphIndex += [Int](repeating: k, count: member.nodeCount)
            offsets.append(offset + member.nodeCount)
        }
        let features = featureCounts.first.map { $0 >= 0 } ?? false
            ? Tensor.concatenate(graphs.map { $0.nodeFeatures! }, alongAxis: 0) : nil
        let labels = graphs.allSatisfy { $0.nodeLabels != nil } ? graphs.flatMap { $0.nodeLabels! } : nil
        graph = try Graph(nodeCount: offsets.last!, sources: sources, targets: targets, edgeWeights: weighted ? weights : nil,
                          isDirected: graphs.allSatisfy(\.isDirected), nodeFeatures: features, nodeLabels: labels,
                          graphLabel: nil, name: "graph batch")
        self.graphIndex = graphIndex
        nodeOffsets = offsets
        graphLabels = graphs.allSatisfy { $0.graphLabel != nil } ? graphs.map { $0.graphLabel! } : nil
    }

    /// The rows of a per-node tensor (`[nodes, …]`) of the batch, one tensor per member.
    public func split(_ nodeValues: Tensor) -> [Tensor] {
        precondition(nodeValues.rank >= 1 && nodeValues.shape[0] == graph.nodeCount,
                     "GraphBatch.split: \(nodeValues.shape) has not one row per node of the batch (\(graph.nodeCount))")
        return (0..<graphCount).map { nodeValues.slice(alongAxis: 0, start: nodeOffsets[$0], end: nodeOffsets[$0 + 1]) }
    }
}
