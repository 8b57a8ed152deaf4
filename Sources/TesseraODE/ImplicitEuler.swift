import TesseraTensor

/// Implicit (backward) Euler, `u₁ = u₀ + h f(t₁, u₁)`: order 1 and A-stable, so it stays stable on
/// stiff problems where explicit methods need tiny steps (Hairer & Wanner, *Solving ODEs II*,
/// §IV.3). Each step solves the nonlinear equation by Newton's method on
/// `r(u) = u − u₀ − h f(t₁, u)`, whose Jacobian `I − h ∂f/∂u` is built densely from autograd
/// (``denseJacobian(_:time:state:)``) and solved by Gaussian elimination with partial pivoting.
/// When Newton fails (singular system, divergence, iteration limit) the step falls back to the
/// fixed-point iteration `u ← u₀ + h f(t₁, u)`; when that fails too it throws
/// ``ODEError/Reason/nonlinearSolveFailed(iterations:residual:)``.
///
/// Gradients: differentiating through the Newton iterations would be both costly and wrong
/// before convergence. Instead the converged `u₁` gets the implicit-function-theorem gradient:
/// for an output gradient `g`, `λ = (I − h ∂f/∂u)⁻ᵀ g` is pushed through `u₀ + h f(t₁, u₁)`, which
/// gives `λ` to `u₀` and `h (∂f/∂θ)ᵀ λ` to the parameters — exact at the solution. That costs one
/// more evaluation per step when recording is on. The state must be small (the Jacobian is dense).
struct ImplicitEuler {
    /// Tolerance, iteration limits (``ODESolverOptions/nonlinearTolerance``, ``ODESolverOptions/nonlinearIterations``).
    let options: ODESolverOptions

    func step(_ f: ODEEvaluator, time t: Double, stepSize h: Double, state u0: Tensor) throws -> Tensor {
        let t1 = t + h
        let solved = try withoutGradients { try solveStep(f, time: t1, stepSize: h, start: u0.detached()) }
        guard GradientMode.isEnabled else { return solved }
        let update = u0 + f(t1, solved) * Float(h)  // the same values; carries the graph to u₀ and θ
        guard update.requiresGrad else { return solved }
        return Tensor.customOperation("implicitEuler", output: solved, inputs: [update]) { gradient in
            let (_, rows) = denseJacobian(f, time: t1, state: solved)
            let n = solved.count
            // (I − h J)ᵀ, row-major.
            var system = [Double](repeating: 0, count: n * n)
            for i in 0..<n { for j in 0..<n { system[i * n + j] = (i == j ? 1 : 0) - h * rows[j * n + i] } }
            var lambda = gradient.scalars.map(Double.init)
            guard solveLinearSystem(&system, &lambda, size: n) else {
                return [Tensor(shape: gradient.shape, scalars: [Float](repeating: .nan, count: n))]
            }
            return [Tensor(shape: gradient.shape, scalars: lambda.map(Float.init))]
        }
    }

    /// The converged `u₁`, values only.
    private func solveStep(_ f: ODEEvaluator, time t1: Double, stepSize h: Double, start u0: Tensor) throws -> Tensor {
        let n = u0.count
        let base = u0.scalars.map(Double.init)
        let tolerance = Double(options.nonlinearTolerance)
        func converged(_ change: [Double], _ state: [Double]) -> Bool {
            (change.map(abs).max() ?? 0) <= tolerance * (1 + (state.map(abs).max() ?? 0))
        }
        func tensor(_ values: [Double]) -> Tensor { Tensor(shape: u0.shape, scalars: values.map(Float.init)) }

        // Newton's method from u₀.
        var u = base
        var lastResidual = Double.infinity
        newton: for _ in 0..<options.nonlinearIterations {
            let (value, rows) = denseJacobian(f, time: t1, state: tensor(u))
            let fu = value.scalars
            var step = (0..<n).map { -(u[$0] - base[$0] - h * Double(fu[$0])) }  // −r(u)
            lastResidual = step.map(abs).max() ?? 0
            var system = rows.map { -h * $0 }
            for i in 0..<n { system[i * n + i] += 1 }
            guard solveLinearSystem(&system, &step, size: n) else { break newton }
            for i in 0..<n { u[i] += step[i] }
            guard u.allSatisfy(\.isFinite) else { break newton }
            if converged(step, u) { return tensor(u) }
        }

        // Fixed-point fallback from u₀ (converges when h·Lipschitz(f) < 1).
        u = base
        for _ in 0..<options.nonlinearIterations {
            let fu = f(t1, tensor(u)).scalars
            let next = (0..<n).map { base[$0] + h * Double(fu[$0]) }
            let change = (0..<n).map { next[$0] - u[$0] }
            u = next
            guard u.allSatisfy(\.isFinite) else { break }
            lastResidual = change.map(abs).max() ?? 0
            if converged(change, u) { return tensor(u) }
        }
        throw f.error(at: t1 - h, .nonlinearSolveFailed(iterations: 2 * options.nonlinearIterations, residual: lastResidual))
    }
}
