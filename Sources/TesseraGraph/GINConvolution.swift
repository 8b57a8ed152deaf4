import TesseraNN
import TesseraTensor

/// The graph isomorphism network layer of Xu et al. ("How Powerful are Graph Neural
/// Networks?", ICLR 2019):
///
/// ```
/// x'_i = MLP((1 + ε) x_i + Σ_{j ∈ N(i)} x_j)
/// ```
///
/// With an injective `network` and sum aggregation, a GIN layer maps different multisets of
/// neighbour features to different outputs, so a stack of them is as expressive as the 1-WL
/// (Weisfeiler–Lehman) colour refinement test; mean or max aggregation would lose the
/// multiplicities. ε is learnable (a `[1]` parameter, GIN-ε) or fixed (GIN-0 with ε = 0). Edge
/// weights are ignored, as in PyTorch Geometric's `GINConv`.
///
/// ```swift
/// let layer = GINConvolution(MLP(sizes: [5, 16, 16], generator: &rng), learnEpsilon: true)
/// let h = layer(x, graph: graph)                                  // [nodes, 16]
/// ```
public final class GINConvolution: MessagePassing {
    /// The MLP applied after aggregation.
    public let network: any Layer
    /// The learnable ε (`[1]`), or `nil` when ε is fixed at ``fixedEpsilon``.
    public let epsilon: Tensor?
    /// ε when it is not learned.
    public let fixedEpsilon: Float
    public let aggregation = Aggregation.sum

    /// - Parameters:
    ///   - network: maps the aggregated features to the output (an MLP, ideally injective).
    ///   - epsilon: the initial (or, unless `learnEpsilon`, fixed) ε.
    ///   - learnEpsilon: make ε a trained parameter (GIN-ε) instead of a constant (GIN-0 when
    ///     `epsilon` is 0, the paper's best variant on most benchmarks).
    public init(_ network: any Layer, epsilon: Float = 0, learnEpsilon: Bool = false) {
        self.network = network
        self.epsilon = learnEpsilon ? Tensor([epsilon]).requiringGradient() : nil
        fixedEpsilon = epsilon
    }

    public func callAsFunction(_ nodeFeatures: Tensor, graph: Graph) -> Tensor {
        propagate(nodeFeatures, edges: GraphEdges(graph))
    }

    /// `x_j`: a neighbour sends its features unchanged.
    public func message(_ endpoints: EdgeEndpoints) -> Tensor { endpoints.source }

    /// `MLP((1 + ε) x_i + Σ_j x_j)`.
    public func update(aggregated: Tensor, nodeFeatures: Tensor) -> Tensor {
        let own = epsilon.map { nodeFeatures * (1 + $0) } ?? nodeFeatures * (1 + fixedEpsilon)
        return network(own + aggregated)
    }
}
