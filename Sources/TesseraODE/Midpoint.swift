import TesseraTensor

/// The explicit midpoint rule, `u₁ = u₀ + h f(t₀ + h/2, u₀ + h/2 f(t₀, u₀))`: order 2, two
/// evaluations per step (Runge, 1895; Hairer, Nørsett & Wanner, *Solving ODEs I*, §II.1).
enum Midpoint {
    static func step(_ f: ODEEvaluator, time t: Double, stepSize h: Double, state u: Tensor) -> Tensor {
        let k1 = f(t, u)
        let k2 = f(t + h / 2, combine(u, h, [0.5], [k1]))
        return combine(u, h, [1], [k2])
    }
}
