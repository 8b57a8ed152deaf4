import TesseraTensor

/// The classic fourth-order Runge–Kutta method (Kutta, 1901; Hairer, Nørsett & Wanner,
/// *Solving ODEs I*, §II.1, Table 1.2 left): four evaluations per step, global error O(h⁴).
enum RungeKutta4 {
    static func step(_ f: ODEEvaluator, time t: Double, stepSize h: Double, state u: Tensor) -> Tensor {
        let k1 = f(t, u)
        let k2 = f(t + h / 2, combine(u, h, [0.5], [k1]))
        let k3 = f(t + h / 2, combine(u, h, [0.5], [k2]))
        let k4 = f(t + h, combine(u, h, [1], [k3]))
        return combine(u, h, [1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6], [k1, k2, k3, k4])
    }
}
