import Foundation
import TesseraNN
import TesseraTensor

/// NICE (Dinh, Krueger & Bengio, "NICE: Non-linear Independent Components Estimation", ICLR 2015
/// workshop): additive coupling layers, which have unit Jacobian determinant, and a final diagonal
/// scaling that carries the whole log-determinant. Over flat vectors `[batch, features]`.
///
/// The prior is either of the paper's two (§3.4): the standard Gaussian of every other flow of this
/// module, or the standard logistic the paper uses for its MNIST results, whose log-density falls
/// linearly in `|z|` instead of quadratically (the paper: better-behaved gradients).
///
/// ```swift
/// let flow = try NICE(config: NICEConfig(features: 64), generator: &rng)
/// let loss = -(try flow.logLikelihood(dequantized - 0.5)).mean()
/// let samples = try flow.sample(count: 16, temperature: 0.8, generator: &rng)
/// ```
public struct NICEConfig: Equatable, Sendable {
    /// Dimensions of a data point.
    public var features: Int
    /// Additive coupling layers; the paper uses 4 so that every dimension is updated at least twice.
    public var couplingLayers: Int = 4
    /// Hidden sizes of each coupling's MLP (the paper: 5 layers of 1000 on MNIST; small here).
    public var hiddenSizes: [Int] = [256, 256]
    /// The distribution of `z = f(x)`.
    public var prior: NICEPrior = .gaussian

    public init(features: Int) {
        self.features = features
    }
}

/// The prior of a `NICE` flow, independent over dimensions.
public enum NICEPrior: String, CaseIterable, Sendable {
    /// `log p(z) = −½ z² − ½ log 2π` per dimension.
    case gaussian
    /// `log p(z) = −log(1 + eᶻ) − log(1 + e⁻ᶻ)` per dimension (NICE eq. 3's logistic).
    case logistic

    /// `Σ log p(z)` over each row's dimensions, `[batch]`.
    func logDensity(_ z: Tensor) -> Tensor {
        switch self {
        case .gaussian:
            return standardNormalLogDensity(z)
        case .logistic:
            let perSample = z.reshape([z.shape[0], -1])
            return -(perSample.softplus() + (-perSample).softplus()).sum(alongAxes: [1])
        }
    }

    /// `[count, features]` draws at `temperature` (the draws scaled by it): for the logistic the
    /// inverse CDF `log u − log(1 − u)` of uniform `u`.
    func sample(count: Int, features: Int, temperature: Float, generator: inout RandomGenerator) -> Tensor {
        switch self {
        case .gaussian:
            return Tensor.randomNormal([count, features], generator: &generator) * temperature
        case .logistic:
            // Keep u inside (0, 1): a draw of exactly 0 would give −∞.
            let u = Tensor.randomUniform([count, features], generator: &generator).clamp(min: 1e-7, max: 1 - 1e-7)
            return (u.log() - (1 - u).log()) * temperature
        }
    }
}

/// `y = x + (1 − m) ⊙ t(m ⊙ x)` (NICE eq. 5 with a binary mask `m`): the masked half passes
/// unchanged and shifts the other half, so `log |det J| = 0` and the inverse subtracts the same shift.
public final class AdditiveCoupling: FlowLayer {
    /// The shift network `t`, from `features` to `features`.
    public let network: MLP
    /// 1 where the input passes unchanged.
    public let mask: [Float]

    public init(features: Int, mask: [Float], hiddenSizes: [Int], generator: inout RandomGenerator) {
        precondition(mask.count == features, "AdditiveCoupling: a mask of \(features) entries is needed, got \(mask.count)")
        network = MLP(sizes: [features] + hiddenSizes + [features], activation: .relu, generator: &generator)
        self.mask = mask
    }

    private func shift(_ kept: Tensor) -> Tensor {
        network(kept) * Tensor(mask.map { 1 - $0 })
    }

    private func checkInput(_ input: Tensor) throws {
        guard input.rank == 2, input.shape[1] == mask.count else {
            throw GenerativeError("AdditiveCoupling: expected input [batch, \(mask.count)], got shape \(input.shape)")
        }
    }

    public func forward(_ input: Tensor) throws -> (output: Tensor, logDeterminant: Tensor) {
        try checkInput(input)
        return (input + shift(input * Tensor(mask)), Tensor.zeros([input.shape[0]]))
    }

    public func inverse(_ output: Tensor) throws -> Tensor {
        try checkInput(output)
        return output - shift(output * Tensor(mask))
    }
}

/// `y = x ⊙ exp(s)` with a learned `s` (NICE §3.3, the "diagonal scaling matrix"): `log |det J| = Σ s`.
public final class DiagonalScaling: FlowLayer {
    /// `[features]`, the log of each dimension's scale; starts at 0 (the identity).
    public let logScale: Tensor

    public init(features: Int) {
        logScale = Tensor.zeros([features]).requiringGradient()
    }

    public func forward(_ input: Tensor) throws -> (output: Tensor, logDeterminant: Tensor) {
        guard input.rank == 2, input.shape[1] == logScale.count else {
            throw GenerativeError("DiagonalScaling: expected input [batch, \(logScale.count)], got shape \(input.shape)")
        }
        let logDeterminant = logScale.sum().reshape([1]).expand(to: [input.shape[0]])
        return (input * logScale.exp(), logDeterminant)
    }

    public func inverse(_ output: Tensor) throws -> Tensor {
        guard output.rank == 2, output.shape[1] == logScale.count else {
            throw GenerativeError("DiagonalScaling: expected input [batch, \(logScale.count)], got shape \(output.shape)")
        }
        return output * (-logScale).exp()
    }
}

public final class NICE: Module {
    public let config: NICEConfig
    /// Masks alternate between the even and the odd dimensions (the paper's partition).
    public let couplings: [AdditiveCoupling]
    public let scaling: DiagonalScaling

    public init(config: NICEConfig, generator: inout RandomGenerator) throws {
        guard config.features >= 2 else { throw GenerativeError("NICE: features must be at least 2, got \(config.features)") }
        guard config.couplingLayers >= 1 else { throw GenerativeError("NICE: couplingLayers must be at least 1, got \(config.couplingLayers)") }
        guard config.hiddenSizes.allSatisfy({ $0 > 0 }) else { throw GenerativeError("NICE: hiddenSizes must be positive, got \(config.hiddenSizes)") }
        self.config = config
        couplings = (0..<config.couplingLayers).map { layer in
            let mask = (0..<config.features).map { Float(($0 + layer) % 2) }
            return AdditiveCoupling(features: config.features, mask: mask, hiddenSizes: config.hiddenSizes, generator: &generator)
        }
        scaling = DiagonalScaling(features: config.features)
    }

    private var layers: [any FlowLayer] { couplings + [scaling] }

    /// `z = f(x)` and `log |det ∂f/∂x|`, `[batch]`.
    public func forward(_ input: Tensor) throws -> (output: Tensor, logDeterminant: Tensor) {
        try composeForward(layers, input, model: "NICE")
    }

    /// `log p(x)` in nats of every row of `input` `[batch, features]`, by the change of variables.
    public func logLikelihood(_ input: Tensor) throws -> Tensor {
        let (z, logDeterminant) = try forward(input)
        return config.prior.logDensity(z) + logDeterminant
    }

    /// `x = f⁻¹(z)`.
    public func inverse(_ z: Tensor) throws -> Tensor {
        try composeInverse(layers, z)
    }

    /// `count` samples `f⁻¹(z)` with `z` drawn from the prior scaled by `temperature` (`N(0, T² I)`
    /// for the Gaussian).
    public func sample(count: Int, temperature: Float = 1, generator: inout RandomGenerator) throws -> Tensor {
        try checkTemperature(temperature, op: "NICE.sample")
        guard count > 0 else { throw GenerativeError("NICE.sample: count must be positive, got \(count)") }
        return try inverse(config.prior.sample(count: count, features: config.features, temperature: temperature, generator: &generator))
    }
}
