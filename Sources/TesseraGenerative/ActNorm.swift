import Foundation
import TesseraNN
import TesseraTensor

/// Activation normalisation (Kingma & Dhariwal, "Glow: Generative Flow with Invertible 1×1
/// Convolutions", NeurIPS 2018, §3.1): a per-channel affine map `y = (x + bias) ⊙ exp(logScale)`
/// whose parameters are initialised from the data, so that the first batch comes out with zero mean
/// and unit variance per channel; after that they are ordinary parameters.
/// `log |det J| = H · W · Σ logScale`.
///
/// The first ``forward(_:)`` initialises from its own batch. A data-parallel trainer calls
/// ``initialize(mean:standardDeviation:)`` instead, with statistics of the global batch.
public final class ActNorm: FlowLayer {
    /// `[channels]`.
    public let bias: Tensor
    /// `[channels]`.
    public let logScale: Tensor
    /// 1 once the data-dependent initialisation has run (saved, so a resumed run does not redo it).
    public let initialized: Buffer
    /// Added to the standard deviation, as in the paper's code.
    public static let epsilon: Float = 1e-6

    public init(channels: Int) {
        bias = Tensor.zeros([channels]).requiringGradient()
        logScale = Tensor.zeros([channels]).requiringGradient()
        initialized = Buffer(Tensor([0]))
    }

    public var channels: Int { bias.count }
    public var isInitialized: Bool { initialized.value.item != 0 }

    /// Per-channel mean and standard deviation (population form) of `batch` `[N, C, H, W]`.
    public func statistics(_ batch: Tensor) throws -> (mean: [Float], standardDeviation: [Float]) {
        try checkInput(batch)
        return withoutGradients {
            let mean = batch.mean(alongAxes: [0, 2, 3])
            let deviation = batch.variance(alongAxes: [0, 2, 3], correction: 0).sqrt()
            return (mean.scalars, deviation.scalars)
        }
    }

    /// Sets `bias = −mean` and `logScale = −log(std + ε)` and marks the layer initialised.
    public func initialize(mean: [Float], standardDeviation: [Float]) throws {
        guard mean.count == channels, standardDeviation.count == channels else {
            throw GenerativeError("ActNorm.initialize: expected \(channels) means and standard deviations, got \(mean.count) and \(standardDeviation.count)")
        }
        guard standardDeviation.allSatisfy({ $0 >= 0 && $0.isFinite }), mean.allSatisfy(\.isFinite) else {
            throw GenerativeError("ActNorm.initialize: means must be finite and standard deviations non-negative and finite")
        }
        bias.assign(Tensor(mean.map { -$0 }))
        logScale.assign(Tensor(standardDeviation.map { -Foundation.log($0 + Self.epsilon) }))
        initialized.value.assign(Tensor([1]))
    }

    /// `[count, Σx per channel…, Σx² per channel…]` of `batch` `[N, C, H, W]` in `Double`: sums that
    /// processes holding parts of one global batch can add before ``initialize(moments:)``.
    public func moments(_ batch: Tensor) throws -> [Double] {
        try checkInput(batch)
        let (n, h, w) = (batch.shape[0], batch.shape[2], batch.shape[3])
        let values = batch.scalars
        var sums = [Double](repeating: 0, count: channels), squares = sums
        for sample in 0..<n {
            for c in 0..<channels {
                let base = (sample * channels + c) * h * w
                for i in 0..<(h * w) {
                    let x = Double(values[base + i])
                    sums[c] += x
                    squares[c] += x * x
                }
            }
        }
        return [Double(n * h * w)] + sums + squares
    }

    /// Initialises from summed ``moments(_:)``: mean `Σx / count`, variance `Σx² / count − mean²`.
    public func initialize(moments: [Double]) throws {
        guard moments.count == 1 + 2 * channels, moments[0] > 0 else {
            throw GenerativeError("ActNorm.initialize(moments:): expected [count > 0, \(channels) sums, \(channels) sums of squares], got \(moments.count) values")
        }
        let count = moments[0]
        let mean = (0..<channels).map { moments[1 + $0] / count }
        let deviation = (0..<channels).map { (max(moments[1 + channels + $0] / count - mean[$0] * mean[$0], 0)).squareRoot() }
        try initialize(mean: mean.map { Float($0) }, standardDeviation: deviation.map { Float($0) })
    }

    /// Initialises from `batch`'s own statistics.
    public func initialize(from batch: Tensor) throws {
        let (mean, deviation) = try statistics(batch)
        try initialize(mean: mean, standardDeviation: deviation)
    }

    private func checkInput(_ input: Tensor) throws {
        guard input.rank == 4, input.shape[1] == channels else {
            throw GenerativeError("ActNorm: expected input [batch, \(channels), height, width], got shape \(input.shape)")
        }
    }

    public func forward(_ input: Tensor) throws -> (output: Tensor, logDeterminant: Tensor) {
        try checkInput(input)
        if !isInitialized { try initialize(from: input) }
        let shape = [1, channels, 1, 1]
        let output = (input + bias.reshape(shape)) * logScale.exp().reshape(shape)
        let pixels = Float(input.shape[2] * input.shape[3])
        return (output, (logScale.sum() * pixels).reshape([1]).expand(to: [input.shape[0]]))
    }

    public func inverse(_ output: Tensor) throws -> Tensor {
        try checkInput(output)
        guard isInitialized else { throw GenerativeError("ActNorm.inverse: the layer is not initialised (run a forward pass or initialize(from:) first)") }
        let shape = [1, channels, 1, 1]
        return output * (-logScale).exp().reshape(shape) - bias.reshape(shape)
    }
}
