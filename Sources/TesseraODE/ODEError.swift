import Foundation

/// Why an ODE solve stopped. Thrown, never a crash or a hang: every loop in the solvers is bounded
/// by ``ODESolverOptions/maximumSteps`` or an iteration limit.
public struct ODEError: Error, CustomStringConvertible, Equatable {
    /// What went wrong.
    public enum Reason: Equatable, Sendable {
        /// The state (or a stage of the step) holds a NaN or an infinity.
        case nonFiniteState
        /// The step size the controller asked for is too small to move the time (as a `Float`).
        case stepSizeUnderflow(stepSize: Double)
        /// A tolerance is zero, negative or not finite.
        case invalidTolerance(name: String, value: Float)
        /// Two consecutive requested times are equal (or the grid is not strictly monotone).
        case emptyInterval
        /// The requested times are fewer than two, not finite, or change direction.
        case invalidTimes(String)
        /// More than ``ODESolverOptions/maximumSteps`` steps (accepted and rejected) were tried.
        case tooManySteps(limit: Int)
        /// Newton's method and the fixed-point fallback both failed to solve the implicit step.
        case nonlinearSolveFailed(iterations: Int, residual: Double)
        /// A fixed step size that is zero, negative or not finite.
        case invalidStepSize(Float)
        /// ``ODESolverOptions/sumOverProcesses`` threw (a collective that timed out, say).
        case processSumFailed(String)
    }

    /// The solver that failed (`dopri5`, `implicitEuler`, …, or `adjoint dopri5`).
    public let solver: String
    /// The time the solver had reached when it failed.
    public let time: Double
    public let reason: Reason

    public init(solver: String, time: Double, reason: Reason) {
        self.solver = solver
        self.time = time
        self.reason = reason
    }

    public var description: String {
        let what: String
        switch reason {
        case .nonFiniteState: what = "the state became NaN or infinite"
        case .stepSizeUnderflow(let h): what = "step size underflow (h = \(h) no longer moves t)"
        case .invalidTolerance(let name, let value): what = "\(name) must be positive and finite, got \(value)"
        case .emptyInterval: what = "two consecutive times are equal (an interval of length zero)"
        case .invalidTimes(let detail): what = "invalid times: \(detail)"
        case .tooManySteps(let limit): what = "maximum step count \(limit) exceeded"
        case .nonlinearSolveFailed(let iterations, let residual):
            what = "the implicit step did not converge (Newton and fixed-point iteration, \(iterations) iterations, residual \(residual))"
        case .invalidStepSize(let h): what = "the fixed step size must be positive and finite, got \(h)"
        case .processSumFailed(let detail): what = "summing the error norm over the processes failed: \(detail)"
        }
        return "ODE solver \(solver) at t = \(time): \(what)"
    }
}
