import Foundation
import TesseraODE
import TesseraTensor

/// A dopri5 solve and its adjoint gradient on a small MLP vector field: `f(u) = W₂ tanh(W₁ u + b₁) + b₂`
/// (2 → 64 → 2), batch 256, t 0 → 1, rtol 1e-3, atol 1e-6; the loss is Σ u(1)². The weights and
/// initial states are closed-form (sines), so `Tests/Benchmarks/ode.py` builds the same problem for
/// torchdiffeq and both take the same steps (equal NFE).
func odeBenchmark(json: Bool) {
    let hidden = 64, batch = 256
    let w1 = Tensor(shape: [hidden, 2]) { index in 0.8 * Float(Foundation.sin(1.3 * Double(index / 2) + 0.7 * Double(index % 2) + 0.5)) }
    let b1 = Tensor(shape: [hidden]) { 0.1 * Float(Foundation.cos(Double($0))) }
    let w2 = Tensor(shape: [2, hidden]) { index in 0.25 * Float(Foundation.sin(0.9 * Double(index % hidden) + 1.1 * Double(index / hidden) + 0.3)) }
    let b2 = Tensor([0.05, -0.05])
    let parameters = [w1, b1, w2, b2].map { $0.requiringGradient() }
    let initial = Tensor(shape: [batch, 2]) { index in 2 * Float(Foundation.sin(0.37 * Double(index / 2) + 1.7 * Double(index % 2))) }
    let field: ODEFunction = { _, u in u.linear(weight: parameters[0], bias: parameters[1]).tanh().linear(weight: parameters[2], bias: parameters[3]) }
    let options = ODESolverOptions.dopri5(relativeTolerance: 1e-3, absoluteTolerance: 1e-6)

    var solveNFE = 0
    let solve = Timing.measure(warmup: 5, minimumIterations: 30, minimumSeconds: 2) {
        solveNFE = withoutGradients { try! odeint(field, initial: initial, times: [0, 1], options: options).functionEvaluations }
    }
    BenchmarkRecord("ode", [("variant", "dopri5-solve"), ("batch", batch), ("nfe", solveNFE)]).adding(solve).emit(json: json)

    var forwardNFE = 0, backwardNFE = 0
    let gradient = Timing.measure(warmup: 3, minimumIterations: 20, minimumSeconds: 2) {
        for parameter in parameters { parameter.grad = nil }
        let solution = try! odeintAdjoint(field, initial: initial, times: [0, 1], parameters: parameters, options: options)
        let final = solution.final
        (final * final).sum().backward()
        forwardNFE = solution.functionEvaluations
        backwardNFE = solution.backwardStatistics.functionEvaluations
    }
    BenchmarkRecord("ode", [("variant", "dopri5-adjoint-gradient"), ("batch", batch), ("nfe_forward", forwardNFE),
                            ("nfe_backward", backwardNFE)]).adding(gradient).emit(json: json)
}

private extension BenchmarkRecord {
    func adding(_ timing: Timing) -> BenchmarkRecord {
        var record = self
        record.add(timing)
        return record
    }
}
