import TesseraNN
import TesseraTensor

/// Chebyshev spectral graph convolution (Defferrard, Bresson & Vandergheynst, "Convolutional
/// Neural Networks on Graphs with Fast Localized Spectral Filtering", NeurIPS 2016, Sec. 2):
///
///     y = Σ_{k<K} T_k(L̃) x W_k  (+ b),   L̃ = 2L/λ_max − I,
///     T_0 = x,  T_1 = L̃x,  T_k = 2 L̃ T_{k−1} − T_{k−2}.
///
/// A filter that is a polynomial of degree `K − 1` in the Laplacian needs no eigendecomposition
/// and reaches exactly `K − 1` hops: each `L̃`-product is one sparse pass over the edges
/// (``NormalizedAdjacency``), `O(K · edges · inputSize)`. Unlike ``SpectralConvolution`` the same
/// layer applies to any graph.
///
/// **GCN is the first-order case** (Kipf & Welling, "Semi-Supervised Classification with Graph
/// Convolutional Networks", ICLR 2017, Sec. 2.2): with `K = 2`, `λ_max ≈ 2` (so `L̃ = L − I =
/// −D^-1/2 A D^-1/2`) and one tied weight `θ = W_0 = −W_1`, `y = (I + D^-1/2 A D^-1/2) x θ`;
/// the renormalisation trick replaces `I + D^-1/2 A D^-1/2` by `D̃^-1/2 (A + I) D̃^-1/2`. The
/// tests derive this from the layer (`ChebyshevConvolutionTests`).
///
/// ```swift
/// let layer = ChebyshevConvolution(inputSize: 3, outputSize: 16, order: 3, generator: &rng)
/// let y = layer(graph.nodeFeatures!, graph: graph)     // [nodeCount, 16]
/// ```
public final class ChebyshevConvolution: GraphLayer {
    /// Where `λ_max` comes from in `L̃ = 2L/λ_max − I`.
    public enum MaximumEigenvalue: Equatable, Sendable {
        /// `λ_max = 2`, the normalised Laplacian's upper bound (Kipf & Welling's approximation;
        /// the network's weights absorb the change of scale). The default: no eigensolve.
        case two
        /// The graph's own largest eigenvalue, from a dense eigendecomposition on every call:
        /// `O(nodeCount³)`, for small graphs.
        case exact
        /// A value known in advance (e.g. computed once per dataset graph).
        case given(Float)
    }

    /// `[order, inputSize, outputSize]`: `W_k` for `T_k`.
    public let weight: Tensor
    /// `[outputSize]`, or `nil`.
    public let bias: Tensor?
    public let maximumEigenvalue: MaximumEigenvalue

    /// `K`, the number of Chebyshev terms (filters reach `K − 1` hops).
    public var order: Int { weight.shape[0] }
    public var inputSize: Int { weight.shape[1] }
    public var outputSize: Int { weight.shape[2] }

    /// Glorot-uniform `W_k` (as PyTorch Geometric's `ChebConv`), zero bias.
    public convenience init(inputSize: Int, outputSize: Int, order: Int, bias: Bool = true,
                maximumEigenvalue: MaximumEigenvalue = .two, generator: inout RandomGenerator) {
        precondition(order >= 1, "ChebyshevConvolution: the order (number of terms) must be at least 1, got \(order)")
        let weight = Tensor.stack((0..<order).map { _ in
            Initialization.xavierUniform([inputSize, outputSize], generator: &generator)
        })
        self.init(weight: weight, bias: bias ? Tensor.zeros([outputSize]) : nil, maximumEigenvalue: maximumEigenvalue)
    }

    /// A layer with given `W` (`[order, inputSize, outputSize]`) and bias (`[outputSize]`).
    public init(weight: Tensor, bias: Tensor?, maximumEigenvalue: MaximumEigenvalue = .two) {
        precondition(weight.rank == 3 && weight.shape[0] >= 1,
                     "ChebyshevConvolution: weight of shape \(weight.shape) must be [order ≥ 1, input, output]")
        precondition(bias == nil || bias!.shape == [weight.shape[2]],
                     "ChebyshevConvolution: bias of shape \(bias!.shape) must be [\(weight.shape[2])]")
        if case .given(let value) = maximumEigenvalue {
            precondition(value > 0, "ChebyshevConvolution: λ_max must be positive, got \(value)")
        }
        self.weight = weight.requiringGradient()
        self.bias = bias?.requiringGradient()
        self.maximumEigenvalue = maximumEigenvalue
    }

    /// `nodeFeatures` is `[graph.nodeCount, inputSize]`.
    public func callAsFunction(_ nodeFeatures: Tensor, graph: Graph) -> Tensor {
        precondition(nodeFeatures.rank == 2 && nodeFeatures.shape == [graph.nodeCount, inputSize],
                     "ChebyshevConvolution: node features of shape \(nodeFeatures.shape) must be [\(graph.nodeCount), \(inputSize)] "
                        + "(the graph's nodes, input channels)")
        let scaledLaplacian = scaledLaplacianProduct(graph)
        var previous = nodeFeatures, current = nodeFeatures
        var output = nodeFeatures.matmul(weight.select(alongAxis: 0, index: 0))
        for k in 1..<order {
            let next = k == 1 ? scaledLaplacian(current) : 2 * scaledLaplacian(current) - previous
            (previous, current) = (current, next)
            output = output + current.matmul(weight.select(alongAxis: 0, index: k))
        }
        return bias.map { output + $0 } ?? output
    }

    /// `x ↦ L̃x = (2/λ_max) L x − x`, sparse.
    func scaledLaplacianProduct(_ graph: Graph) -> (Tensor) -> Tensor {
        let adjacency = NormalizedAdjacency(graph)
        let lambda: Float
        switch maximumEigenvalue {
        case .two: lambda = 2
        case .given(let value): lambda = value
        case .exact:
            // A graph without edges has L = 0; any positive λ gives L̃ = −I there.
            lambda = max(GraphLaplacian.maximumEigenvalue(graph), .leastNormalMagnitude)
        }
        if lambda == 2 { return { x in adjacency.laplacian(x) - x } }  // saves a scaling pass
        return { x in adjacency.laplacian(x) * (2 / lambda) - x }
    }
}
