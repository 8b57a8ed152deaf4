import TesseraTensor

/// Graph-level readouts: pool the node embeddings of each member of a ``GraphBatch`` into one
/// row per graph (Xu et al., 2019, §3; sum keeps the most information, mean and max are
/// invariant to graph size). Every readout is invariant to the order of each graph's nodes.
///
/// ```swift
/// let embeddings = layer(batch.graph.nodeFeatures!, graph: batch.graph)   // [nodes, width]
/// let perGraph = Readout.sum(embeddings, batch: batch)                    // [graphs, width]
/// let logProbabilities = Readout.logSoftmax(head(perGraph))
/// ```
public enum Readout {
    /// `Σ_{n ∈ G} h_n` per graph.
    public static func sum(_ nodeValues: Tensor, batch: GraphBatch) -> Tensor { pool(nodeValues, batch: batch, .sum) }

    /// `(1/|G|) Σ_{n ∈ G} h_n` per graph (0 for a graph with no nodes).
    public static func mean(_ nodeValues: Tensor, batch: GraphBatch) -> Tensor { pool(nodeValues, batch: batch, .mean) }

    /// Elementwise `max_{n ∈ G} h_n` per graph (0 for a graph with no nodes).
    public static func max(_ nodeValues: Tensor, batch: GraphBatch) -> Tensor { pool(nodeValues, batch: batch, .max) }

    /// `[nodes, …]` → `[graphs, …]`, the nodes of each member combined by `aggregation`.
    public static func pool(_ nodeValues: Tensor, batch: GraphBatch, _ aggregation: Aggregation) -> Tensor {
        precondition(nodeValues.rank >= 1 && nodeValues.shape[0] == batch.graph.nodeCount,
                     "Readout: \(nodeValues.shape) has not one row per node of the batch (\(batch.graph.nodeCount))")
        return aggregation(nodeValues, targets: batch.graphIndexTensor, nodeCount: batch.graphCount)
    }

    /// Log-probabilities over the last axis, for a per-graph (`[graphs, classes]`) or per-node
    /// (`[nodes, classes]`) classification head trained with negative log-likelihood.
    public static func logSoftmax(_ logits: Tensor) -> Tensor { logits.logSoftmax(alongAxis: -1) }
}
