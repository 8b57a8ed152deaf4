import Foundation
import TesseraNN
import TesseraTensor

/// FFJORD, a continuous normalizing flow (Grathwohl, Chen, Bettencourt, Sutskever & Duvenaud,
/// "FFJORD: Free-form Continuous Dynamics for Scalable Reversible Generative Models", ICLR 2019;
/// the instantaneous change of variables is Chen et al. 2018, Theorem 1).
///
/// A data point `x` flows by `dz/dt = f_θ(t, z)` from `z(0) = x` to `z(T)`, while the state's last
/// column `Δ` follows `dΔ/dt = −tr(∂f/∂z)`, so that `log p(x) = log N(z(T); 0, I) − Δ(T)`. Sampling runs
/// the flow backward from base samples `z(T) ~ N(0, I)` (the paper's convention has the base at the
/// start; the direction is only a relabelling of time).
///
/// The trace is exact (one vector–Jacobian product per dimension, for low dimensions) or
/// Hutchinson's estimate `εᵀ (∂f/∂z) ε` with Rademacher or Gaussian `ε` (FFJORD §3.1), one product
/// per evaluation; the noise is drawn once per solve and held fixed over time, as the paper
/// requires for the dynamics to be an ODE. The products are taken with `createGraph`, so training
/// differentiates through the trace (second-order gradients) — directly or by the adjoint method.
public struct FFJORDConfig: Equatable, Sendable {
    /// Dimensions of a data point.
    public var features: Int
    /// Hidden sizes of the vector field's MLP (of `[z, t]`).
    public var hiddenSizes: [Int] = [64, 64]
    /// The MLP's activation: smooth, since the trace differentiates it (the paper uses softplus or tanh).
    public var activation: Activation = .tanh
    /// The flow runs from 0 (data) to this time (base).
    public var endTime: Float = 1
    /// How the trace of the Jacobian is computed.
    public var trace: TraceEstimator = .hutchinsonRademacher
    /// Solver, tolerances, limits (the paper trains at rtol = atol = 1e-5).
    public var solver: ODESolverOptions = .dopri5(relativeTolerance: 1e-5, absoluteTolerance: 1e-5)
    /// Gradients by the adjoint method (the paper's choice) instead of through every step.
    public var adjoint: Bool = true

    public init(features: Int) {
        self.features = features
    }
}

/// How ``FFJORD`` computes `tr(∂f/∂z)`.
public enum TraceEstimator: String, Codable, CaseIterable, Sendable {
    /// Σᵢ ∂fᵢ/∂zᵢ by one vector–Jacobian product per dimension.
    case exact
    /// Hutchinson's estimator with ±1 noise (lower variance).
    case hutchinsonRademacher
    /// Hutchinson's estimator with standard normal noise.
    case hutchinsonGaussian
}

public final class FFJORD: Module, RandomizedModule {
    public let config: FFJORDConfig
    /// The vector field `f_θ(t, z)`.
    public let function: ODEFunctionNetwork
    /// Draws the Hutchinson noise (and base samples when no generator is given).
    public var generator: RandomGenerator
    /// NFE of the last solve.
    public private(set) var lastFunctionEvaluations = 0
    /// With adjoint gradients: what the backward pass of the last solve cost (filled in once that
    /// backward pass has run); `nil` for direct gradients.
    public private(set) var lastAdjointStatistics: ODEAdjointStatistics?
    /// Set while this process trains on its rows of a batch that other processes share (see
    /// ``ODESolverOptions/sumOverProcesses``); it replaces the config's. Set around the training
    /// forward pass only: evaluation and sampling by one process must not wait for the others.
    public var sumOverProcesses: ODEProcessSum?

    public init(config: FFJORDConfig, generator: inout RandomGenerator) {
        precondition(config.features > 0, "FFJORD: features must be positive, got \(config.features)")
        self.config = config
        function = ODEFunctionNetwork(stateFeatures: config.features, hiddenSizes: config.hiddenSizes,
                                      activation: config.activation, timeDependent: true, generator: &generator)
        self.generator = RandomGenerator(seed: generator.next64())
    }

    /// `log p(x)` of every row of `points` `[batch, features]`, as `[batch]`.
    public func logLikelihood(_ points: Tensor) throws -> Tensor {
        let (base, change) = try flow(points, logDensityChange: Tensor.zeros([points.shape[0], 1]),
                                      from: 0, to: config.endTime)
        return Self.standardNormalLogDensity(base) - change.squeezed(axis: 1)
    }

    /// The mean negative log-likelihood of `points`, the training loss.
    public func negativeLogLikelihood(_ points: Tensor) throws -> Tensor { -(try logLikelihood(points)).mean() }

    /// `count` samples: base draws flowed backward to the data space.
    public func sample(count: Int) throws -> Tensor {
        try sample(fromBase: Tensor.randomNormal([count, config.features], generator: &generator))
    }

    /// The data-space points of base-space points `[batch, features]`.
    public func sample(fromBase base: Tensor) throws -> Tensor {
        try flow(base, logDensityChange: Tensor.zeros([base.shape[0], 1]), from: config.endTime, to: 0).points
    }

    /// `log N(z; 0, I)` per row.
    public static func standardNormalLogDensity(_ z: Tensor) -> Tensor {
        (z * z).sum(alongAxis: 1) * -0.5 - Float(z.shape[1]) * 0.5 * Float(Foundation.log(2 * Double.pi))
    }

    /// Solves the joint `[z, Δ]` system between two times.
    func flow(_ points: Tensor, logDensityChange: Tensor, from start: Float, to end: Float) throws -> (points: Tensor, change: Tensor) {
        precondition(points.rank == 2 && points.shape[1] == config.features,
                     "FFJORD: points shape \(points.shape) must be [batch, \(config.features)]")
        let noise: Tensor?
        switch config.trace {
        case .exact: noise = nil
        case .hutchinsonRademacher: noise = Tensor.bernoulli(points.shape, probability: 0.5, generator: &generator) * 2 - 1
        case .hutchinsonGaussian: noise = Tensor.randomNormal(points.shape, generator: &generator)
        }
        let dynamics: ODEFunction = { [function, features = config.features] t, state in
            Self.jointDynamics(function, features: features, time: t, state: state, noise: noise)
        }
        let initial = Tensor.concatenate([points, logDensityChange], alongAxis: 1)
        var options = config.solver
        if let sumOverProcesses { options.sumOverProcesses = sumOverProcesses }
        let final: Tensor
        if config.adjoint {
            let solution = try odeintAdjoint(dynamics, initial: initial, times: [start, end],
                                             parameters: function.parameters(), options: options)
            lastFunctionEvaluations = solution.functionEvaluations
            lastAdjointStatistics = solution.backwardStatistics
            final = solution.final
        } else {
            let solution = try odeint(dynamics, initial: initial, times: [start, end], options: options)
            lastFunctionEvaluations = solution.functionEvaluations
            lastAdjointStatistics = nil
            final = solution.final
        }
        return (final.slice(alongAxis: 1, start: 0, end: config.features), final.slice(alongAxis: 1, start: config.features))
    }

    /// `tr(∂f/∂z)` per row at `(time, z)`: exact when `noise` is nil, else Hutchinson's `εᵀ (∂f/∂z) ε`.
    /// Differentiable (with respect to `z` and the parameters) when recording is on.
    public func trace(time: Float, points: Tensor, noise: Tensor?) -> Tensor {
        let state = Tensor.concatenate([points, Tensor.zeros([points.shape[0], 1])], alongAxis: 1)
        let derivative = Self.jointDynamics(function, features: config.features, time: time, state: state, noise: noise)
        return -derivative.slice(alongAxis: 1, start: config.features).squeezed(axis: 1)
    }

    /// `[f(t, z), −tr(∂f/∂z)]` for `state = [z, Δ]`.
    ///
    /// The trace needs `∂f/∂z` at this evaluation only, so `z` is cut from the solver's graph (a
    /// product through it would run back through every earlier step) and the result is tied back
    /// to `state` by a custom op whose rule is the local vector–Jacobian product.
    static func jointDynamics(_ function: ODEFunctionNetwork, features: Int, time: Float, state: Tensor, noise: Tensor?) -> Tensor {
        let recording = GradientMode.isEnabled
        return withGradientMode(true) {
            let local = state.detached().requiringGradient()
            let z = local.slice(alongAxis: 1, start: 0, end: features)
            let velocity = function(time, z)
            var trace: Tensor
            if let noise {
                let product = Tensor.gradients(of: velocity, withRespectTo: [z], seed: noise, createGraph: true)[0]
                trace = (product * noise).sum(alongAxis: 1, keepDims: true)
            } else {
                trace = Tensor.zeros([state.shape[0], 1])
                for i in 0..<features {
                    let seed = Tensor(shape: velocity.shape) { $0 % features == i ? 1 : 0 }
                    let column = Tensor.gradients(of: velocity, withRespectTo: [z], seed: seed, createGraph: true)[0]
                    trace = trace + column.slice(alongAxis: 1, start: i, end: i + 1)
                }
            }
            let joint = Tensor.concatenate([velocity, -trace], alongAxis: 1)
            guard recording, joint.requiresGrad || state.requiresGrad else { return joint.detached() }
            return Tensor.customOperation("ffjordDynamics", output: joint.detached(), inputs: [state, joint]) { gradient in
                [Tensor.gradients(of: joint, withRespectTo: [local], seed: gradient)[0], gradient]
            }
        }
    }
}
