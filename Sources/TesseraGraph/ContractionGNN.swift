import TesseraNN
import TesseraTensor

/// The original graph neural network (Scarselli, Gori, Tsoi, Hagenbuchner & Monfardini, "The
/// graph neural network model", IEEE Transactions on Neural Networks 20(1), 2009): every node
/// `n` with label `l_n` has a state `x_n`, the fixed point of a transition function over its
/// neighbourhood, and an output computed from it,
///
///     x_n = F_w(x_n, l_n, {x_u, l_u : u ∈ ne(n)}),     o_n = g_w(x_n, l_n).
///
/// Here, for all nodes at once with `Â = D^-1/2 A D^-1/2` (``NormalizedAdjacency``):
///
///     F(X) = tanh(Â X W_state + L W_label + Â L W_neighbourLabel + b),   o = [X, L] W_out + b_out.
///
/// **Contraction.** Banach's theorem gives a unique fixed point, reached by plain iteration
/// from any start, when `F` is a contraction in `X`. Two mechanisms, both implemented:
/// - *spectral normalisation* of `W_state` (on by default, ``contractionBound``): `W_state` is
///   used as `W_state · min(1, c / σ_max(W_state))`. Since `‖Â‖₂ ≤ 1` (non-negative weights) and
///   `|tanh'| ≤ 1`, the Lipschitz constant of `F` in `X` is at most `c < 1`, on every graph and at
///   every step of training: the forward pass always converges, at rate `c`. `σ_max` comes exactly
///   from the eigendecomposition of `WᵀW` (the state is small), as `uᵀ W v` so it is
///   differentiable (Miyato et al., "Spectral Normalization for GANs", ICLR 2018).
/// - the paper's *contraction penalty* (``contractionPenalty(states:labels:graph:)``), added to the
///   loss: `Σ_columns L(‖∂F/∂x‖₁ column)` with `L(y) = (y − μ)²` for `y > μ`, else 0, evaluated at
///   the fixed point. It is less restrictive (it looks at the actual `tanh'` and the graph) but
///   only encourages contraction; use it alone (`contractionBound: nil`) to follow the paper.
///
/// **Gradients** come from the implicit function theorem at the fixed point (``FixedPointSolver``):
/// the forward iteration records nothing, however many iterations it takes.
public final class ContractionGNN: GraphLayer {
    /// `[stateSize, stateSize]`, before spectral normalisation.
    public let stateWeight: Tensor
    /// `[labelSize, stateSize]`: the node's own label.
    public let labelWeight: Tensor
    /// `[labelSize, stateSize]`: the neighbours' labels, aggregated by `Â`.
    public let neighbourLabelWeight: Tensor
    /// `[stateSize]`.
    public let stateBias: Tensor
    /// `g`: `[x_n, l_n]` (`stateSize + labelSize`) → `outputSize`.
    public let output: Linear

    /// `c` in `W_state · min(1, c/σ_max)`, below 1 for a guaranteed contraction; `nil` turns
    /// spectral normalisation off (then only the penalty keeps `F` contracting).
    public var contractionBound: Float?
    /// `μ` of the contraction penalty: the column norms of `∂F/∂x` it lets pass.
    public var penaltyThreshold: Float
    /// Tolerances and iteration limits of the forward and backward fixed-point iterations.
    public var solver: FixedPointSolver

    /// Forward iterations of the last call.
    public private(set) var lastIterations: Int?
    /// Backward (vector–Jacobian) iterations of the last call's gradient, once it has run.
    public var lastBackwardIterations: Int? { lastStatistics?.backwardIterations }
    private var lastStatistics: FixedPointStatistics?

    public var labelSize: Int { labelWeight.shape[0] }
    public var stateSize: Int { stateWeight.shape[0] }
    public var outputSize: Int { output.outputSize }

    /// Weights uniform in `±1/√fanIn`, zero state bias; the output function is PyTorch's default Linear.
    public init(labelSize: Int, stateSize: Int, outputSize: Int, contractionBound: Float? = 0.9,
                penaltyThreshold: Float = 0.9, solver: FixedPointSolver = FixedPointSolver(), generator: inout RandomGenerator) {
        precondition(labelSize >= 1 && stateSize >= 1 && outputSize >= 1,
                     "ContractionGNN: sizes must be positive, got label \(labelSize), state \(stateSize), output \(outputSize)")
        if let contractionBound {
            precondition(contractionBound > 0, "ContractionGNN: the contraction bound must be positive, got \(contractionBound)")
        }
        let stateBound = 1 / Float(stateSize).squareRoot(), labelBound = 1 / Float(labelSize).squareRoot()
        stateWeight = Tensor.randomUniform([stateSize, stateSize], low: -stateBound, high: stateBound, generator: &generator)
            .requiringGradient()
        labelWeight = Tensor.randomUniform([labelSize, stateSize], low: -labelBound, high: labelBound, generator: &generator)
            .requiringGradient()
        neighbourLabelWeight = Tensor.randomUniform([labelSize, stateSize], low: -labelBound, high: labelBound, generator: &generator)
            .requiringGradient()
        stateBias = Tensor.zeros([stateSize]).requiringGradient()
        output = Linear(stateSize + labelSize, outputSize, generator: &generator)
        self.contractionBound = contractionBound
        self.penaltyThreshold = penaltyThreshold
        self.solver = solver
    }

    /// The outputs `o = g(x*, l)`, `[nodeCount, outputSize]`, for node labels (features)
    /// `[nodeCount, labelSize]`. Stops with the solver's message if the iteration does not converge;
    /// ``states(_:graph:)`` throws it instead.
    public func callAsFunction(_ nodeFeatures: Tensor, graph: Graph) -> Tensor {
        let states: Tensor
        do { states = try self.states(nodeFeatures, graph: graph) } catch {
            preconditionFailure("ContractionGNN: \(error)")
        }
        return outputs(states: states, labels: nodeFeatures)
    }

    /// The fixed-point states `x*`, `[nodeCount, stateSize]`, differentiable in the weights and
    /// the labels by implicit differentiation. Sets ``lastIterations``.
    public func states(_ labels: Tensor, graph: Graph) throws -> Tensor {
        let (transition, parameters) = self.transition(labels, graph: graph)
        let solution = try solver.solve(from: Tensor.zeros([graph.nodeCount, stateSize]), parameters: parameters, transition)
        lastIterations = solution.statistics.iterations
        lastStatistics = solution.statistics
        return solution.state
    }

    /// `o_n = g(x_n, l_n)`.
    public func outputs(states: Tensor, labels: Tensor) -> Tensor {
        output(Tensor.concatenate([states, labels], alongAxis: 1))
    }

    /// The paper's penalty (Sec. III-B, for the nonlinear GNN): with `J = ∂F/∂x` at `states`
    /// (normally `x*`), `Σ_{(u,j)} L(‖J[:, (u,j)]‖₁)`, `L(y) = (y − μ)²` if `y > μ`, else 0. The
    /// largest column 1-norm is the induced 1-norm of `J`, so a zero penalty with `μ < 1` makes
    /// `F` a contraction near `states`. For `F = tanh(Â X W + …)`,
    /// `J[(n,i),(u,j)] = tanh'(z_ni) Â_nu W_ji`, whose column norms are `Âᵀ (tanh'(Z) |W|ᵀ)`.
    /// Differentiable in the weights, the labels and `states`.
    public func contractionPenalty(states: Tensor, labels: Tensor, graph: Graph) -> Tensor {
        let adjacency = NormalizedAdjacency(graph)
        let weight = normalizedStateWeight()
        let preActivation = adjacency(states).matmul(weight) + drive(labels, adjacency: adjacency)
        let slope = 1 - preActivation.tanh().pow(2)
        let columnNorms = adjacency.transposed(slope.matmul(transposed: weight.abs()))
        return (columnNorms - penaltyThreshold).relu().pow(2).sum()
    }

    /// `W_state` scaled so that its largest singular value is at most ``contractionBound``.
    public func normalizedStateWeight() -> Tensor {
        guard let contractionBound else { return stateWeight }
        let (sigma, left, right) = ContractionGNN.largestSingularTriple(stateWeight)
        guard sigma > contractionBound else { return stateWeight }
        // σ = uᵀ W v, differentiable in W (dσ/dW = u vᵀ for a simple top singular value).
        let differentiableSigma = (stateWeight * left.outer(right)).sum()
        return stateWeight * (contractionBound / differentiableSigma)
    }

    /// `F(x; W_state, drive)` with the tensors it reads that need gradients (see
    /// ``FixedPointSolver/solve(from:parameters:_:)``).
    func transition(_ labels: Tensor, graph: Graph) -> (function: (Tensor, [Tensor]) -> Tensor, parameters: [Tensor]) {
        precondition(labels.rank == 2 && labels.shape == [graph.nodeCount, labelSize],
                     "ContractionGNN: node labels of shape \(labels.shape) must be [\(graph.nodeCount), \(labelSize)] "
                        + "(the graph's nodes, label size)")
        let adjacency = NormalizedAdjacency(graph)
        let weight = normalizedStateWeight()
        // The label terms do not change between iterations: computed (and recorded) once.
        let drive = self.drive(labels, adjacency: adjacency)
        return ({ state, parameters in (adjacency(state).matmul(parameters[0]) + parameters[1]).tanh() }, [weight, drive])
    }

    /// `L W_label + Â L W_neighbourLabel + b`.
    private func drive(_ labels: Tensor, adjacency: NormalizedAdjacency) -> Tensor {
        labels.matmul(labelWeight) + adjacency(labels).matmul(neighbourLabelWeight) + stateBias
    }

    /// `(σ_max, u, v)` with `W v = σ u`, from the eigendecomposition of `WᵀW`.
    static func largestSingularTriple(_ weight: Tensor) -> (sigma: Float, left: Tensor, right: Tensor) {
        let n = weight.shape[1]
        let gram = withoutGradients { Tensor.matmul(weight, weight, transposeA: true, transposeB: false) }
        guard let (values, vectors) = BLAS.symmetricEigendecomposition(gram.scalars, n: n) else {
            preconditionFailure("ContractionGNN: LAPACK ssyevd did not converge on WᵀW of the state weight \(weight.shape)")
        }
        let sigma = max(values[n - 1], 0).squareRoot()
        let right = Tensor((0..<n).map { vectors[$0 * n + n - 1] })
        let left = withoutGradients { weight.matmul(right) / max(sigma, .leastNormalMagnitude) }
        return (sigma, left, right)
    }
}
