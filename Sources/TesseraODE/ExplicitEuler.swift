import TesseraTensor

/// Explicit (forward) Euler, `u₁ = u₀ + h f(t₀, u₀)`: order 1, one evaluation per step
/// (Euler, *Institutionum calculi integralis*, 1768; Hairer, Nørsett & Wanner, *Solving ODEs I*, §I.7).
/// Stable for `u' = λu` only while |1 + hλ| ≤ 1, so it diverges on stiff problems (see ``ImplicitEuler``).
enum ExplicitEuler {
    static func step(_ f: ODEEvaluator, time t: Double, stepSize h: Double, state u: Tensor) -> Tensor {
        combine(u, h, [1], [f(t, u)])
    }
}
