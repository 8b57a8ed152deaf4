import TesseraReinforcement
import TesseraTensor

/// Raw CartPole-v1 environment steps per second, one environment, actions drawn in advance,
/// resets on termination or truncation included in the time: the counterpart of
/// `/work/shared/bench/cartpole.py`'s `make_pregen` (Gymnasium with its TimeLimit wrapper,
/// ~131k steps/s) and `unwrapped` (the bare environment) variants.
func cartPoleBenchmark(json: Bool) {
    let steps = 1_000_000
    var generator = RandomGenerator(seed: 0)
    let actions = (0..<steps).map { _ in Action.discrete(generator.nextInt(below: 2)) }
    for (variant, make) in [("make_pregen", { Environments.make("CartPole-v1")! }), ("unwrapped", { CartPole() as Environment })] {
        let environment = make()
        func run(_ count: Int) -> (seconds: Double, episodes: Int) {
            _ = environment.reset(seed: 0)
            var episodes = 0
            let start = Timing.now()
            for index in 0..<count where environment.step(actions[index]).isDone {
                _ = environment.reset(seed: nil)
                episodes += 1
            }
            return (Timing.now() - start, episodes)
        }
        _ = run(5_000)
        let results = (0..<3).map { _ in run(steps) }.sorted { $0.seconds < $1.seconds }
        let median = results[1]
        BenchmarkRecord("cartpole", [("variant", variant), ("steps", steps), ("seconds", rounded(median.seconds)),
                                     ("steps_per_s", rounded(Double(steps) / median.seconds, digits: 1)),
                                     ("episodes", median.episodes), ("gymnasium_reference_steps_per_s", 131_000)]).emit(json: json)
    }
}
