import Foundation
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

/// The asynchronous actor–learner's throughput through the real MPI path: for 1 and 2 actor
/// processes it runs `tessera train` on an IMPALA CartPole recipe with `--np 2` and `--np 3`
/// (`mpirun` with one learner process and the actor processes, as a user would), five times each,
/// and reports the medians of what the learner measured over its learning loop (start-up and the
/// final evaluation excluded): environment steps trained on per second, environment steps the
/// actors took per second, learner updates per second, and the mean policy lag. First, in this
/// process on one thread, the two halves alone: one actor's trajectory (8 copies × 64 steps,
/// sampling included) and one learner update on it, which bound what each side can sustain.
func actorLearnerBenchmark(json: Bool) {
    actorLearnerPartsBenchmark(json: json)
    let directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    let tessera = directory.appendingPathComponent("tessera").path
    guard FileManager.default.isExecutableFile(atPath: tessera) else {
        FileHandle.standardError.write(Data("tessera-bench actor-learner: needs \(tessera) (swift build -c release builds it)\n".utf8))
        exit(1)
    }
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-bench-actor-learner-\(getpid())")
    try? FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    // The convergence recipe's settings (8 copies × 64 steps per trajectory), 200k steps per run.
    let recipe = scratch.appendingPathComponent("impala-bench.yaml")
    let steps = 200_000
    try! """
    task: impala
    name: impala-bench
    seed: 1
    environment: CartPole-v1
    algorithm: {totalSteps: \(steps), environmentCount: 8, rolloutSteps: 64, learningRate: 0.001}
    evaluation: {episodes: 1}
    training: {logEvery: 1000}
    """.write(to: recipe, atomically: true, encoding: .utf8)
    let keys = ["learner_steps_per_second", "actor_steps_per_second", "updates_per_second", "policy_lag_mean"]
    for actors in [1, 2] {
        var samples: [String: [Double]] = [:]
        for repeatIndex in 0..<5 {
            let run = scratch.appendingPathComponent("run-\(actors)-\(repeatIndex)")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tessera)
            process.arguments = ["train", recipe.path, "--np", "\(actors + 1)", "--run-dir", run.path, "--quiet"]
            process.standardOutput = FileHandle.nullDevice
            do {
                try process.run()
                process.waitUntilExit()
                guard process.terminationStatus == 0 else { throw BenchmarkFailure("tessera train exited with \(process.terminationStatus)") }
                let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("summary.json")))
                let metrics = (summary as? [String: Any])?["metrics"] as? [String: Double] ?? [:]
                for key in keys { samples[key, default: []].append(metrics[key] ?? .nan) }
            } catch {
                FileHandle.standardError.write(Data("tessera-bench actor-learner: \(error)\n".utf8))
                exit(1)
            }
        }
        let median = { (key: String) -> Double in
            let sorted = samples[key]!.sorted()
            return sorted[sorted.count / 2]
        }
        BenchmarkRecord("actor-learner", [("actors", actors), ("processes", actors + 1), ("steps", steps), ("runs", 5),
                                          ("learner_steps_per_s", rounded(median("learner_steps_per_second"), digits: 0)),
                                          ("actor_steps_per_s", rounded(median("actor_steps_per_second"), digits: 0)),
                                          ("updates_per_s", rounded(median("updates_per_second"), digits: 1)),
                                          ("policy_lag_mean", rounded(median("policy_lag_mean"), digits: 2))]).emit(json: json)
    }
}

private struct BenchmarkFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The actor's and the learner's work per trajectory, one thread, no communication.
private func actorLearnerPartsBenchmark(json: Bool) {
    var config = IMPALAConfig()
    config.rolloutSteps = 64
    let environments = VectorEnvironment(count: config.environmentCount) { Environments.make("CartPole-v1")! }
    environments.reset(seed: 1)
    let learner = IMPALALearner(config: config, observationSpace: environments.observationSpace, actionSpace: environments.actionSpace)
    var generator = RandomGenerator(seed: 2)
    var trajectory = collectTrajectory(environments, network: learner.network, steps: config.rolloutSteps, policyVersion: 0,
                                       generator: &generator)
    let acting = Timing.measure {
        trajectory = collectTrajectory(environments, network: learner.network, steps: config.rolloutSteps, policyVersion: 0,
                                       generator: &generator)
    }
    let learning = Timing.measure { _ = learner.update(trajectory) }
    var record = BenchmarkRecord("actor-learner-parts", [("trajectory_steps", config.trajectorySteps)])
    record.add(acting, prefix: "actor_trajectory_")
    record.add(learning, prefix: "learner_update_")
    record.fields += [("actor_steps_per_s", rounded(Double(config.trajectorySteps) / (acting.medianMilliseconds / 1e3), digits: 0)),
                      ("learner_steps_per_s", rounded(Double(config.trajectorySteps) / (learning.medianMilliseconds / 1e3), digits: 0))]
    record.emit(json: json)
}
