import TesseraNN
import TesseraTensor

/// A layer that maps the features of a graph's nodes (`[nodeCount, inputSize]`) to new node
/// features (`[nodeCount, outputSize]`), reading the graph's edges. Every graph convolution
/// (GCN, GIN, GAT, spectral, Chebyshev) conforms, so models stack them like ordinary layers:
///
/// ```swift
/// var h = first(graph.nodeFeatures!, graph: graph).relu()
/// h = second(h, graph: graph)
/// ```
///
/// A batch of graphs is one disjoint graph (``GraphBatch``), so the same call serves it.
public protocol GraphLayer: Module {
    func callAsFunction(_ nodeFeatures: Tensor, graph: Graph) -> Tensor
}
