import TesseraTensor

/// The fixed point `x* = f(x*)` of a contraction by plain iteration (Banach), differentiated
/// implicitly: no iteration is stored, whatever their number (Almeida 1987, Pineda 1987, as used
/// for graph neural networks by Scarselli et al., "The graph neural network model", IEEE TNN
/// 2009, Sec. III-B; the same gradient as deep equilibrium models, Bai, Kolter & Koltun 2019).
///
/// For a loss `ℓ(x*)` and `x* = f(x*, θ)`, the implicit function theorem gives
///
///     dℓ/dθ = (∂f/∂θ)ᵀ v,   v = g + (∂f/∂x)ᵀ v,   g = dℓ/dx*,
///
/// and `v` is itself the fixed point of a contraction when `f` is one (`‖∂f/∂x‖ < 1`), so the
/// backward pass iterates vector–Jacobian products of `f` re-evaluated once at `x*`.
///
/// ```swift
/// let solver = FixedPointSolver(tolerance: 1e-6, maximumIterations: 200)
/// let solution = try solver.solve(from: Tensor.zeros([n, d]), parameters: [weight, drive]) { x, p in
///     (adjacency(x).matmul(p[0]) + p[1]).tanh()
/// }
/// solution.state                      // x*, differentiable in weight and drive
/// solution.statistics.iterations      // forward applications of f
/// ```
public struct FixedPointSolver: Sendable {
    /// Stop the forward iteration when `max |f(x) − x| ≤ tolerance`.
    public var tolerance: Float
    /// Forward applications of `f` before ``FixedPointError`` is thrown.
    public var maximumIterations: Int
    /// Stop the backward iteration when `max |v_{k+1} − v_k| ≤ backwardTolerance · max(1, max |g|)`
    /// (relative to the incoming gradient, whose scale is the loss's business).
    public var backwardTolerance: Float
    /// Backward vector–Jacobian products before the backward pass stops with a fatal error (a
    /// backward rule cannot throw; silently wrong gradients would be worse).
    public var backwardMaximumIterations: Int

    public init(tolerance: Float = 1e-5, maximumIterations: Int = 500,
                backwardTolerance: Float? = nil, backwardMaximumIterations: Int? = nil) {
        precondition(tolerance > 0 && maximumIterations >= 1,
                     "FixedPointSolver: needs a positive tolerance and at least 1 iteration, got \(tolerance), \(maximumIterations)")
        self.tolerance = tolerance
        self.maximumIterations = maximumIterations
        self.backwardTolerance = backwardTolerance ?? tolerance
        self.backwardMaximumIterations = backwardMaximumIterations ?? maximumIterations
    }

    /// Iterates `x ← function(x, parameters)` from `initial` without recording gradients until it
    /// settles, then returns `x*` as one differentiable operation whose inputs are `parameters`:
    /// every tensor `function` reads that needs a gradient (weights, and inputs computed by
    /// earlier layers).
    ///
    /// `function` must take those tensors from its second argument rather than capture them: the
    /// backward pass calls it once more with detached copies, so that each of its many
    /// vector–Jacobian products stays inside `f` instead of running back through whatever
    /// computed the parameters. A captured tensor is a constant to the solver (no gradient).
    ///
    /// The implicit gradient is first order only: under `createGraph: true` it is not itself
    /// differentiable.
    public func solve(from initial: Tensor, parameters: [Tensor],
                      _ function: @escaping (_ state: Tensor, _ parameters: [Tensor]) -> Tensor) throws -> FixedPointSolution {
        let (state, iterations, residual) = try withoutGradients { try iterate(from: initial) { function($0, parameters) } }
        let statistics = FixedPointStatistics(iterations: iterations, residual: residual)
        let solver = self
        let output = Tensor.customOperation("fixedPoint", output: state, inputs: parameters) { gradient in
            let (parameterGradients, backwardIterations) = solver.implicitGradients(
                at: state, outputGradient: gradient, parameters: parameters, function)
            statistics.backwardIterations = backwardIterations
            return parameterGradients
        }
        return FixedPointSolution(state: output, statistics: statistics)
    }

    /// `x ← f(x)` until `max |f(x) − x| ≤ tolerance`: the state, the number of applications of
    /// `f`, and the last change.
    public func iterate(from initial: Tensor, _ function: (Tensor) -> Tensor) throws -> (state: Tensor, iterations: Int, residual: Float) {
        var state = initial.detached(), residual = Float.infinity
        for iteration in 1...maximumIterations {
            let next = function(state)
            precondition(next.shape == state.shape,
                         "FixedPointSolver: the function maps a state of shape \(state.shape) to \(next.shape); a fixed point needs the same shape")
            residual = FixedPointSolver.maximumDifference(next, state)
            state = next
            guard residual.isFinite else { break }
            if residual <= tolerance { return (state, iteration, residual) }
        }
        throw FixedPointError(iterations: maximumIterations, tolerance: tolerance, residual: residual)
    }

    /// `(∂f/∂θ)ᵀ v` with `v = g + (∂f/∂x)ᵀ v` at `x*`, and the number of backward iterations.
    func implicitGradients(at fixedPoint: Tensor, outputGradient: Tensor, parameters: [Tensor],
                           _ function: (Tensor, [Tensor]) -> Tensor) -> (gradients: [Tensor?], iterations: Int) {
        // Backward rules run with recording off (unless createGraph): f at x* must be recorded
        // so its vector–Jacobian products exist. One evaluation serves every iteration; detached
        // parameters keep each product inside f.
        let state = fixedPoint.detached().requiringGradient()
        let leaves = parameters.map { $0.detached().requiringGradient($0.requiresGrad) }
        let image = withGradientMode(true) { function(state, leaves) }
        let gradient = outputGradient.detached()
        guard image.requiresGrad else {  // f depends on neither x nor any parameter
            return (parameters.map { _ in nil }, 0)
        }
        let threshold = backwardTolerance * max(1, FixedPointSolver.maximumAbsolute(gradient))
        var v = gradient, iterations = 0, change = Float.infinity
        while change > threshold {
            guard iterations < backwardMaximumIterations else {
                preconditionFailure("FixedPointSolver: the implicit gradient did not converge in \(backwardMaximumIterations) "
                    + "iterations (change \(change) > \(threshold)); f is not a contraction at the fixed point")
            }
            let product = Tensor.gradients(of: image, withRespectTo: [state], seed: v)[0]
            let next = gradient + product
            change = FixedPointSolver.maximumDifference(next, v)
            v = next
            iterations += 1
        }
        let wanted = leaves.filter(\.requiresGrad)
        var found = Tensor.gradients(of: image, withRespectTo: wanted, seed: v).makeIterator()
        return (parameters.map { $0.requiresGrad ? found.next() : nil }, iterations)
    }

    static func maximumDifference(_ a: Tensor, _ b: Tensor) -> Float {
        zip(a.scalars, b.scalars).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    static func maximumAbsolute(_ a: Tensor) -> Float {
        a.scalars.reduce(0) { max($0, abs($1)) }
    }
}

/// A fixed point and how it was reached.
public struct FixedPointSolution {
    /// `x*`, differentiable in the solver's `parameters`.
    public let state: Tensor
    public let statistics: FixedPointStatistics
}

/// Iteration counts of one solve; ``backwardIterations`` is filled in when the backward pass runs
/// (hence a class: the backward rule writes into it later).
public final class FixedPointStatistics: @unchecked Sendable {
    /// Forward applications of `f`.
    public let iterations: Int
    /// `max |f(x*) − x*|` at the end of the forward iteration.
    public let residual: Float
    /// Vector–Jacobian products of the last backward pass through this solve, `nil` before one.
    public internal(set) var backwardIterations: Int?

    init(iterations: Int, residual: Float) {
        self.iterations = iterations
        self.residual = residual
    }
}

/// The forward iteration did not settle: `f` is not a contraction (or not enough of one for the
/// limit).
public struct FixedPointError: Error, CustomStringConvertible, Equatable {
    public let iterations: Int
    public let tolerance: Float
    /// The last change `max |f(x) − x|` (infinite or NaN if the iteration diverged).
    public let residual: Float

    public var description: String {
        "fixed point iteration did not converge within the limit of \(iterations) iterations: "
            + "the last change was \(residual), the tolerance \(tolerance); make the map a contraction "
            + "(stronger spectral normalisation or contraction penalty) or raise maximumIterations"
    }

    public static func == (a: FixedPointError, b: FixedPointError) -> Bool {
        a.iterations == b.iterations && a.tolerance == b.tolerance
            && (a.residual == b.residual || (a.residual.isNaN && b.residual.isNaN))
    }
}
