import Foundation
import Testing
import TesseraNN
import TesseraTensor
@testable import TesseraGenerative

/// `log |det ∂f/∂x|` of `f` at one input (`[1, …]`) from its dense autograd Jacobian (one
/// vector–Jacobian product per output element), by an LU factorisation in `Double`.
func bruteForceLogDeterminant(_ f: (Tensor) throws -> Tensor, at input: Tensor) throws -> Double {
    try withGradientMode(true) {
        let x = input.detached().copy().requiringGradient()
        let y = try f(x)
        let n = x.count
        try #require(y.count == n, "a flow layer keeps the number of elements")
        var jacobian = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            let seed = Tensor.zeros(y.shape)
            seed.storage.pointer[i] = 1
            let row = Tensor.gradients(of: y, withRespectTo: [x], seed: seed)[0].scalars
            for j in 0..<n { jacobian[i * n + j] = Double(row[j]) }
        }
        let (_, _, upper) = try luDecomposition(jacobian, size: n)
        return (0..<n).reduce(0) { $0 + log(abs(upper[$1 * n + $1])) }
    }
}

/// Checks `f⁻¹(f(x)) = x` to 1e-5 and the layer's log-determinant against the brute-force one on
/// the first sample, and that the layer is not the identity (so both checks could fail).
func expectExactFlowLayer(_ layer: any FlowLayer, input: Tensor, _ comment: String,
                          sourceLocation: SourceLocation = #_sourceLocation) throws {
    let (output, logDeterminant) = try withoutGradients { try layer.forward(input) }
    #expect(logDeterminant.shape == [input.shape[0]], "\(comment): one log-determinant per sample", sourceLocation: sourceLocation)
    let back = try withoutGradients { try layer.inverse(output) }
    expectClose(back, input, absolute: 1e-5, relative: 0, "\(comment): f⁻¹(f(x))", sourceLocation: sourceLocation)
    if output.shape == input.shape {
        #expect((output - input).abs().max().item > 1e-3, "\(comment): the layer moves its input", sourceLocation: sourceLocation)
    }
    let first = input.slice(alongAxis: 0, start: 0, end: 1).copy()
    let brute = try bruteForceLogDeterminant({ try layer.forward($0).output }, at: first)
    let claimed = Double(logDeterminant.scalars[0])
    #expect(abs(brute - claimed) < 1e-4 * max(1, abs(brute)), "\(comment): log|det J| \(claimed) vs brute force \(brute)",
            sourceLocation: sourceLocation)
}

/// Central differences of the scalar `loss()` in every element of `parameter`, against its autograd gradient.
func expectParameterGradientMatchesFiniteDifferences(_ parameter: Tensor, step: Float = 1e-2, tolerance: Float = 2e-2,
                                                     _ comment: String, sourceLocation: SourceLocation = #_sourceLocation,
                                                     loss: () throws -> Tensor) throws {
    parameter.grad = nil
    try loss().backward()
    let analytic = parameter.grad?.scalars ?? [Float](repeating: 0, count: parameter.count)
    #expect(analytic.contains { $0 != 0 }, "\(comment): the gradient is not all zero", sourceLocation: sourceLocation)
    for i in 0..<parameter.count {
        let original = parameter.storage.pointer[i]
        parameter.storage.pointer[i] = original + step
        let high = try withoutGradients { try loss().item }
        parameter.storage.pointer[i] = original - step
        let low = try withoutGradients { try loss().item }
        parameter.storage.pointer[i] = original
        let numeric = (high - low) / (2 * step)
        let error = abs(numeric - analytic[i]) / max(1, abs(numeric))
        #expect(error <= tolerance, "\(comment)[\(i)]: analytic \(analytic[i]) vs numeric \(numeric)", sourceLocation: sourceLocation)
    }
}
