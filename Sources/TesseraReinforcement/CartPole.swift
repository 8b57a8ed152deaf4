import Foundation
import TesseraTensor

/// CartPole-v1 (Barto, Sutton & Anderson, "Neuronlike adaptive elements that can solve difficult
/// learning control problems", IEEE SMC 1983), with Gymnasium's dynamics: explicit Euler steps of
/// 0.02 s, a ±10 N push, reward 1 per step (also on the terminating step), termination when
/// |x| > 2.4 or |θ| > 12°. `Environments.make("CartPole-v1")` adds the 500-step limit.
///
/// The state is Double, as Gymnasium's float64; observations are its Float32 rounding.
public final class CartPole: Environment {
    public let name = "CartPole-v1"
    public let actionSpace = Space.discrete(2)
    public let observationSpace: Space

    let gravity = 9.8, cartMass = 1.0, poleMass = 0.1, halfPoleLength = 0.5, forceMagnitude = 10.0, timeStep = 0.02
    let angleLimit = 12 * 2 * Double.pi / 360, positionLimit = 2.4

    /// `[x, ẋ, θ, θ̇]`; settable so tests can start from a recorded state.
    public var state: [Double] = [0, 0, 0, 0]
    fileprivate var generator = RandomGenerator(seed: 0)
    /// Steps taken after termination: Gymnasium gives reward 0 for them.
    fileprivate var stepsBeyondTermination: Int? = nil

    public init() {
        let high: [Float] = [Float(positionLimit * 2), .infinity, Float(angleLimit * 2), .infinity]
        observationSpace = .box(low: high.map { -$0 }, high: high)
    }

    public func reset(seed: UInt64?) -> [Float] {
        if let seed { generator = RandomGenerator(seed: seed) }
        state = (0..<4).map { _ in generator.uniformDouble(-0.05, 0.05) }
        stepsBeyondTermination = nil
        return observation
    }

    public var observation: [Float] { state.map { Float($0) } }

    public func step(_ action: Action) -> StepResult {
        checkAction(action)
        guard case .discrete(let choice) = action else { fatalError("unreachable") }
        var (x, xDot, theta, thetaDot) = (state[0], state[1], state[2], state[3])
        let force = choice == 1 ? forceMagnitude : -forceMagnitude
        let cosine = cos(theta), sine = sin(theta)
        let totalMass = cartMass + poleMass, poleMassLength = poleMass * halfPoleLength
        let temporary = (force + poleMassLength * (thetaDot * thetaDot) * sine) / totalMass
        let thetaAcceleration = (gravity * sine - cosine * temporary)
            / (halfPoleLength * (4.0 / 3.0 - poleMass * (cosine * cosine) / totalMass))
        let xAcceleration = temporary - poleMassLength * thetaAcceleration * cosine / totalMass
        x = x + timeStep * xDot
        xDot = xDot + timeStep * xAcceleration
        theta = theta + timeStep * thetaDot
        thetaDot = thetaDot + timeStep * thetaAcceleration
        state = [x, xDot, theta, thetaDot]
        let terminated = x < -positionLimit || x > positionLimit || theta < -angleLimit || theta > angleLimit
        var reward = 1.0
        if terminated {
            if let beyond = stepsBeyondTermination {
                stepsBeyondTermination = beyond + 1
                reward = 0
            } else {
                stepsBeyondTermination = 0
            }
        }
        return StepResult(observation: observation, reward: reward, terminated: terminated, truncated: false)
    }
}

extension CartPole: RestorableEnvironment {
    public func snapshot() -> EnvironmentSnapshot {
        EnvironmentSnapshot(name: name, state: state, counters: stepsBeyondTermination.map { ["stepsBeyondTermination": $0] } ?? [:],
                            generator: generator)
    }

    public func restore(_ snapshot: EnvironmentSnapshot) throws {
        try snapshot.check(name: name, stateCount: 4)
        state = snapshot.state
        stepsBeyondTermination = snapshot.counters["stepsBeyondTermination"]
        generator = snapshot.generator!
    }
}
