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
///
/// With ``ODESolverOptions/sumOverProcesses`` the norms are those of the whole batch that several
/// processes solve a part each: every decision (accept, next step, first step, give up) follows
/// from the combined numbers and the shared time and step, so all processes take the same steps
/// and call the sum equally often.
struct DormandPrince {
    /// Tolerances, controller constants and the step limit.
    let options: ODESolverOptions
    /// The right-hand side, its counter and the solver name in errors.
    let evaluator: ODEEvaluator
    /// The parts of the state whose RMS norms are combined by their maximum (the adjoint's
    /// `[u, a, dL/dθ]`, as torchdiffeq's default adjoint norm); `nil`: one RMS norm over rows.
    var normSegments: [NormSegment]? = nil

    /// A part of the flattened state in the error norm.
    enum NormSegment: Equatable {
        /// This many elements of this process's rows of the batch: their squared scaled errors
        /// are summed with the other processes', so the RMS is the whole batch's.
        case rows(Int)
        /// This many elements that are this process's share of a sum over the processes (the
        /// adjoint's parameter gradient): the error and the values are summed first, then scaled.
        case summed(Int)

        var count: Int {
            switch self {
            case .rows(let count), .summed(let count): return count
            }
        }
    }

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
        let segments = normSegments ?? [.rows(initial.count)]
        var derivative = evaluator(t, u)
        // Agreed by all processes, so that they all stop here or none does.
        if try sumOverProcesses([isFinite(derivative) ? 0 : 1], at: t)[0] > 0 { throw evaluator.error(at: t, .nonFiniteState) }
        let h0 = try options.firstStep.map { Double(abs($0)) }
            ?? initialStep(time: t, state: u, derivative: derivative, direction: direction, segments: segments)
        var h = direction * h0
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
                let ratio = try errorRatio(step, segments: segments)
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

    /// The scaled error norm of a step (values only), over the whole batch.
    private func errorRatio(_ step: Step, segments: [NormSegment]) throws -> Double {
        let weights = Self.errorWeights.map { $0 * step.h }
        let pointers = step.stages.map(\.storage.pointer)
        let error = (0..<step.u0.count).map { index in
            var sum = 0.0
            for (w, k) in zip(weights, pointers) where w != 0 { sum += w * Double(k[index]) }
            return sum
        }
        return try norms([(error, [step.u0, step.u1])], segments: segments, at: step.t0)[0]
    }

    /// The norms `‖eᵢ / (atol + rtol · maxⱼ |bⱼᵢ|)‖` of each request's error `e` against the
    /// magnitudes of its bases `b` (the step's two ends, or the initial state): RMS per segment,
    /// the largest segment's (NaN if any is), over the whole batch with one call of the sum.
    ///
    /// A rows segment sends its sum of squares and count, so the combined RMS is the mean over
    /// all processes' rows; a summed segment sends its error and bases, whose sums are scaled here.
    func norms(_ requests: [(error: [Double], bases: [Tensor])], segments: [NormSegment], at time: Double) throws -> [Double] {
        let rtol = Double(options.relativeTolerance), atol = Double(options.absoluteTolerance)
        func tolerance(_ bases: [UnsafeMutablePointer<Float>], _ index: Int) -> Double {
            atol + rtol * bases.reduce(0) { max($0, abs(Double($1[index]))) }
        }
        var partials: [Double] = []
        for (error, bases) in requests {
            let pointers = bases.map(\.storage.pointer)
            var start = 0
            for segment in segments {
                let range = start..<(start + segment.count)
                switch segment {
                case .rows(let count):
                    var squares = 0.0
                    for index in range {
                        let scaled = error[index] / tolerance(pointers, index)
                        squares += scaled * scaled
                    }
                    partials += [squares, Double(count)]
                case .summed:
                    partials += error[range]
                    for pointer in pointers { partials += range.map { Double(pointer[$0]) } }
                }
                start = range.upperBound
            }
        }
        let totals = try sumOverProcesses(partials, at: time)
        var cursor = 0
        func next(_ count: Int) -> ArraySlice<Double> {
            defer { cursor += count }
            return totals[cursor..<(cursor + count)]
        }
        return requests.map { _, bases in
            var result = 0.0
            for segment in segments {
                let rms: Double
                switch segment {
                case .rows:
                    let sums = next(2)
                    rms = sums.last! == 0 ? 0 : (sums.first! / sums.last!).squareRoot()
                case .summed(let count):
                    let error = Array(next(count))
                    let magnitudes = bases.map { _ in Array(next(count)) }
                    var squares = 0.0
                    for index in 0..<count {
                        let scale = atol + rtol * magnitudes.reduce(0) { max($0, abs($1[index])) }
                        squares += (error[index] / scale) * (error[index] / scale)
                    }
                    rms = count == 0 ? 0 : (squares / Double(count)).squareRoot()
                }
                result = rms.isNaN || result.isNaN ? .nan : max(result, rms)
            }
            return result
        }
    }

    /// `values` summed over the processes solving the batch together (themselves in one process).
    private func sumOverProcesses(_ values: [Double], at time: Double) throws -> [Double] {
        guard let sum = options.sumOverProcesses else { return values }
        do { return try sum(values) } catch {
            throw evaluator.error(at: time, .processSumFailed("\(error)"))
        }
    }

    private func nextFactor(_ ratio: Double) -> Double {
        let safety = Double(options.safety), low = Double(options.minimumFactor), high = Double(options.maximumFactor)
        if !ratio.isFinite { return low }
        if ratio == 0 { return high }
        let floor = ratio < 1 ? 1 : low
        return min(high, max(safety / Foundation.pow(ratio, 1.0 / 5), floor))
    }

    /// Hairer's starting step (*Solving ODEs I*, §II.4, with torchdiffeq's constants): one
    /// evaluation, and two sums over the processes (d0 and d1 together, then d2).
    private func initialStep(time t: Double, state u: Tensor, derivative f0: Tensor, direction sign: Double,
                             segments: [NormSegment]) throws -> Double {
        let y0 = u.scalars.map { Double($0) }, d = f0.scalars.map { Double($0) }
        let first = try norms([(y0, [u]), (d, [u])], segments: segments, at: t)
        let (d0, d1) = (first[0], first[1])
        let h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1
        let probe = withoutGradients { combine(u.detached(), h0 * sign, [1], [f0.detached()]) }
        let f1 = withoutGradients { evaluator(t + h0 * sign, probe) }.scalars.map { Double($0) }
        let d2 = try norms([((0..<d.count).map { f1[$0] - d[$0] }, [u])], segments: segments, at: t)[0] / h0
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
