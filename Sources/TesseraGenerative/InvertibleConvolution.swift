import Foundation
import TesseraNN
import TesseraTensor

/// The invertible 1×1 convolution of Glow (Kingma & Dhariwal 2018, §3.2) in its LU parameterisation:
/// `W = P · L · (U + diag(sign ⊙ exp(logScale)))` with `P` a fixed permutation, `L` unit lower
/// triangular and `U` strictly upper triangular, so that `log |det J| = H · W · Σ logScale` costs
/// `O(C)` instead of a determinant. `W` starts as a random rotation (an LU factorisation of an
/// orthogonal matrix, as in the paper).
public final class InvertibleConvolution1x1: FlowLayer {
    /// `[C, C]`; only the strictly lower triangle is used.
    public let lower: Tensor
    /// `[C, C]`; only the strictly upper triangle is used.
    public let upper: Tensor
    /// `[C]`, `log |diag U|`.
    public let logScale: Tensor
    /// `[C, C]`, the fixed permutation `P`.
    public let permutation: Buffer
    /// `[C]`, the fixed signs of `diag U`.
    public let sign: Buffer

    public init(channels: Int, generator: inout RandomGenerator) throws {
        guard channels > 0 else { throw GenerativeError("InvertibleConvolution1x1: channels must be positive, got \(channels)") }
        let rotation = Initialization.orthogonal([channels, channels], generator: &generator).scalars.map(Double.init)
        let (order, l, u) = try luDecomposition(rotation, size: channels)
        // Row i of P·A is row order[i] of A, so A = Pᵀ (L U): the stored permutation is Pᵀ.
        var p = [Float](repeating: 0, count: channels * channels)
        for (i, row) in order.enumerated() { p[row * channels + i] = 1 }
        let diagonal = (0..<channels).map { u[$0 * channels + $0] }
        lower = Tensor(shape: [channels, channels], scalars: l.map { Float($0) }).requiringGradient()
        upper = Tensor(shape: [channels, channels], scalars: u.map { Float($0) }).requiringGradient()
        logScale = Tensor(diagonal.map { Float(Foundation.log(Swift.abs($0))) }).requiringGradient()
        permutation = Buffer(Tensor(shape: [channels, channels], scalars: p))
        sign = Buffer(Tensor(diagonal.map { $0 < 0 ? -1 : 1 }))
    }

    public var channels: Int { logScale.count }

    /// `W` `[C, C]`, recorded for autograd.
    public func weight() -> Tensor {
        let n = channels
        let unitLower = lower.lowerTriangle(diagonal: -1) + Tensor.eye(n)
        let diagonal = Tensor.eye(n) * (sign.value * logScale.exp()).reshape([1, n])
        return permutation.value.matmul(unitLower.matmul(upper.upperTriangle(diagonal: 1) + diagonal))
    }

    private func checkInput(_ input: Tensor) throws {
        guard input.rank == 4, input.shape[1] == channels else {
            throw GenerativeError("InvertibleConvolution1x1: expected input [batch, \(channels), height, width], got shape \(input.shape)")
        }
    }

    public func forward(_ input: Tensor) throws -> (output: Tensor, logDeterminant: Tensor) {
        try checkInput(input)
        let output = input.conv2d(weight: weight().reshape([channels, channels, 1, 1]))
        let pixels = Float(input.shape[2] * input.shape[3])
        return (output, (logScale.sum() * pixels).reshape([1]).expand(to: [input.shape[0]]))
    }

    /// Applies `W⁻¹`, inverted in `Double` (sampling and reconstruction only; no gradient).
    public func inverse(_ output: Tensor) throws -> Tensor {
        try checkInput(output)
        let n = channels
        let w = withoutGradients { weight() }.scalars.map { Double($0) }
        let inverseWeight = try invertSquare(w, size: n).map { Float($0) }
        return output.conv2d(weight: Tensor(shape: [n, n, 1, 1], scalars: inverseWeight))
    }
}
