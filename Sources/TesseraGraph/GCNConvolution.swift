import TesseraNN
import TesseraTensor

/// The graph convolution of Kipf & Welling ("Semi-Supervised Classification with Graph
/// Convolutional Networks", ICLR 2017):
///
/// ```
/// H' = D̃^-1/2 (A + I) D̃^-1/2 H Wᵀ + b
/// x'_i = Σ_{j ∈ N(i) ∪ {i}} w_ij / √(d̃_i d̃_j) · W x_j + b
/// ```
///
/// computed sparsely: transform every node (`H Wᵀ`), scale the source row of every edge by its
/// coefficient (``GraphConvolutionNormalization``), sum into the targets, add the bias. Edge
/// weights, when the graph has them, enter the coefficients and the degrees. The weight is
/// stored `[outputSize, inputSize]` (as PyTorch Geometric's `lin.weight`).
///
/// ```swift
/// let first = GCNConvolution(34, 16, generator: &rng), second = GCNConvolution(16, 2, generator: &rng)
/// let normalization = GraphConvolutionNormalization(graph)      // once for both layers
/// let logits = second(first(x, normalization: normalization).relu(), normalization: normalization)
/// ```
public final class GCNConvolution: MessagePassing {
    /// `[outputSize, inputSize]`.
    public let weight: Tensor
    /// `[outputSize]`, or `nil` for a layer without bias.
    public let bias: Tensor?
    /// Add a self-loop (weight 1) to every node without one, so a node keeps its own features.
    public let addSelfLoops: Bool
    /// Scale by `1/√(d̃_i d̃_j)`; `false` sums the (weighted) neighbours as they are.
    public let normalize: Bool
    public let aggregation = Aggregation.sum

    public var inputSize: Int { weight.shape[1] }
    public var outputSize: Int { weight.shape[0] }

    /// Glorot-uniform weight and zero bias, as PyTorch Geometric initialises `GCNConv`.
    public init(_ inputSize: Int, _ outputSize: Int, bias: Bool = true, addSelfLoops: Bool = true, normalize: Bool = true,
                generator: inout RandomGenerator) {
        weight = Initialization.xavierUniform([outputSize, inputSize], generator: &generator).requiringGradient()
        self.bias = bias ? Tensor.zeros([outputSize]).requiringGradient() : nil
        self.addSelfLoops = addSelfLoops
        self.normalize = normalize
    }

    /// A layer with the given weight (`[out, in]`) and bias (`[out]`).
    public init(weight: Tensor, bias: Tensor?, addSelfLoops: Bool = true, normalize: Bool = true) {
        precondition(weight.rank == 2, "GCNConvolution: weight must be [out, in], got \(weight.shape)")
        precondition(bias == nil || bias!.shape == [weight.shape[0]], "GCNConvolution: bias must be [\(weight.shape[0])]")
        self.weight = weight.requiringGradient()
        self.bias = bias?.requiringGradient()
        self.addSelfLoops = addSelfLoops
        self.normalize = normalize
    }

    /// The coefficients this layer's options ask for, to compute once and reuse.
    public func normalization(for graph: Graph) -> GraphConvolutionNormalization {
        GraphConvolutionNormalization(graph, addSelfLoops: addSelfLoops, normalize: normalize)
    }

    public func callAsFunction(_ nodeFeatures: Tensor, graph: Graph) -> Tensor {
        callAsFunction(nodeFeatures, normalization: normalization(for: graph))
    }

    /// The layer over coefficients computed beforehand (they must match this layer's options).
    public func callAsFunction(_ nodeFeatures: Tensor, normalization: GraphConvolutionNormalization) -> Tensor {
        let transformed = transform(nodeFeatures)
        return propagate(transformed, normalization: normalization)
    }

    /// Step 1, `H Wᵀ`: `[nodes, inputSize]` → `[nodes, outputSize]`.
    public func transform(_ nodeFeatures: Tensor) -> Tensor {
        precondition(nodeFeatures.rank == 2 && nodeFeatures.shape[1] == inputSize,
                     "GCNConvolution: node features of shape \(nodeFeatures.shape) must be [nodes, \(inputSize)]")
        return nodeFeatures.linear(weight: weight, bias: nil)
    }

    /// Steps 2–4 on features already transformed: `Â H + b`.
    public func propagate(_ transformed: Tensor, normalization: GraphConvolutionNormalization) -> Tensor {
        propagate(transformed, edges: normalization.edges)
    }

    /// `c_ij · W x_j` (the coefficients are the edge weights of the normalization's edges).
    public func message(_ endpoints: EdgeEndpoints) -> Tensor {
        guard let coefficients = endpoints.weight else { return endpoints.source }
        return endpoints.source * coefficients
    }

    /// `Σ_j c_ij W x_j + b`.
    public func update(aggregated: Tensor, nodeFeatures: Tensor) -> Tensor {
        bias.map { aggregated + $0 } ?? aggregated
    }
}
