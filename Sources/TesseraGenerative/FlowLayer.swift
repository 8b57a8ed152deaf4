import Foundation
import TesseraNN
import TesseraTensor

/// One invertible step of a normalizing flow (Rezende & Mohamed, "Variational Inference with
/// Normalizing Flows", ICML 2015; Dinh, Krueger & Bengio, "NICE", 2014): `y = f(x)` with a
/// tractable `log |det ∂f/∂x|`, so that by the change of variables
/// `log p(x) = log p_Z(f(x)) + log |det ∂f/∂x|`.
public protocol FlowLayer: Module {
    /// `y = f(x)` and `log |det ∂f/∂x|` of every sample, `[batch]`.
    func forward(_ input: Tensor) throws -> (output: Tensor, logDeterminant: Tensor)
    /// `x = f⁻¹(y)`.
    func inverse(_ output: Tensor) throws -> Tensor
    /// The shape of `f(x)` for an input of this shape (the batch axis first).
    func outputShape(for inputShape: [Int]) throws -> [Int]
}

extension FlowLayer {
    public func outputShape(for inputShape: [Int]) throws -> [Int] { inputShape }
}

/// `log N(z; 0, I)` summed over every axis but the first: `[batch]`.
public func standardNormalLogDensity(_ z: Tensor) -> Tensor {
    let perSample = z.reshape([z.shape[0], -1])
    let dimensions = Float(perSample.shape[1])
    return (perSample * perSample).sum(alongAxes: [1]) * -0.5 - 0.5 * dimensions * Float(log(2 * Double.pi))
}

/// Uniform dequantisation (Theis, van den Oord & Bethge, "A note on the evaluation of generative
/// models", ICLR 2016; Dinh et al. 2017, §4.1): pixels in `[0, 1]` that take `levels` values
/// `k / (levels − 1)` become `(k + u) / levels` with `u ~ U[0, 1)`, a continuous point inside the
/// pixel's cell of width `1 / levels`. A density on these points bounds the discrete likelihood:
/// `log P(k) ≥ E_u log p((k + u) / levels) − D log levels`.
public func dequantize(_ pixels: Tensor, levels: Int, generator: inout RandomGenerator) throws -> Tensor {
    guard levels >= 2 else { throw GenerativeError("dequantize: levels must be at least 2, got \(levels)") }
    let steps = Float(levels - 1)
    let indices = try pixels.scalars.map { pixel -> Float in
        let index = (pixel * steps).rounded()
        guard index >= 0, index <= steps, abs(pixel * steps - index) < 1e-3 else {
            throw GenerativeError("dequantize: pixels must take the \(levels) values k / \(levels - 1) in [0, 1], got \(pixel)")
        }
        return index
    }
    let noise = Tensor.randomUniform(pixels.shape, generator: &generator)
    return (Tensor(shape: pixels.shape, scalars: indices) + noise) / Float(levels)
}

/// Bits per dimension of the discrete data from the log-likelihood (nats, `[batch]`) of its
/// dequantised points in `[0, 1]^D`: `(−log p(y) + D log levels) / (D log 2)`, averaged over the batch.
public func bitsPerDimension(logLikelihood: Tensor, dimensions: Int, levels: Int) throws -> Tensor {
    guard dimensions > 0 else { throw GenerativeError("bitsPerDimension: dimensions must be positive, got \(dimensions)") }
    guard levels >= 2 else { throw GenerativeError("bitsPerDimension: levels must be at least 2, got \(levels)") }
    let discrete = Float(Double(dimensions) * log(Double(levels)))
    return (discrete - logLikelihood.mean()) / Float(Double(dimensions) * log(2))
}

/// Checks a sampling temperature: the base samples are `z ~ N(0, T² I)` (Kingma & Dhariwal 2018, §5).
func checkTemperature(_ temperature: Float, op: String) throws {
    guard temperature > 0, temperature.isFinite else {
        throw GenerativeError("\(op): temperature must be positive and finite, got \(temperature)")
    }
}

/// Checks that a log-determinant is finite, naming the layer that produced it.
func checkFinite(_ logDeterminant: Tensor, layer: String) throws {
    guard logDeterminant.allFinite else { throw GenerativeError("\(layer): the log-determinant is NaN or infinite") }
}

func checkRank(_ input: Tensor, _ rank: Int, _ layer: String, _ expected: String) throws {
    guard input.rank == rank else { throw GenerativeError("\(layer): expected input \(expected), got shape \(input.shape)") }
}

/// Runs `layers` in order, summing their log-determinants; a non-finite one stops with the layer named.
func composeForward(_ layers: [any FlowLayer], _ input: Tensor, model: String) throws -> (output: Tensor, logDeterminant: Tensor) {
    var x = input
    var total = Tensor.zeros([input.shape.first ?? 0])
    for (index, layer) in layers.enumerated() {
        let (y, logDeterminant) = try layer.forward(x)
        try checkFinite(logDeterminant, layer: "\(model) layer \(index) (\(type(of: layer)))")
        total = total + logDeterminant
        x = y
    }
    return (x, total)
}

/// Inverts `layers`, last first.
func composeInverse(_ layers: [any FlowLayer], _ output: Tensor) throws -> Tensor {
    var x = output
    for layer in layers.reversed() { x = try layer.inverse(x) }
    return x
}
