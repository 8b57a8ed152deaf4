import TesseraNN
import TesseraTensor

/// How the messages arriving at a node are combined. A node no edge reaches receives 0 under
/// every aggregation (as PyTorch Geometric's `scatter` leaves it).
public enum Aggregation: String, Codable, CaseIterable, Sendable {
    /// `Σ_j m_ij`: keeps neighbourhood size, which GIN needs to be as expressive as 1-WL.
    case sum
    /// `(1 / |N(i)|) Σ_j m_ij`.
    case mean
    /// Elementwise `max_j m_ij` (the gradient goes to the maximising edges, split among ties).
    case max

    /// `[nodeCount, …]` from one message per edge (`[E, …]`), grouped by the edge's target.
    public func callAsFunction(_ messages: Tensor, targets: Tensor, nodeCount: Int) -> Tensor {
        switch self {
        case .sum: return messages.scatterSum(indices: targets, count: nodeCount)
        case .mean: return messages.scatterMean(indices: targets, count: nodeCount)
        case .max: return messages.scatterMax(indices: targets, count: nodeCount)
        }
    }
}

/// A graph's edges as the index tensors one forward pass reads: built once per pass from a
/// ``Graph`` (the index tensors are conversions of its `[Int]` arrays, O(E)).
public struct GraphEdges {
    public let nodeCount: Int
    /// `[E]`: the node each edge starts at (sends from).
    public let sourceIndex: Tensor
    /// `[E]`: the node each edge ends at (whose aggregation it joins).
    public let targetIndex: Tensor
    /// `[E, 1]` edge weights, or `nil` for an unweighted graph.
    public let weights: Tensor?

    /// The graph's edges with its own weights.
    public init(_ graph: Graph) {
        self.init(graph, weights: graph.edgeWeights == nil ? nil : graph.edgeWeightColumn)
    }

    /// The graph's edges with other per-edge weights (`[E, 1]`), such as GCN's coefficients.
    public init(_ graph: Graph, weights: Tensor?) {
        precondition(weights == nil || weights!.shape == [graph.edgeCount, 1],
                     "GraphEdges: weights of shape \(weights!.shape) must be [\(graph.edgeCount), 1]")
        nodeCount = graph.nodeCount
        sourceIndex = graph.sourceIndex
        targetIndex = graph.targetIndex
        self.weights = weights
    }

    public var edgeCount: Int { sourceIndex.count }

    /// The row of a per-node tensor (`[nodeCount, …]`) at each edge's source: `[E, …]`.
    public func atSources(_ nodeValues: Tensor) -> Tensor { nodeValues.indexSelect(alongAxis: 0, indices: sourceIndex) }

    /// The row of a per-node tensor at each edge's target: `[E, …]`.
    public func atTargets(_ nodeValues: Tensor) -> Tensor { nodeValues.indexSelect(alongAxis: 0, indices: targetIndex) }

    /// Per-edge values (`[E, …]`) combined at their targets: `[nodeCount, …]`.
    public func aggregate(_ messages: Tensor, _ aggregation: Aggregation) -> Tensor {
        aggregation(messages, targets: targetIndex, nodeCount: nodeCount)
    }

    /// The softmax of per-edge scores (`[E, …]`) over each target's incoming edges, so the
    /// coefficients of the edges into a node sum to 1 (GAT's attention).
    ///
    /// Each segment is shifted by its maximum before `exp` for stability; the maximum is a
    /// constant (detached), as in the ordinary softmax, so the gradient is the softmax's.
    public func softmax(_ scores: Tensor) -> Tensor {
        let maxima = scores.detached().scatterMax(indices: targetIndex, count: nodeCount)
        let exponentials = (scores - atTargets(maxima)).exp()
        let denominators = exponentials.scatterSum(indices: targetIndex, count: nodeCount)
        return exponentials / atTargets(denominators)
    }
}

/// What a message function reads about the edges of one pass.
public struct EdgeEndpoints {
    /// `x_j`: the (transformed) features of each edge's source, `[E, F]`.
    public let source: Tensor
    /// The features of every node, `[nodeCount, F]`, to read target rows from.
    public let nodeFeatures: Tensor
    public let edges: GraphEdges

    /// `x_i`: the features of each edge's target, `[E, F]`; gathered when read (GCN and GIN
    /// never read it, so they skip the gather).
    public var target: Tensor { edges.atTargets(nodeFeatures) }
    /// `[E, 1]` edge weights, or `nil` for an unweighted graph.
    public var weight: Tensor? { edges.weights }
}

/// The message passing scheme (Gilmer et al., "Neural Message Passing for Quantum Chemistry",
/// ICML 2017) that GCN, GIN and GAT are instances of:
///
/// ```
/// m_ij = message(x_j, x_i, w_ij)           for every edge j → i
/// a_i  = aggregate_{j ∈ N(i)} m_ij          (sum, mean or max)
/// x'_i = update(a_i, x_i)
/// ```
///
/// A layer's `callAsFunction` transforms its input (a linear map), picks the edges (adding
/// self-loops, say), and calls ``propagate(_:edges:)``, which runs the three steps in order, so a
/// relevance propagation can walk them back one by one.
public protocol MessagePassing: GraphLayer {
    /// How ``propagate(_:edges:)`` combines the messages into each target.
    var aggregation: Aggregation { get }
    /// One message per edge, `[E, …]`.
    func message(_ endpoints: EdgeEndpoints) -> Tensor
    /// The new node features from the aggregated messages (`[nodeCount, …]`) and the features
    /// that were propagated.
    func update(aggregated: Tensor, nodeFeatures: Tensor) -> Tensor
}

extension MessagePassing {
    /// `update(aggregate(message(x_j, x_i, w_ij)), x)` over `edges`.
    public func propagate(_ nodeFeatures: Tensor, edges: GraphEdges) -> Tensor {
        precondition(nodeFeatures.rank >= 1 && nodeFeatures.shape[0] == edges.nodeCount,
                     "\(Self.self): node features of shape \(nodeFeatures.shape) do not fit \(edges.nodeCount) nodes")
        let endpoints = EdgeEndpoints(source: edges.atSources(nodeFeatures), nodeFeatures: nodeFeatures, edges: edges)
        let messages = message(endpoints)
        let aggregated = edges.aggregate(messages, aggregation)
        return update(aggregated: aggregated, nodeFeatures: nodeFeatures)
    }
}

/// GCN's symmetric normalisation (Kipf & Welling, 2017) as one coefficient per edge:
///
/// ```
/// Â = D̃^-1/2 Ã D̃^-1/2,   Ã = A + I,   d̃_i = Σ_j Ã_ij
/// c_ij = w_ij / √(d̃_i d̃_j)   for the edge j → i (w_ij = 1 unweighted)
/// ```
///
/// Degrees count the edges into a node (weighted: their total weight), the self-loop included.
/// Self-loops are added only where a node has none (weight 1), as PyTorch Geometric's
/// `add_remaining_self_loops`; a node of degree 0 (possible without self-loops) gets
/// coefficient 0 rather than a division by zero.
///
/// Computed in Swift from the graph's arrays, O(E). Build it once and pass it to
/// ``GCNConvolution/callAsFunction(_:normalization:)`` when several layers or steps share a
/// graph; the karate club's costs a few microseconds (`tessera-bench gcn`), so computing it per
/// call is cheap too and needs no cache keyed by graph.
public struct GraphConvolutionNormalization {
    /// The edges messages travel along (the graph's, plus self-loops if they were added), with
    /// `c_ij` as their weights (with `normalize: false`, the graph's own weights).
    public let edges: GraphEdges

    public init(_ graph: Graph, addSelfLoops: Bool = true, normalize: Bool = true) {
        let looped = addSelfLoops ? graph.addingSelfLoops() : graph
        guard normalize else {
            edges = GraphEdges(looped)
            return
        }
        let inverseRoots = looped.inDegrees.map { $0 > 0 ? 1 / $0.squareRoot() : 0 }
        var coefficients = [Float](repeating: 0, count: looped.edgeCount)
        for e in 0..<looped.edgeCount {
            coefficients[e] = inverseRoots[looped.sources[e]] * (looped.edgeWeights?[e] ?? 1) * inverseRoots[looped.targets[e]]
        }
        edges = GraphEdges(looped, weights: Tensor(shape: [looped.edgeCount, 1], scalars: coefficients))
    }

    /// `[E, 1]`: `c_ij` for every edge of ``edges``, or `nil` (unnormalized and unweighted).
    public var coefficients: Tensor? { edges.weights }
}
