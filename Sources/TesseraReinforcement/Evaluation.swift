import TesseraTensor

/// The undiscounted returns of `episodes` episodes, episode `k` reset with seed `seed + k`, with
/// actions from `act(observation)`. Fixed seeds make every evaluation of a policy see the same
/// start states, so two checkpoints are compared on equal terms.
public func evaluate(_ makeEnvironment: () -> Environment, episodes: Int = 100, seed: UInt64 = 1_000_000,
                     act: ([Float]) -> Action) -> [Double] {
    let environment = makeEnvironment()
    return (0..<episodes).map { episode in
        var observation = environment.reset(seed: seed + UInt64(episode))
        var total = 0.0
        while true {
            environment.checkObservation(observation)
            let result = environment.step(act(observation))
            total += result.reward
            if result.isDone { return total }
            observation = result.observation
        }
    }
}

extension ActorCritic {
    /// The most likely action for one observation (argmax or the Gaussian's mean).
    public func greedyAction(_ observation: [Float]) -> Action {
        withoutGradients { distribution(Tensor(shape: [1, observation.count], scalars: observation)).mode[0] }
    }
}
