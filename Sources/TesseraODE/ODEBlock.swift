import TesseraNN
import TesseraTensor

/// A neural-ODE layer (Chen, Rubanova, Bettencourt & Duvenaud, "Neural Ordinary Differential
/// Equations", NeurIPS 2018, §3): the input is the initial state of `du/dt = f_θ(t, u)` and the
/// output is the state at `endTime`, with `f_θ` an MLP of `[u, t]`. With `augmentedDimensions > 0`
/// it is an augmented neural ODE (Dupont, Doucet & Teh, "Augmented Neural ODEs", NeurIPS 2019,
/// §4): the state is the input padded with that many zeros, so trajectories can pass each other in
/// the extra dimensions (a plain NODE is a homeomorphism of the input space and cannot, e.g.,
/// map x ↦ −x in one dimension); the output keeps the extra dimensions.
///
/// ```swift
/// var config = ODEBlockConfig(features: 2)
/// config.augmentedDimensions = 3
/// let block = ODEBlock(config: config, generator: &rng)
/// let features = block(points)       // [batch, 5]
/// block.lastFunctionEvaluations      // NFE of that forward solve
/// ```
public struct ODEBlockConfig: Equatable, Sendable {
    /// Features of the input (the state before augmentation).
    public var features: Int
    /// Zeros appended to every input row (ANODE); 0 is a plain NODE.
    public var augmentedDimensions: Int = 0
    /// Hidden layer sizes of the vector field's MLP.
    public var hiddenSizes: [Int] = [64]
    /// The MLP's activation; smooth (tanh, softplus) so the field is smooth and solvers take few steps.
    public var activation: Activation = .tanh
    /// Feed the time to the field as an extra input column (Chen et al.'s ODE functions do).
    public var timeDependent: Bool = true
    /// The solve runs from 0 to this time.
    public var endTime: Float = 1
    /// Solver, tolerances and step limits.
    public var solver: ODESolverOptions = ODESolverOptions()
    /// Gradients by the adjoint method (memory flat in the steps) instead of through every step.
    public var adjoint: Bool = false

    public init(features: Int) {
        self.features = features
    }

    /// The width of the state: features plus augmented dimensions.
    public var stateFeatures: Int { features + augmentedDimensions }
}

/// A module that is the right-hand side `f_θ(t, u)` of a neural ODE: its parameters are found by
/// walking it like any module, so an ``ODEBlock`` built on it trains and checkpoints as usual.
public protocol ODEVectorField: Module {
    /// The derivative at `time` of `state` (same shape as `state`).
    func callAsFunction(_ time: Float, _ state: Tensor) -> Tensor
}

/// The default vector field `f_θ(t, u) = MLP([u, t])` of an ``ODEBlock`` (or `MLP(u)` when time-independent).
public final class ODEFunctionNetwork: ODEVectorField {
    public let network: MLP
    public let timeDependent: Bool

    public init(stateFeatures: Int, hiddenSizes: [Int], activation: Activation, timeDependent: Bool,
                generator: inout RandomGenerator) {
        network = MLP(sizes: [stateFeatures + (timeDependent ? 1 : 0)] + hiddenSizes + [stateFeatures],
                      activation: activation, generator: &generator)
        self.timeDependent = timeDependent
    }

    /// `state` is `[batch, stateFeatures]`.
    public func callAsFunction(_ time: Float, _ state: Tensor) -> Tensor {
        guard timeDependent else { return network(state) }
        return network(Tensor.concatenate([state, Tensor.full([state.shape[0], 1], time)], alongAxis: 1))
    }
}

public final class ODEBlock: Layer {
    public let config: ODEBlockConfig
    /// The vector field; an ``ODEFunctionNetwork`` unless one was given.
    public let function: any ODEVectorField
    /// NFE of the last forward solve.
    public private(set) var lastFunctionEvaluations = 0
    /// With adjoint gradients: what the backward pass of the last forward solve cost (filled in
    /// once that backward pass has run); `nil` for direct gradients.
    public private(set) var lastAdjointStatistics: ODEAdjointStatistics?
    /// Set while this process trains on its rows of a batch that other processes share (see
    /// ``ODESolverOptions/sumOverProcesses``); it replaces the config's. A data-parallel trainer
    /// sets it around the training forward pass only: a solve of one process's own (evaluation)
    /// must not wait for the others.
    public var sumOverProcesses: ODEProcessSum?
    /// The error of the last forward pass through `callAsFunction`, if it failed (its output is then NaN).
    public private(set) var lastError: ODEError?

    public init(config: ODEBlockConfig, generator: inout RandomGenerator) {
        precondition(config.features > 0 && config.augmentedDimensions >= 0,
                     "ODEBlock: features must be positive and augmentedDimensions non-negative, got \(config.features), \(config.augmentedDimensions)")
        self.config = config
        function = ODEFunctionNetwork(stateFeatures: config.stateFeatures, hiddenSizes: config.hiddenSizes,
                                      activation: config.activation, timeDependent: config.timeDependent, generator: &generator)
    }

    /// A block around a vector field of your own (a convolutional one for images, say); the
    /// config's `hiddenSizes`, `activation` and `timeDependent` are then unused, and the input may
    /// have any shape the field accepts (augmentation pads the last axis).
    public init(config: ODEBlockConfig, function: any ODEVectorField) {
        precondition(config.augmentedDimensions >= 0, "ODEBlock: augmentedDimensions must be non-negative, got \(config.augmentedDimensions)")
        self.config = config
        self.function = function
    }

    /// The input padded with `augmentedDimensions` zeros along its last axis.
    public func augment(_ input: Tensor) -> Tensor {
        guard config.augmentedDimensions > 0 else { return input }
        return input.padded(Array(repeating: (0, 0), count: input.rank - 1) + [(0, config.augmentedDimensions)])
    }

    /// `input` `[batch, features]` to the state at `endTime`, `[batch, features + augmentedDimensions]`.
    public func solve(_ input: Tensor) throws -> Tensor {
        if function is ODEFunctionNetwork {
            precondition(input.rank == 2 && input.shape[1] == config.features,
                         "ODEBlock: input shape \(input.shape) must be [batch, \(config.features)]")
        }
        let initial = augment(input)
        let field: ODEFunction = { [function] t, u in function(t, u) }
        var options = config.solver
        if let sumOverProcesses { options.sumOverProcesses = sumOverProcesses }
        if config.adjoint {
            let solution = try odeintAdjoint(field, initial: initial, times: [0, config.endTime],
                                             parameters: function.parameters(), options: options)
            lastFunctionEvaluations = solution.functionEvaluations
            lastAdjointStatistics = solution.backwardStatistics
            return solution.final
        }
        let solution = try odeint(field, initial: initial, times: [0, config.endTime], options: options)
        lastFunctionEvaluations = solution.functionEvaluations
        lastAdjointStatistics = nil
        return solution.final
    }

    /// Like ``solve(_:)``, for use as a layer: a failed solve gives a NaN output (a trainer's
    /// non-finite loss check stops there) and keeps the error in ``lastError``.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        do {
            let output = try solve(input)
            lastError = nil
            return output
        } catch {
            lastError = error as? ODEError
            var shape = input.shape
            shape[shape.count - 1] += config.augmentedDimensions
            return Tensor.full(shape, .nan)
        }
    }
}
