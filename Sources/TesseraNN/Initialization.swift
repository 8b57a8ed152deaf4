import Foundation
import TesseraTensor

/// The nonlinearity that follows a layer, which sets the gain of variance-preserving
/// initialisation (PyTorch's `calculate_gain`).
public enum InitializationNonlinearity: Sendable, Equatable {
    case linear
    case sigmoid
    case tanh
    case relu
    /// Leaky ReLU with this negative slope.
    case leakyRelu(slope: Float)

    /// The factor by which the nonlinearity shrinks the standard deviation, inverted.
    public var gain: Float {
        switch self {
        case .linear, .sigmoid: return 1
        case .tanh: return 5.0 / 3.0
        case .relu: return Float(2).squareRoot()
        case .leakyRelu(let slope): return (2 / (1 + slope * slope)).squareRoot()
        }
    }
}

/// Which fan a variance-preserving initialisation keeps: the forward pass's or the backward's.
public enum FanMode: String, Codable, Sendable {
    case fanIn
    case fanOut
}

/// Weight initialisers. Each returns a new tensor (not requiring gradients) drawn from
/// `generator`. Shapes follow PyTorch: `[out, in, kernel…]`, so `fanIn = in · ∏kernel` and
/// `fanOut = out · ∏kernel`.
public enum Initialization {
    /// `(fanIn, fanOut)` of a weight of `shape` (rank ≥ 2; a vector counts as `[1, n]`).
    public static func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        precondition(!shape.isEmpty, "Initialization.fans: needs a shape of rank ≥ 1")
        if shape.count == 1 { return (shape[0], shape[0]) }
        let receptiveField = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptiveField, shape[0] * receptiveField)
    }

    /// Uniform with the standard deviation `gain / √fan` (He et al., "Delving Deep into
    /// Rectifiers", ICCV 2015): bound `√3 · gain / √fan`.
    public static func kaimingUniform(_ shape: [Int], mode: FanMode = .fanIn,
                                      nonlinearity: InitializationNonlinearity = .leakyRelu(slope: 0),
                                      generator: inout RandomGenerator) -> Tensor {
        let bound = Float(3).squareRoot() * kaimingStandardDeviation(shape, mode: mode, nonlinearity: nonlinearity)
        return Tensor.randomUniform(shape, low: -bound, high: bound, generator: &generator)
    }

    /// Normal with the standard deviation `gain / √fan` (He et al., 2015).
    public static func kaimingNormal(_ shape: [Int], mode: FanMode = .fanIn,
                                     nonlinearity: InitializationNonlinearity = .leakyRelu(slope: 0),
                                     generator: inout RandomGenerator) -> Tensor {
        let standardDeviation = kaimingStandardDeviation(shape, mode: mode, nonlinearity: nonlinearity)
        return Tensor.randomNormal(shape, standardDeviation: standardDeviation, generator: &generator)
    }

    private static func kaimingStandardDeviation(_ shape: [Int], mode: FanMode,
                                                 nonlinearity: InitializationNonlinearity) -> Float {
        let (fanIn, fanOut) = fans(shape)
        let fan = mode == .fanIn ? fanIn : fanOut
        precondition(fan > 0, "Initialization.kaiming: shape \(shape) has a zero fan")
        return nonlinearity.gain / Float(fan).squareRoot()
    }

    /// Uniform with bound `gain · √(6 / (fanIn + fanOut))` (Glorot & Bengio, "Understanding the
    /// difficulty of training deep feedforward neural networks", AISTATS 2010).
    public static func xavierUniform(_ shape: [Int], gain: Float = 1, generator: inout RandomGenerator) -> Tensor {
        let (fanIn, fanOut) = fans(shape)
        let bound = gain * (6 / Float(fanIn + fanOut)).squareRoot()
        return Tensor.randomUniform(shape, low: -bound, high: bound, generator: &generator)
    }

    /// Normal with standard deviation `gain · √(2 / (fanIn + fanOut))` (Glorot & Bengio, 2010).
    public static func xavierNormal(_ shape: [Int], gain: Float = 1, generator: inout RandomGenerator) -> Tensor {
        let (fanIn, fanOut) = fans(shape)
        let standardDeviation = gain * (2 / Float(fanIn + fanOut)).squareRoot()
        return Tensor.randomNormal(shape, standardDeviation: standardDeviation, generator: &generator)
    }

    /// A (semi-)orthogonal matrix times `gain`, flattened to `[shape[0], rest]` (Saxe et al.,
    /// "Exact solutions to the nonlinear dynamics of learning in deep linear neural networks",
    /// ICLR 2014). RL policies (PPO) initialise with it, gain √2 for hidden layers, 0.01 for the
    /// policy head.
    ///
    /// A Gaussian matrix is orthonormalised by modified Gram–Schmidt in `Double` (a QR
    /// decomposition), then each column's sign is fixed by R's diagonal as PyTorch does, so the
    /// result is uniformly distributed over orthogonal matrices (Mezzadri, 2007).
    public static func orthogonal(_ shape: [Int], gain: Float = 1, generator: inout RandomGenerator) -> Tensor {
        precondition(shape.count >= 2, "Initialization.orthogonal: needs rank ≥ 2, got \(shape)")
        let rows = shape[0], columns = shape.dropFirst().reduce(1, *)
        // Orthonormalise the columns of a tall `long × short` matrix.
        let long = max(rows, columns), short = min(rows, columns)
        var basis = (0..<short).map { _ in (0..<long).map { _ in Double(generator.nextNormal()) } }
        for j in 0..<short {
            for i in 0..<j {
                let projection = zip(basis[i], basis[j]).reduce(0) { $0 + $1.0 * $1.1 }
                for k in 0..<long { basis[j][k] -= projection * basis[i][k] }
            }
            // R's diagonal is the norm before normalisation; it is positive here, so no sign flip
            // is needed: Gram–Schmidt already yields the QR with a positive diagonal.
            let norm = basis[j].reduce(0) { $0 + $1 * $1 }.squareRoot()
            for k in 0..<long { basis[j][k] /= norm }
        }
        // basis[j] is column j of Q (`long × short`). Rows ≥ columns: weight = Q; else Qᵀ.
        let values = Tensor(shape: [rows, columns]) { flat in
            let (r, c) = (flat / columns, flat % columns)
            return Float(rows >= columns ? basis[c][r] : basis[r][c]) * gain
        }
        return values.reshape(shape)
    }

    /// Normal with `mean` and `standardDeviation`, redrawing samples outside `[lower, upper]`
    /// (by default `mean ± 2σ`). PyTorch's `trunc_normal_` samples the same distribution by
    /// inverting the CDF; note its default bounds are the absolute values ±2, not ±2σ.
    public static func truncatedNormal(_ shape: [Int], mean: Float = 0, standardDeviation: Float = 1,
                                       lower: Float? = nil, upper: Float? = nil,
                                       generator: inout RandomGenerator) -> Tensor {
        let low = lower ?? mean - 2 * standardDeviation, high = upper ?? mean + 2 * standardDeviation
        precondition(low < high, "Initialization.truncatedNormal: empty interval [\(low), \(high)]")
        let count = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: count)
        for index in 0..<count {
            var sample: Float
            repeat { sample = mean + standardDeviation * generator.nextNormal() } while sample < low || sample > high
            values[index] = sample
        }
        return Tensor(shape: shape, scalars: values)
    }

    public static func zeros(_ shape: [Int]) -> Tensor { Tensor.zeros(shape) }

    public static func constant(_ shape: [Int], _ value: Float) -> Tensor { Tensor.full(shape, value) }

    /// PyTorch's default for Linear and Conv weights: `kaimingUniform(a: √5)`, which works out to
    /// uniform in `±1/√fanIn`, and the matching bias, also uniform in `±1/√fanIn`.
    public static func defaultLayerParameters(weightShape: [Int], biasCount: Int?,
                                              generator: inout RandomGenerator) -> (weight: Tensor, bias: Tensor?) {
        let weight = kaimingUniform(weightShape, nonlinearity: .leakyRelu(slope: Float(5).squareRoot()), generator: &generator)
        guard let biasCount else { return (weight, nil) }
        let fanIn = fans(weightShape).fanIn
        let bound = fanIn > 0 ? 1 / Float(fanIn).squareRoot() : 0
        return (weight, Tensor.randomUniform([biasCount], low: -bound, high: bound, generator: &generator))
    }
}
