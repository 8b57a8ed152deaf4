import TesseraTensor

/// The right-hand side `du/dt = f(t, u)`: the time and the state (any shape) to the derivative
/// (the state's shape). It is built from tensor ops, so gradients flow through it.
public typealias ODEFunction = (_ time: Float, _ state: Tensor) -> Tensor

/// Which integrator ``odeint(_:initial:times:options:)`` uses.
public enum ODEMethod: String, Codable, CaseIterable, Sendable {
    /// Explicit (forward) Euler, order 1, one evaluation per step.
    case euler
    /// Implicit (backward) Euler, order 1, A-stable: for stiff problems.
    case implicitEuler
    /// Explicit midpoint, order 2, two evaluations per step.
    case midpoint
    /// The classic fourth-order Runge–Kutta method, four evaluations per step.
    case rk4
    /// Adaptive Dormand–Prince 5(4) with error control and dense output.
    case dopri5

    /// Whether the method picks its own steps from the tolerances.
    public var isAdaptive: Bool { self == .dopri5 }
}

/// How an ODE is solved: the method, its tolerances and the limits that keep it from running
/// forever. The defaults are torchdiffeq's controller constants (safety 0.9, factors 0.2…10) with
/// tolerances that suit `Float` states (torchdiffeq's own 1e-7/1e-9 are below `Float` resolution).
public struct ODESolverOptions: Equatable, Sendable {
    /// The integrator.
    public var method: ODEMethod = .dopri5
    /// Adaptive methods: the relative error allowed per step, against max(|u0|, |u1|).
    public var relativeTolerance: Float = 1e-4
    /// Adaptive methods: the absolute error allowed per step (what "small" means near zero).
    public var absoluteTolerance: Float = 1e-6
    /// Fixed-step methods: the largest step; each interval of the time grid is cut into equal
    /// steps no longer than this. `nil`: one step per interval of the grid.
    public var stepSize: Float? = nil
    /// Adaptive methods: the first step's length; `nil` picks it with Hairer's heuristic
    /// (Hairer, Nørsett & Wanner, *Solving ODEs I*, §II.4), as torchdiffeq and scipy do.
    public var firstStep: Float? = nil
    /// Adaptive methods: the factor on the optimal step, below 1 so the next step is likely accepted.
    public var safety: Float = 0.9
    /// Adaptive methods: the smallest factor by which a rejected step shrinks the next one.
    public var minimumFactor: Float = 0.2
    /// Adaptive methods: the largest factor by which a step can grow.
    public var maximumFactor: Float = 10
    /// Every method: the most steps (accepted and rejected) one solve may try before it throws.
    public var maximumSteps: Int = 10_000
    /// Implicit Euler: the Newton/fixed-point iteration stops when max|Δu| ≤ this · (1 + max|u|).
    public var nonlinearTolerance: Float = 1e-5
    /// Implicit Euler: the iteration limit of Newton's method, and again of the fixed-point fallback.
    public var nonlinearIterations: Int = 50
    /// Adaptive methods, when the state is this process's rows of a batch that several processes
    /// solve together (data-parallel training): sums the controller's partial error norms over the
    /// processes, so every process picks the steps one process would pick for the whole batch.
    /// `nil` (the default): this process solves the whole batch. Fixed-step methods never call it.
    public var sumOverProcesses: ODEProcessSum? = nil

    public init(method: ODEMethod = .dopri5) {
        self.method = method
    }

    /// Options for an adaptive solve with the given tolerances.
    public static func dopri5(relativeTolerance: Float, absoluteTolerance: Float) -> ODESolverOptions {
        var options = ODESolverOptions(method: .dopri5)
        options.relativeTolerance = relativeTolerance
        options.absoluteTolerance = absoluteTolerance
        return options
    }

    /// Options for a fixed-step method with steps no longer than `stepSize`.
    public static func fixedStep(_ method: ODEMethod, stepSize: Float? = nil) -> ODESolverOptions {
        var options = ODESolverOptions(method: method)
        options.stepSize = stepSize
        return options
    }
}

/// The element-wise sum of a few numbers over the processes that solve one batch together, each
/// its own rows; see ``ODESolverOptions/sumOverProcesses``. TesseraODE knows no processes: a
/// trainer wraps its own collective in one of these.
///
/// dopri5 calls it once per tried step (and twice more for the first step's heuristic, once to
/// agree that the initial derivative is finite) with, for each part of the state, the sum of the
/// squared scaled errors over this process's rows and their count, so that the combined RMS is
/// the one over all rows of the batch. The adjoint's parameter gradients are each process's share
/// of a sum, not rows, so for them it sums the error and the gradient itself, element by element.
///
/// Requirements, or the processes deadlock or disagree: every process of the group calls it in
/// the same solves, and it returns the same bits on every process (the step decisions follow from
/// them). Each process accumulates its part in `Double`, so the combined norm differs from one
/// process's sum over the whole batch only by the order of `Double` additions (about 1e-16).
///
/// ```swift
/// var options = ODESolverOptions.dopri5(relativeTolerance: 1e-3, absoluteTolerance: 1e-4)
/// options.sumOverProcesses = ODEProcessSum { partials in try collective.sum(partials) }
/// ```
public final class ODEProcessSum: Equatable, @unchecked Sendable {
    // Unchecked: it runs on the thread that solves, as the collective it wraps requires.
    private let sum: ([Double]) throws -> [Double]

    /// `sum` returns the element-wise sums over the processes of the values it is given.
    public init(_ sum: @escaping ([Double]) throws -> [Double]) {
        self.sum = sum
    }

    public func callAsFunction(_ values: [Double]) throws -> [Double] {
        let totals = try sum(values)
        precondition(totals.count == values.count, "ODEProcessSum: \(values.count) values in, \(totals.count) sums out")
        return totals
    }

    /// The same sum, by identity: two solver options are equal when they sum through the same group.
    public static func == (lhs: ODEProcessSum, rhs: ODEProcessSum) -> Bool { lhs === rhs }
}

/// The result of a solve: the state at every requested time and what it cost.
public struct ODESolution {
    /// The requested times, in order of integration.
    public let times: [Float]
    /// The state at each time; `states[0]` is the initial state.
    public let states: [Tensor]
    /// Number of evaluations of the right-hand side (NFE), the cost measure of neural ODEs.
    public let functionEvaluations: Int
    /// Steps that were kept.
    public let acceptedSteps: Int
    /// Steps the error controller threw away (always 0 for fixed-step methods).
    public let rejectedSteps: Int

    /// The state at the last time.
    public var final: Tensor { states[states.count - 1] }

    /// All states stacked along a new first axis: `[times.count, state shape…]`.
    public func stacked() -> Tensor { Tensor.stack(states, alongAxis: 0) }
}
