import Foundation
import TesseraTensor

/// Pendulum-v1, Gymnasium's swing-up task with a continuous torque in [−2, 2] (clipped, as
/// Gymnasium clips it): `θ̇ += (3g/2 · sin θ + 3u)·0.05` clipped to ±8, `θ += θ̇·0.05`, reward
/// `−(normalize(θ)² + 0.1·θ̇² + 0.001·u²)`, never terminates. `Environments.make` adds the
/// 200-step limit, so every episode is truncated and learners must bootstrap at its end.
public final class Pendulum: Environment {
    public let name = "Pendulum-v1"
    public let actionSpace = Space.box(low: [-2], high: [2])
    public let observationSpace = Space.box(low: [-1, -1, -8], high: [1, 1, 8])

    let maximumSpeed = 8.0, maximumTorque: Float = 2.0, timeStep = 0.05, gravity = 10.0

    /// `[θ, θ̇]`; settable so tests can start from a recorded state.
    public var state: [Double] = [0, 0]
    fileprivate var generator = RandomGenerator(seed: 0)

    public init() {}

    public func reset(seed: UInt64?) -> [Float] {
        if let seed { generator = RandomGenerator(seed: seed) }
        state = [generator.uniformDouble(-Double.pi, Double.pi), generator.uniformDouble(-1, 1)]
        return observation
    }

    public var observation: [Float] { [Float(cos(state[0])), Float(sin(state[0])), Float(state[1])] }

    public func step(_ action: Action) -> StepResult {
        checkAction(action)
        guard case .continuous(let values) = action else { fatalError("unreachable") }
        // Gymnasium clips the float32 action, then mixes it into float64 arithmetic.
        let torque = Double(min(max(values[0], -maximumTorque), maximumTorque))
        let (theta, thetaDot) = (state[0], state[1])
        let cost = normalizedAngle(theta) * normalizedAngle(theta) + 0.1 * thetaDot * thetaDot + 0.001 * torque * torque
        var newThetaDot = thetaDot + (3 * gravity / 2 * sin(theta) + 3.0 * torque) * timeStep
        newThetaDot = min(max(newThetaDot, -maximumSpeed), maximumSpeed)
        state = [theta + newThetaDot * timeStep, newThetaDot]
        return StepResult(observation: observation, reward: -cost, terminated: false, truncated: false)
    }

    /// `((x + π) mod 2π) − π` with Python's floored modulo (an exact `fmod`, moved into [0, 2π)).
    private func normalizedAngle(_ x: Double) -> Double {
        let period = 2 * Double.pi
        var remainder = fmod(x + Double.pi, period)
        if remainder != 0 && remainder < 0 { remainder += period }
        return remainder - Double.pi
    }
}

extension Pendulum: RestorableEnvironment {
    public func snapshot() -> EnvironmentSnapshot { EnvironmentSnapshot(name: name, state: state, generator: generator) }

    public func restore(_ snapshot: EnvironmentSnapshot) throws {
        try snapshot.check(name: name, stateCount: 2)
        state = snapshot.state
        generator = snapshot.generator!
    }
}
