import Foundation
import TesseraTensor

/// Adaptive Dormand–Prince 5(4) (Dormand & Prince, "A family of embedded Runge–Kutta formulae",
/// J. Comp. Appl. Math. 6, 1980; Hairer, Nørsett & Wanner, *Solving ODEs I*, §II.4–II.6): seven
/// stages, the last evaluated at the new point and reused as the next step's first (FSAL), so
/// an accepted or rejected step costs six evaluations.
///
/// Follows torchdiffeq's `dopri5` so the two take the same steps: the first step from Hairer's
/// heuristic (one extra evaluation), the error `h Σ (bᵢ − b̂ᵢ) kᵢ` measured in the RMS norm scaled by
/// `atol + rtol · max(|u₀|, |u₁|)`, a step accepted when that ratio is ≤ 1, the next step
/// `h · clamp(safety · ratio^(-1/5), minimumFactor (1 after an accepted step), maximumFactor)`,
/// steps that run past the last requested time (not clipped to it), and the requested times read
/// off the fourth-order dense output through `u₀, u(t₀ + h/2), u₁, f₀, f₁` (Shampine, 1986).
/// NFE therefore is `2 + 6 × (accepted + rejected)`. A step whose error is NaN or infinite is
/// rejected and shrunk by `minimumFactor`; ten such rejections in a row, or a step that underflows
/// right after one, throw ``ODEError/Reason/nonFiniteState``.
///
/// Step sizes are computed from the values only, so under autograd gradients flow through the
/// stages but not through the controller's choices (as with discretise-then-optimise anywhere).
struct DormandPrince {
    /// Tolerances, controller constants and the step limit.
    let options: ODESolverOptions
    /// The right-hand side, its counter and the solver name in errors.
    let evaluator: ODEEvaluator
    /// Element counts of the parts of the state whose RMS norms are combined by their maximum
    /// (the adjoint's `[u, a, dL/dθ]`, as torchdiffeq's default adjoint norm); `nil`: one RMS norm.
    var normSegments: [Int]? = nil

    // The Butcher tableau.
    static let c: [Double] = [0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1]
    static let a: [[Double]] = [
        [],
        [1.0 / 5],
        [3.0 / 40, 9.0 / 40],
        [44.0 / 45, -56.0 / 15, 32.0 / 9],
        [19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729],
        [9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656],
        [35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84],
    ]
    /// Fifth-order weights minus the embedded fourth-order ones.
    static let errorWeights: [Double] = [
        35.0 / 384 - 1951.0 / 21600, 0, 500.0 / 1113 - 22642.0 / 50085, 125.0 / 192 - 451.0 / 720,
        -2187.0 / 6784 + 12231.0 / 42400, 11.0 / 84 - 649.0 / 6300, -1.0 / 60,
    ]
    /// Weights of the dense-output midpoint `u(t₀ + h/2)` (Shampine, 1986, as in torchdiffeq).
    static let middleWeights: [Double] = [
        6025192743.0 / 30085553152 / 2, 0, 51252292925.0 / 65400821598 / 2, -2691868925.0 / 45128329728 / 2,
        187940372067.0 / 1594534317056 / 2, -1776094331.0 / 19743644256 / 2, 11237099.0 / 235043384 / 2,
    ]

    /// One tried step.
    private struct Step {
        let t0: Double, h: Double
        let u0: Tensor, u1: Tensor
        let stages: [Tensor]
    }

    func solve(initial: Tensor, times: [Float]) throws -> ODESolution {
        let direction: Double = times[1] > times[0] ? 1 : -1
        var t = Double(times[0])
        var u = initial
        var derivative = evaluator(t, u)
        try evaluator.checkFinite(derivative, at: t)
        var h = direction * (options.firstStep.map { Double(abs($0)) } ?? initialStep(time: t, state: u, derivative: derivative, direction: direction))
        var states = [initial]
        var accepted = 0, rejected = 0, nonFiniteInARow = 0
        var last: Step? = nil

        for target in times.dropFirst().map(Double.init) {
            while direction * (target - t) > 0 {
                if accepted + rejected >= options.maximumSteps { throw evaluator.error(at: t, .tooManySteps(limit: options.maximumSteps)) }
                if Float(t + h) == Float(t) || !h.isFinite {
                    // Shrinking towards a point where f turns NaN ends here too: name the cause.
                    throw evaluator.error(at: t, nonFiniteInARow > 0 ? .nonFiniteState : .stepSizeUnderflow(stepSize: h))
                }
                let step = attempt(time: t, stepSize: h, state: u, derivative: derivative)
                let ratio = errorRatio(step)
                if ratio.isFinite {
                    nonFiniteInARow = 0
                } else {
                    nonFiniteInARow += 1
                    if nonFiniteInARow >= 10 { throw evaluator.error(at: t, .nonFiniteState) }
                }
                if ratio <= 1 {
                    accepted += 1
                    t += h
                    u = step.u1
                    derivative = step.stages[6]
                    last = step
                } else {
                    rejected += 1
                }
                h *= nextFactor(ratio)
            }
            states.append(interpolate(last!, at: target))
        }
        return ODESolution(times: times, states: states, functionEvaluations: evaluator.evaluations,
                           acceptedSteps: accepted, rejectedSteps: rejected)
    }

    private func attempt(time t: Double, stepSize h: Double, state u: Tensor, derivative: Tensor) -> Step {
        var stages = [derivative]
        var point = u
        for i in 1..<7 {
            // The last stage's point is the fifth-order solution (its weights are the last row of a).
            point = combine(u, h, Self.a[i], stages)
            stages.append(evaluator(t + Self.c[i] * h, point))
        }
        return Step(t0: t, h: h, u0: u, u1: point, stages: stages)
    }

    /// The scaled error norm of a step (values only).
    private func errorRatio(_ step: Step) -> Double {
        let n = step.u0.count
        let rtol = Double(options.relativeTolerance), atol = Double(options.absoluteTolerance)
        let u0 = step.u0.storage.pointer, u1 = step.u1.storage.pointer
        let weights = Self.errorWeights.map { $0 * step.h }
        let pointers = step.stages.map(\.storage.pointer)
        var scaled = [Double](repeating: 0, count: n)
        for index in 0..<n {
            var error = 0.0
            for (w, k) in zip(weights, pointers) where w != 0 { error += w * Double(k[index]) }
            let tolerance = atol + rtol * max(abs(Double(u0[index])), abs(Double(u1[index])))
            scaled[index] = error / tolerance
        }
        return norm(scaled)
    }

    /// RMS norm, or the largest RMS norm of the segments.
    func norm(_ values: [Double]) -> Double {
        func rms(_ slice: ArraySlice<Double>) -> Double {
            slice.isEmpty ? 0 : (slice.reduce(0) { $0 + $1 * $1 } / Double(slice.count)).squareRoot()
        }
        guard let normSegments else { return rms(values[...]) }
        var start = 0, result = 0.0
        for length in normSegments {
            let part = rms(values[start..<(start + length)])
            result = part.isNaN ? .nan : max(result, part)
            start += length
        }
        return result
    }

    private func nextFactor(_ ratio: Double) -> Double {
        let safety = Double(options.safety), low = Double(options.minimumFactor), high = Double(options.maximumFactor)
        if !ratio.isFinite { return low }
        if ratio == 0 { return high }
        let floor = ratio < 1 ? 1 : low
        return min(high, max(safety / Foundation.pow(ratio, 1.0 / 5), floor))
    }

    /// Hairer's starting step (*Solving ODEs I*, §II.4, with torchdiffeq's constants): one evaluation.
    private func initialStep(time t: Double, state u: Tensor, derivative f0: Tensor, direction sign: Double) -> Double {
        let rtol = Double(options.relativeTolerance), atol = Double(options.absoluteTolerance)
        let y0 = u.scalars.map { Double($0) }, d = f0.scalars.map { Double($0) }
        let scale = y0.map { atol + abs($0) * rtol }
        let d0 = norm(zip(y0, scale).map { $0 / $1 }), d1 = norm(zip(d, scale).map { $0 / $1 })
        let h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1
        let probe = withoutGradients { combine(u.detached(), h0 * sign, [1], [f0.detached()]) }
        let f1 = withoutGradients { evaluator(t + h0 * sign, probe) }.scalars.map { Double($0) }
        let d2 = norm((0..<d.count).map { (f1[$0] - d[$0]) / scale[$0] }) / h0
        let h1 = (d1 <= 1e-15 && d2 <= 1e-15) ? max(1e-6, h0 * 1e-3) : Foundation.pow(0.01 / max(d1, d2), 1.0 / 5)
        return min(100 * h0, h1)
    }

    /// The dense output of `step` at `time` (the step's end exactly when `time` is its end).
    private func interpolate(_ step: Step, at time: Double) -> Tensor {
        let x = (time - step.t0) / step.h
        if x == 1 { return step.u1 }
        let k = step.stages, h = step.h
        let middle = combine(step.u0, h, Self.middleWeights, k)
        let f0 = k[0], f1 = k[6], y0 = step.u0, y1 = step.u1
        // u(x) = y0 + x d + x² c + x³ b + x⁴ a, torchdiffeq's `_interp_fit`.
        let a: [(Double, Tensor)] = [(2 * h, f1), (-2 * h, f0), (-8, y1), (-8, y0), (16, middle)]
        let b: [(Double, Tensor)] = [(5 * h, f0), (-3 * h, f1), (18, y0), (14, y1), (-32, middle)]
        let c: [(Double, Tensor)] = [(h, f1), (-4 * h, f0), (-11, y0), (-5, y1), (16, middle)]
        let x2 = x * x, x3 = x2 * x, x4 = x3 * x
        var terms: [(weight: Double, tensor: Tensor)] = [(1, y0), (x * h, f0)]
        terms += a.map { (x4 * $0.0, $0.1) }
        terms += b.map { (x3 * $0.0, $0.1) }
        terms += c.map { (x2 * $0.0, $0.1) }
        return linearCombination(terms)
    }
}
