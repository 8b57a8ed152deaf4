import TesseraTensor

/// The normalised graph Laplacian `L = I − D^-1/2 A D^-1/2` and the graph Fourier basis it
/// defines (Chung, "Spectral Graph Theory", 1997; Shuman et al., "The emerging field of signal
/// processing on graphs", IEEE Signal Processing Magazine 2013).
///
/// `A[target][source]` is the edge weight (``Graph/adjacencyMatrix()``) and `D` the diagonal of
/// its row sums (``Graph/inDegrees``). The graph must be undirected (a symmetric `A`) with
/// non-negative weights; then `L` is symmetric positive semi-definite with eigenvalues in
/// `[0, 2]`, and 0 appears once per connected component.
///
/// **Isolated nodes** (degree 0) get a zero row and column in `L` (`L_ii = 0`), Chung's convention
/// and networkx's `normalized_laplacian_matrix`: an isolated node is a connected component of its
/// own, so the multiplicity of the eigenvalue 0 is the number of components, isolated nodes
/// included. (PyTorch Geometric's `get_laplacian` puts 1 there instead.)
///
/// ```swift
/// let basis = GraphFourierBasis(graph: graph)          // eigenvalues ascending, eigenvectors as columns
/// let spectrum = basis.transform(signal)               // Uᵀ x
/// let back = basis.inverseTransform(spectrum)          // U x̂ = x
/// ```
public enum GraphLaplacian {
    /// The dense `[nodeCount, nodeCount]` normalised Laplacian, for small graphs (spectral layers,
    /// tests); message passing layers apply it sparsely through ``NormalizedAdjacency``.
    public static func normalized(_ graph: Graph) -> Tensor {
        let n = graph.nodeCount, adjacency = graph.adjacencyMatrix()
        let inverseRoots = NormalizedAdjacency.inverseSquareRootDegrees(graph)
        var laplacian = [Float](repeating: 0, count: n * n)
        for row in 0..<n {
            for column in 0..<n {
                let identity: Float = row == column && inverseRoots[row] > 0 ? 1 : 0
                laplacian[row * n + column] = identity - inverseRoots[row] * adjacency[row * n + column] * inverseRoots[column]
            }
        }
        return Tensor(shape: [n, n], scalars: laplacian)
    }

    /// `L̃ = 2L / λ_max − I`, the Laplacian with its spectrum mapped from `[0, λ_max]` onto
    /// `[−1, 1]`, where Chebyshev polynomials are bounded (Hammond et al., "Wavelets on graphs via
    /// spectral graph theory", 2011).
    public static func scaled(_ laplacian: Tensor, maximumEigenvalue: Float) -> Tensor {
        precondition(laplacian.rank == 2 && laplacian.shape[0] == laplacian.shape[1],
                     "GraphLaplacian.scaled: the Laplacian must be square, got \(laplacian.shape)")
        precondition(maximumEigenvalue > 0, "GraphLaplacian.scaled: λ_max must be positive, got \(maximumEigenvalue)")
        return laplacian * (2 / maximumEigenvalue) - Tensor.eye(laplacian.shape[0])
    }

    /// The largest eigenvalue of the normalised Laplacian (at most 2, attained exactly when a
    /// component is bipartite), from the dense eigendecomposition; 0 for a graph without edges.
    public static func maximumEigenvalue(_ graph: Graph) -> Float {
        GraphFourierBasis(graph: graph).maximumEigenvalue
    }
}

/// The eigendecomposition `L = U Λ Uᵀ` of a symmetric graph operator (by default the normalised
/// Laplacian): the eigenvectors are the graph's Fourier modes, ordered by their eigenvalue, the
/// "frequency" (a small eigenvalue varies slowly across edges). Computed once per graph with
/// LAPACK's `ssyevd` (`BLAS.symmetricEigendecomposition(_:n:)`), `O(n³)`: for graphs of up to a
/// few thousand nodes.
public struct GraphFourierBasis {
    /// `[nodeCount]`, ascending.
    public let eigenvalues: Tensor
    /// `[nodeCount, nodeCount]`; column `k` is the unit eigenvector of `eigenvalues[k]` (its sign
    /// is whatever LAPACK returns).
    public let eigenvectors: Tensor

    public var nodeCount: Int { eigenvalues.count }
    /// The largest eigenvalue (0 for an empty graph).
    public var maximumEigenvalue: Float { eigenvalues.scalars.last ?? 0 }

    /// The Fourier basis of `graph`'s normalised Laplacian.
    public init(graph: Graph) {
        self.init(laplacian: GraphLaplacian.normalized(graph))
    }

    /// The eigendecomposition of a symmetric `[n, n]` matrix (checked to be symmetric to 1e-5).
    public init(laplacian: Tensor) {
        precondition(laplacian.rank == 2 && laplacian.shape[0] == laplacian.shape[1],
                     "GraphFourierBasis: the Laplacian must be square, got \(laplacian.shape)")
        let n = laplacian.shape[0], values = laplacian.scalars
        for row in 0..<n {
            for column in (row + 1)..<n where Swift.abs(values[row * n + column] - values[column * n + row]) > 1e-5 {
                preconditionFailure("GraphFourierBasis: the Laplacian is not symmetric at [\(row), \(column)] "
                    + "(\(values[row * n + column]) vs \(values[column * n + row])); is the graph directed?")
            }
        }
        guard let (eigenvalues, eigenvectors) = BLAS.symmetricEigendecomposition(values, n: n) else {
            preconditionFailure("GraphFourierBasis: LAPACK ssyevd did not converge for a \(n) × \(n) Laplacian")
        }
        self.eigenvalues = Tensor(eigenvalues)
        self.eigenvectors = Tensor(shape: [n, n], scalars: eigenvectors)
    }

    /// The graph Fourier transform `x̂ = Uᵀ x` of a signal `[nodeCount, channels]` (or
    /// `[nodeCount]`): row `k` of the result is the coefficient of Fourier mode `k`.
    /// Differentiable in the signal.
    public func transform(_ signal: Tensor) -> Tensor {
        checkRows(signal, "transform")
        return Tensor.matmul(eigenvectors, signal.rank == 1 ? signal.reshape([nodeCount, 1]) : signal,
                             transposeA: true, transposeB: false).reshape(signal.shape)
    }

    /// The inverse transform `x = U x̂`.
    public func inverseTransform(_ coefficients: Tensor) -> Tensor {
        checkRows(coefficients, "inverseTransform")
        return eigenvectors.matmul(coefficients.rank == 1 ? coefficients.reshape([nodeCount, 1]) : coefficients)
            .reshape(coefficients.shape)
    }

    private func checkRows(_ signal: Tensor, _ operation: String) {
        precondition((signal.rank == 1 || signal.rank == 2) && signal.shape[0] == nodeCount,
                     "GraphFourierBasis.\(operation): a signal of shape \(signal.shape) does not fit a basis of \(nodeCount) nodes; "
                        + "expected [\(nodeCount)] or [\(nodeCount), channels]")
    }
}

/// `Â = D^-1/2 A D^-1/2` applied sparsely, by gathering each edge's source row, scaling it by
/// `w_e / √(d_source · d_target)` and summing into the target (`O(edges · channels)`), and with it
/// the normalised Laplacian `L x = x − Â x` (zero on isolated nodes, as in ``GraphLaplacian``).
/// Chebyshev filters and the contraction GNN both propagate with it.
public struct NormalizedAdjacency {
    public let nodeCount: Int
    private let sources: Tensor
    private let targets: Tensor
    /// `[edges, 1]`: `w_e / √(d_source · d_target)`.
    private let coefficients: Tensor
    /// `[nodeCount, 1]`: 1 where a node has an edge, 0 where it is isolated.
    private let connected: Tensor

    public init(_ graph: Graph) {
        let inverseRoots = NormalizedAdjacency.inverseSquareRootDegrees(graph)
        nodeCount = graph.nodeCount
        sources = graph.sourceIndex
        targets = graph.targetIndex
        let weights = graph.edgeWeights ?? [Float](repeating: 1, count: graph.edgeCount)
        coefficients = Tensor(shape: [graph.edgeCount, 1], scalars: (0..<graph.edgeCount).map {
            weights[$0] * inverseRoots[graph.sources[$0]] * inverseRoots[graph.targets[$0]]
        })
        connected = Tensor(shape: [nodeCount, 1], scalars: inverseRoots.map { $0 > 0 ? 1 : 0 })
    }

    /// `Â x` for node values `[nodeCount, channels]`; differentiable in `x`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.rank == 2 && x.shape[0] == nodeCount,
                     "NormalizedAdjacency: node values of shape \(x.shape) do not fit \(nodeCount) nodes; expected [\(nodeCount), channels]")
        return (x.indexSelect(alongAxis: 0, indices: sources) * coefficients).scatterSum(indices: targets, count: nodeCount)
    }

    /// `Âᵀ x`, sending along every edge backwards (the same as `Â x` on an undirected graph).
    public func transposed(_ x: Tensor) -> Tensor {
        precondition(x.rank == 2 && x.shape[0] == nodeCount,
                     "NormalizedAdjacency: node values of shape \(x.shape) do not fit \(nodeCount) nodes; expected [\(nodeCount), channels]")
        return (x.indexSelect(alongAxis: 0, indices: targets) * coefficients).scatterSum(indices: sources, count: nodeCount)
    }

    /// `L x = x − Â x`, with `(L x)_i = 0` for an isolated node `i`.
    public func laplacian(_ x: Tensor) -> Tensor {
        x * connected - self(x)
    }

    /// `1/√d_i` for every node, 0 where the degree is 0.
    static func inverseSquareRootDegrees(_ graph: Graph) -> [Float] {
        graph.inDegrees.enumerated().map { node, degree in
            precondition(degree >= 0, "normalised adjacency: node \(node) has degree \(degree); edge weights must not be negative")
            return degree > 0 ? 1 / degree.squareRoot() : 0
        }
    }
}
