import Foundation
import TesseraTensor

/// MountainCar-v0 (Moore, "Efficient Memory-based Learning for Robot Control", PhD thesis 1990),
/// with Gymnasium's dynamics: push left/none/right, `v += (a − 1)·0.001 − 0.0025·cos(3x)`,
/// velocity clipped to ±0.07, position to [−1.2, 0.6] (hitting the left wall stops the car),
/// reward −1 per step, termination at x ≥ 0.5. `Environments.make` adds the 200-step limit.
public final class MountainCar: Environment {
    public let name = "MountainCar-v0"
    public let actionSpace = Space.discrete(3)
    public let observationSpace = Space.box(low: [-1.2, -0.07], high: [0.6, 0.07])

    let minimumPosition = -1.2, maximumPosition = 0.6, maximumSpeed = 0.07, goalPosition = 0.5
    let force = 0.001, gravity = 0.0025

    /// `[position, velocity]`; settable so tests can start from a recorded state.
    public var state: [Double] = [0, 0]
    fileprivate var generator = RandomGenerator(seed: 0)

    public init() {}

    public func reset(seed: UInt64?) -> [Float] {
        if let seed { generator = RandomGenerator(seed: seed) }
        state = [generator.uniformDouble(-0.6, -0.4), 0]
        return observation
    }

    public var observation: [Float] { state.map { Float($0) } }

    public func step(_ action: Action) -> StepResult {
        checkAction(action)
        guard case .discrete(let choice) = action else { fatalError("unreachable") }
        var (position, velocity) = (state[0], state[1])
        velocity += Double(choice - 1) * force + cos(3 * position) * -gravity
        velocity = min(max(velocity, -maximumSpeed), maximumSpeed)
        position += velocity
        position = min(max(position, minimumPosition), maximumPosition)
        if position == minimumPosition && velocity < 0 { velocity = 0 }
        state = [position, velocity]
        let terminated = position >= goalPosition && velocity >= 0
        return StepResult(observation: observation, reward: -1, terminated: terminated, truncated: false)
    }
}

extension MountainCar: RestorableEnvironment {
    public func snapshot() -> EnvironmentSnapshot { EnvironmentSnapshot(name: name, state: state, generator: generator) }

    public func restore(_ snapshot: EnvironmentSnapshot) throws {
        try snapshot.check(name: name, stateCount: 2)
        state = snapshot.state
        generator = snapshot.generator!
    }
}
