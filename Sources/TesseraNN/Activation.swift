import TesseraTensor

/// A pointwise nonlinearity named in configs (`activation: relu`).
public enum Activation: String, Codable, CaseIterable, Sendable {
    case relu
    /// GELU with the exact normal CDF (PyTorch's default).
    case gelu
    /// GELU with the tanh approximation (GPT-2).
    case geluTanh
    case tanh
    case sigmoid
    /// `x · sigmoid(x)`, also called swish.
    case silu
    /// Leaky ReLU with slope 0.01 (PyTorch's default).
    case leakyRelu
    case softplus
    case identity

    public func callAsFunction(_ input: Tensor) -> Tensor {
        switch self {
        case .relu: return input.relu()
        case .gelu: return input.gelu()
        case .geluTanh: return input.gelu(approximation: .tanh)
        case .tanh: return input.tanh()
        case .sigmoid: return input.sigmoid()
        case .silu: return input.silu()
        case .leakyRelu: return input.leakyRelu()
        case .softplus: return input.softplus()
        case .identity: return input
        }
    }

    /// The activation as a layer, for a ``Sequential``.
    public var layer: any Layer {
        switch self {
        case .relu: return ReLU()
        case .gelu: return GELU()
        case .geluTanh: return GELU(approximation: .tanh)
        case .tanh: return Tanh()
        case .sigmoid: return Sigmoid()
        case .silu: return SiLU()
        case .leakyRelu: return LeakyReLU()
        case .softplus: return Softplus()
        case .identity: return Identity()
        }
    }

    /// The gain that variance-preserving initialisation uses for this activation.
    public var initializationNonlinearity: InitializationNonlinearity {
        switch self {
        case .relu: return .relu
        case .leakyRelu: return .leakyRelu(slope: 0.01)
        case .tanh: return .tanh
        case .sigmoid: return .sigmoid
        case .gelu, .geluTanh, .silu, .softplus, .identity: return .linear
        }
    }
}

// MARK: - Activations as layers

public final class ReLU: Layer {
    public init() {}
    public func callAsFunction(_ input: Tensor) -> Tensor { input.relu() }
}

public final class GELU: Layer {
    public let approximation: GELUApproximation
    public init(approximation: GELUApproximation = .none) { self.approximation = approximation }
    public func callAsFunction(_ input: Tensor) -> Tensor { input.gelu(approximation: approximation) }
}

public final class Tanh: Layer {
    public init() {}
    public func callAsFunction(_ input: Tensor) -> Tensor { input.tanh() }
}

public final class Sigmoid: Layer {
    public init() {}
    public func callAsFunction(_ input: Tensor) -> Tensor { input.sigmoid() }
}

public final class SiLU: Layer {
    public init() {}
    public func callAsFunction(_ input: Tensor) -> Tensor { input.silu() }
}

public final class LeakyReLU: Layer {
    public let slope: Float
    public init(slope: Float = 0.01) { self.slope = slope }
    public func callAsFunction(_ input: Tensor) -> Tensor { input.leakyRelu(slope: slope) }
}

public final class Softplus: Layer {
    public let beta: Float
    public let threshold: Float
    public init(beta: Float = 1, threshold: Float = 20) {
        self.beta = beta
        self.threshold = threshold
    }
    public func callAsFunction(_ input: Tensor) -> Tensor { input.softplus(beta: beta, threshold: threshold) }
}

public final class Identity: Layer {
    public init() {}
    public func callAsFunction(_ input: Tensor) -> Tensor { input }
}
