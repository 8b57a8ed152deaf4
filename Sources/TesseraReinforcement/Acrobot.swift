import Foundation
import TesseraTensor

/// Acrobot-v1 (Sutton, "Generalization in Reinforcement Learning: Successful Examples Using
/// Sparse Coarse Coding", NeurIPS 1995; the "book" dynamics of Sutton & Barto, 2018), with
/// Gymnasium's integration: one 4th-order Runge–Kutta step of 0.2 s, torques −1/0/+1, angles
/// wrapped to [−π, π], velocities clipped to 4π and 9π, reward −1 per step and 0 on reaching
/// the line (−cos θ₁ − cos(θ₁ + θ₂) > 1). `Environments.make` adds the 500-step limit.
public final class Acrobot: Environment {
    public let name = "Acrobot-v1"
    public let actionSpace = Space.discrete(3)
    public let observationSpace: Space

    let timeStep = 0.2, maximumVelocity1 = 4 * Double.pi, maximumVelocity2 = 9 * Double.pi
    let torques: [Double] = [-1, 0, 1]

    /// `[θ₁, θ₂, θ̇₁, θ̇₂]`; settable so tests can start from a recorded state.
    public var state: [Double] = [0, 0, 0, 0]
    fileprivate var generator = RandomGenerator(seed: 0)

    public init() {
        let high: [Float] = [1, 1, 1, 1, Float(4 * Double.pi), Float(9 * Double.pi)]
        observationSpace = .box(low: high.map { -$0 }, high: high)
    }

    public func reset(seed: UInt64?) -> [Float] {
        if let seed { generator = RandomGenerator(seed: seed) }
        // Gymnasium draws the start as float32.
        state = (0..<4).map { _ in Double(Float(generator.uniformDouble(-0.1, 0.1))) }
        return observation
    }

    public var observation: [Float] {
        [cos(state[0]), sin(state[0]), cos(state[1]), sin(state[1]), state[2], state[3]].map { Float($0) }
    }

    public func step(_ action: Action) -> StepResult {
        checkAction(action)
        guard case .discrete(let choice) = action else { fatalError("unreachable") }
        let torque = torques[choice]
        let half = timeStep / 2
        let k1 = derivative(state, torque)
        let k2 = derivative(zip(state, k1).map { $0 + half * $1 }, torque)
        let k3 = derivative(zip(state, k2).map { $0 + half * $1 }, torque)
        let k4 = derivative(zip(state, k3).map { $0 + timeStep * $1 }, torque)
        var next = (0..<4).map { state[$0] + timeStep / 6.0 * (k1[$0] + 2 * k2[$0] + 2 * k3[$0] + k4[$0]) }
        next[0] = wrap(next[0])
        next[1] = wrap(next[1])
        next[2] = min(max(next[2], -maximumVelocity1), maximumVelocity1)
        next[3] = min(max(next[3], -maximumVelocity2), maximumVelocity2)
        state = next
        let terminated = -cos(state[0]) - cos(state[1] + state[0]) > 1.0
        return StepResult(observation: observation, reward: terminated ? 0 : -1, terminated: terminated, truncated: false)
    }

    /// Gymnasium's `wrap`: shifts by 2π until inside [−π, π].
    private func wrap(_ angle: Double) -> Double {
        var x = angle
        while x > Double.pi { x -= 2 * Double.pi }
        while x < -Double.pi { x += 2 * Double.pi }
        return x
    }

    /// The equations of motion (masses, lengths and inertias 1, centres of mass at 0.5, g = 9.8).
    private func derivative(_ s: [Double], _ torque: Double) -> [Double] {
        let (m1, m2, l1, lc1, lc2, i1, i2, g) = (1.0, 1.0, 1.0, 0.5, 0.5, 1.0, 1.0, 9.8)
        let (theta1, theta2, dtheta1, dtheta2) = (s[0], s[1], s[2], s[3])
        let d1 = m1 * lc1 * lc1 + m2 * (l1 * l1 + lc2 * lc2 + 2 * l1 * lc2 * cos(theta2)) + i1 + i2
        let d2 = m2 * (lc2 * lc2 + l1 * lc2 * cos(theta2)) + i2
        let phi2 = m2 * lc2 * g * cos(theta1 + theta2 - Double.pi / 2.0)
        let phi1 = -m2 * l1 * lc2 * dtheta2 * dtheta2 * sin(theta2)
            - 2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sin(theta2)
            + (m1 * lc1 + m2 * l1) * g * cos(theta1 - Double.pi / 2) + phi2
        let ddtheta2 = (torque + d2 / d1 * phi1 - m2 * l1 * lc2 * dtheta1 * dtheta1 * sin(theta2) - phi2)
            / (m2 * lc2 * lc2 + i2 - d2 * d2 / d1)
        let ddtheta1 = -(d2 * ddtheta2 + phi1) / d1
        return [dtheta1, dtheta2, ddtheta1, ddtheta2]
    }
}

extension Acrobot: RestorableEnvironment {
    public func snapshot() -> EnvironmentSnapshot { EnvironmentSnapshot(name: name, state: state, generator: generator) }

    public func restore(_ snapshot: EnvironmentSnapshot) throws {
        try snapshot.check(name: name, stateCount: 4)
        state = snapshot.state
        generator = snapshot.generator!
    }
}
