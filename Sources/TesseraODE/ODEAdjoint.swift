import TesseraTensor

/// Gradients of an ODE solve by the adjoint method (optimise-then-discretise; Chen, Rubanova,
/// Bettencourt & Duvenaud, "Neural Ordinary Differential Equations", NeurIPS 2018, §2 and
/// Algorithm 1), so memory does not grow with the number of solver steps.
///
/// The forward solve records nothing. Its output is one differentiable tensor (`Tensor.customOperation(_:output:inputs:backward:)`)
/// whose backward rule solves the augmented system
///
///     d/dt [u, a, g] = [f(t, u), −aᵀ ∂f/∂u, −aᵀ ∂f/∂θ]
///
/// backward in time from `[u(t_N), ∂L/∂u(t_N), 0]`, with the vector–Jacobian products from autograd
/// (one evaluation of `f` with a graph, one backward pass per evaluation). Between two requested
/// times `u` is recomputed backward from the later state, never stored; at each requested time
/// the adjoint `a` takes that time's output gradient, and, as torchdiffeq's `odeint_adjoint`
/// does (the paper's Algorithm 1 leaves it open), `u` restarts from the forward output there,
/// which the op returned anyway — so the memory is the outputs plus one step, whatever the steps.
/// The adaptive solver measures the augmented error as the largest RMS norm of `u`, `a` and each
/// parameter's `g` (torchdiffeq's default adjoint norm), so a tiny parameter gradient is not
/// swamped by the state. With ``ODESolverOptions/sumOverProcesses`` (this process's rows of a
/// batch) the norms are the whole batch's: `u` and `a` over all rows, `g` of the summed gradient.
///
/// The times are plain `Float`s and get no gradient (torchdiffeq's optional `dL/dt` is left out).
///
/// The backward pass cannot throw: when its solve fails, the gradients are NaN and the error is
/// kept in ``ODEAdjointSolution/backwardStatistics``.
public struct ODEAdjointSolution {
    /// The states at every requested time, `[times.count, state shape…]`; differentiable with
    /// respect to the initial state and the parameters through the adjoint method.
    public let states: Tensor
    /// NFE of the forward solve.
    public let functionEvaluations: Int
    /// Filled in by the backward pass: its NFE (augmented evaluations) and any error.
    public let backwardStatistics: ODEAdjointStatistics

    /// The state at the last time (differentiable).
    public var final: Tensor { states.select(alongAxis: 0, index: states.shape[0] - 1) }
}

/// What the last backward pass through an ``ODEAdjointSolution`` cost.
public final class ODEAdjointStatistics {
    /// Evaluations of the augmented dynamics (each one evaluation of `f` plus one backward pass).
    public internal(set) var functionEvaluations = 0
    /// The error that stopped the backward solve, if any (the gradients are then NaN).
    public internal(set) var error: ODEError?
    init() {}
}

/// Solves like ``odeint(_:initial:times:options:)`` and differentiates by the adjoint method.
///
/// - Parameters:
///   - function: the dynamics `f(t, u)`; evaluated without a graph in the forward solve and with
///     one in the backward solve, for the vector–Jacobian products.
///   - initial: `u(times[0])`, any shape; it receives a gradient if it requires one.
///   - times: the times to report, strictly monotone (they may decrease); the first is the start.
///   - parameters: every tensor `function` reads that should receive gradients (a module's
///     `parameters()`); others get none.
///   - options: the forward solve's method, tolerances and step limits.
///   - adjointOptions: the backward solve's options; `nil` uses `options`.
///
/// ```swift
/// let solution = try odeintAdjoint(field.callAsFunction, initial: u0, times: [0, 1], parameters: field.parameters())
/// (solution.final * solution.final).sum().backward()   // fills .grad of u0 (if it requires it) and the parameters
/// ```
public func odeintAdjoint(_ function: @escaping ODEFunction, initial: Tensor, times: [Float], parameters: [Tensor],
                          options: ODESolverOptions = ODESolverOptions(),
                          adjointOptions: ODESolverOptions? = nil) throws -> ODEAdjointSolution {
    let forward = try withoutGradients { try odeint(function, initial: initial.detached(), times: times, options: options) }
    let backwardOptions = adjointOptions ?? options
    try validate(times: times.reversed(), options: backwardOptions)
    let statistics = ODEAdjointStatistics()
    let outputs = forward.states
    let stacked = Tensor.stack(outputs, alongAxis: 0)
    let states = Tensor.customOperation("odeintAdjoint", output: stacked, inputs: [initial] + parameters) { gradient in
        statistics.functionEvaluations = 0
        statistics.error = nil
        do {
            return try adjointGradients(function, outputs: outputs, times: times, parameters: parameters,
                                        outputGradient: gradient, options: backwardOptions, statistics: statistics)
        } catch {
            statistics.error = error as? ODEError
            return ([initial] + parameters).map { Tensor.full($0.shape, .nan) }
        }
    }
    return ODEAdjointSolution(states: states, functionEvaluations: forward.functionEvaluations, backwardStatistics: statistics)
}

/// The backward sweep: `[∂L/∂u₀, ∂L/∂θ…]`.
private func adjointGradients(_ function: @escaping ODEFunction, outputs: [Tensor], times: [Float], parameters: [Tensor],
                              outputGradient: Tensor, options: ODESolverOptions,
                              statistics: ODEAdjointStatistics) throws -> [Tensor?] {
    let shape = outputs[0].shape
    let n = outputs[0].count
    let parameterCounts = parameters.map(\.count)
    let total = 2 * n + parameterCounts.reduce(0, +)
    let gradients = withoutGradients { (0..<times.count).map { outputGradient.select(alongAxis: 0, index: $0) } }

    // d/dt [u, a, g] from the flat augmented state.
    let augmented: ODEFunction = { t, state in
        let values = state.storage.pointer
        let u = Tensor(shape: shape) { values[$0] }
        let negativeAdjoint = Tensor(shape: shape) { -values[n + $0] }
        let result = Tensor.zeros([total])
        let out = result.storage.pointer
        withGradientMode(true) {
            let x = u.requiringGradient()
            let derivative = function(t, x)
            out.update(from: derivative.storage.pointer, count: n)
            guard derivative.requiresGrad else { return }
            let products = Tensor.gradients(of: derivative, withRespectTo: [x] + parameters, seed: negativeAdjoint)
            var offset = n
            for product in products {
                out.advanced(by: offset).update(from: product.storage.pointer, count: product.count)
                offset += product.count
            }
        }
        return result
    }

    var state = outputs[outputs.count - 1]
    var adjoint = gradients[times.count - 1].copy()
    var parameterGradient = [Float](repeating: 0, count: total - 2 * n)
    for index in stride(from: times.count - 1, to: 0, by: -1) {
        var start = state.scalars + adjoint.scalars
        start += parameterGradient
        let interval = [times[index], times[index - 1]]
        let evaluator = ODEEvaluator(augmented, solver: "adjoint \(options.method.rawValue)")
        let solution: ODESolution
        let initial = Tensor(shape: [total], scalars: start)
        switch options.method {
        case .dopri5:
            var solver = DormandPrince(options: options, evaluator: evaluator)
            // u and a are this process's rows; the parameter gradient is its share of a sum.
            solver.normSegments = [.rows(n), .rows(n)] + parameterCounts.map { .summed($0) }
            solution = try withoutGradients { try solver.solve(initial: initial, times: interval) }
        default:
            solution = try withoutGradients { try solveOnFixedGrid(evaluator, initial: initial, times: interval, options: options) }
        }
        statistics.functionEvaluations += solution.functionEvaluations
        let end = solution.final.scalars
        state = outputs[index - 1]
        adjoint = Tensor(shape: shape, scalars: Array(end[n..<(2 * n)])) + gradients[index - 1]
        parameterGradient = Array(end[(2 * n)...])
    }
    var result: [Tensor?] = [adjoint.reshape(shape)]
    var offset = 0
    for parameter in parameters {
        result.append(Tensor(shape: parameter.shape, scalars: Array(parameterGradient[offset..<(offset + parameter.count)])))
        offset += parameter.count
    }
    return result
}
