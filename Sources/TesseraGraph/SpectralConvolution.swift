import TesseraNN
import TesseraTensor

/// A learnable filter in the graph's Fourier domain (Bruna, Zaremba, Szlam & LeCun, "Spectral
/// Networks and Locally Connected Networks on Graphs", ICLR 2014, Sec. 4):
///
///     y_j = Σ_i U diag(θ_ij) Uᵀ x_i  (+ b_j)
///
/// for input channel `i`, output channel `j`, with `U` the eigenvectors of the normalised
/// Laplacian (``GraphFourierBasis``). Each `θ_ij` holds one response per eigenvalue: the filter
/// scales every Fourier mode of the signal independently, the spectral analogue of a
/// convolution. The layer belongs to one graph (its basis); it cannot transfer to another.
///
/// Two parametrisations (``Parametrization``):
/// - `.free`: `θ_ij` has `nodeCount` free entries, Bruna et al.'s non-parametric filter
///   (`nodeCount · in · out` parameters, filters need not be localised in space);
/// - `.smooth(knots:)`: `θ_ij(λ)` is piecewise linear in the eigenvalue between `knots` evenly
///   spaced points of `[0, λ_max]`, `θ = K α`. Bruna et al. use cubic splines for this: a smooth
///   response in frequency decays in space, and the parameter count no longer grows with the graph.
///   Linear interpolation keeps that property with less code.
///
/// ```swift
/// let basis = GraphFourierBasis(graph: graph)
/// let layer = SpectralConvolution(inputSize: 3, outputSize: 8, basis: basis, generator: &rng)
/// let y = layer(graph.nodeFeatures!, graph: graph)     // [nodeCount, 8]
/// ```
public final class SpectralConvolution: GraphLayer {
    public enum Parametrization: Equatable, Sendable {
        /// One free response per eigenvalue.
        case free
        /// A response piecewise linear in λ through `knots` (≥ 2) values.
        case smooth(knots: Int)
    }

    /// `[filterSize, inputSize, outputSize]`: the response of each (input, output) pair at each
    /// eigenvalue (`.free`, `filterSize = nodeCount`) or knot (`.smooth`).
    public let weight: Tensor
    /// `[outputSize]`, or `nil`.
    public let bias: Tensor?
    public let parametrization: Parametrization
    /// The Fourier basis of the graph the layer was built for (not a parameter).
    public let basis: GraphFourierBasis
    /// `[nodeCount, knots]` linear-interpolation weights (`.smooth` only); a constant, kept in
    /// a struct so the module walk does not take it for a parameter.
    private let interpolation: Constant?

    public var inputSize: Int { weight.shape[1] }
    public var outputSize: Int { weight.shape[2] }
    public var nodeCount: Int { basis.nodeCount }

    /// Responses uniform in `±1/√inputSize` (PyTorch's Linear default): with unit responses the
    /// layer is a Linear applied to every node, so this keeps activations at the same scale.
    public convenience init(inputSize: Int, outputSize: Int, basis: GraphFourierBasis, parametrization: Parametrization = .free,
                bias: Bool = true, generator: inout RandomGenerator) {
        let filterSize: Int
        switch parametrization {
        case .free: filterSize = basis.nodeCount
        case .smooth(let knots):
            precondition(knots >= 2, "SpectralConvolution: a smooth filter needs at least 2 knots, got \(knots)")
            filterSize = knots
        }
        let bound = 1 / Float(max(inputSize, 1)).squareRoot()
        let weight = Tensor.randomUniform([filterSize, inputSize, outputSize], low: -bound, high: bound, generator: &generator)
        let biasValues = bias ? Tensor.randomUniform([outputSize], low: -bound, high: bound, generator: &generator) : nil
        self.init(weight: weight, bias: biasValues, basis: basis, parametrization: parametrization)
    }

    /// A layer with given responses `[filterSize, inputSize, outputSize]` and bias `[outputSize]`.
    public init(weight: Tensor, bias: Tensor?, basis: GraphFourierBasis, parametrization: Parametrization = .free) {
        let expectedFilterSize: Int
        switch parametrization {
        case .free: expectedFilterSize = basis.nodeCount
        case .smooth(let knots): expectedFilterSize = knots
        }
        precondition(weight.rank == 3 && weight.shape[0] == expectedFilterSize,
                     "SpectralConvolution: weight of shape \(weight.shape) must be [\(expectedFilterSize), input, output] "
                        + "for a \(parametrization) filter on \(basis.nodeCount) nodes")
        precondition(bias == nil || bias!.shape == [weight.shape[2]],
                     "SpectralConvolution: bias of shape \(bias!.shape) must be [\(weight.shape[2])]")
        self.weight = weight.requiringGradient()
        self.bias = bias?.requiringGradient()
        self.parametrization = parametrization
        self.basis = basis
        if case .smooth(let knots) = parametrization {
            interpolation = Constant(SpectralConvolution.hatFunctions(basis.eigenvalues.scalars, knots: knots,
                                                                      maximum: basis.maximumEigenvalue))
        } else {
            interpolation = nil
        }
    }

    /// The response `θ` at every eigenvalue, `[nodeCount, inputSize, outputSize]`.
    public var responses: Tensor {
        guard let interpolation else { return weight }
        let knots = weight.shape[0]
        return interpolation.value.matmul(weight.reshape([knots, inputSize * outputSize]))
            .reshape([nodeCount, inputSize, outputSize])
    }

    /// `nodeFeatures` is `[nodeCount, inputSize]` for the graph the basis was computed from.
    public func callAsFunction(_ nodeFeatures: Tensor, graph: Graph) -> Tensor {
        precondition(graph.nodeCount == nodeCount,
                     "SpectralConvolution: the layer was built for a basis of \(nodeCount) nodes, but the graph has \(graph.nodeCount); "
                        + "a spectral filter belongs to one graph")
        precondition(nodeFeatures.rank == 2 && nodeFeatures.shape == [nodeCount, inputSize],
                     "SpectralConvolution: node features of shape \(nodeFeatures.shape) must be [\(nodeCount), \(inputSize)] "
                        + "(nodes of the basis, input channels)")
        // x̂[k, i] = (Uᵀ x)[k, i]; ŷ[k, j] = Σ_i x̂[k, i] θ[k, i, j]: one [1, in] · [in, out]
        // product per Fourier mode k, batched.
        let spectrum = basis.transform(nodeFeatures).reshape([nodeCount, 1, inputSize])
        let filtered = spectrum.matmul(responses).reshape([nodeCount, outputSize])
        let output = basis.inverseTransform(filtered)
        return bias.map { output + $0 } ?? output
    }

    /// `K[n, m]`: the weight of knot `m` (at `m · maximum / (knots − 1)`) in linear interpolation
    /// at eigenvalue `n`; each row sums to 1.
    static func hatFunctions(_ eigenvalues: [Float], knots: Int, maximum: Float) -> Tensor {
        let spacing = max(maximum, .leastNormalMagnitude) / Float(knots - 1)
        var weights = [Float](repeating: 0, count: eigenvalues.count * knots)
        for (n, lambda) in eigenvalues.enumerated() {
            let position = min(max(lambda / spacing, 0), Float(knots - 1))
            let left = min(Int(position), knots - 2), fraction = position - Float(left)
            weights[n * knots + left] = 1 - fraction
            weights[n * knots + left + 1] = fraction
        }
        return Tensor(shape: [eigenvalues.count, knots], scalars: weights)
    }

    /// A tensor that is part of the layer's fixed setup, not a parameter.
    private struct Constant {
        let value: Tensor
        init(_ value: Tensor) { self.value = value }
    }
}
