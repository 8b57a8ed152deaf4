import Foundation
import Testing
@testable import TesseraReinforcement

/// The full targets: minutes each in release mode, so they run only when asked:
///
///     TESSERA_RL_CONVERGENCE=1 swift test -c release --filter ConvergenceTests
///
/// Each trains to the end of its budget, evaluates the greedy policy over 100 episodes with
/// fixed seeds and prints `eval_return_mean`, environment steps and wall time.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["TESSERA_RL_CONVERGENCE"] != nil), .serialized)
struct ConvergenceTests {
    func run(_ label: String, _ environmentName: String, _ learner: Learner, target: Double) {
        let start = Date()
        while learner.iteration < learner.totalIterations { _ = learner.iterate() }
        let seconds = Date().timeIntervalSince(start)
        let returns = evaluate({ Environments.make(environmentName)! }, episodes: 100, act: learner.act)
        let average = mean(returns)
        print("CONVERGENCE \(label): eval_return_mean \(average) over 100 episodes, \(learner.environmentSteps) environment steps, \(String(format: "%.1f", seconds)) s")
        #expect(average >= target, "\(label): \(average) < \(target)")
    }

    @Test func ppoSolvesCartPole() {
        run("ppo CartPole-v1", "CartPole-v1", PPO(config: PPOConfig()) { Environments.make("CartPole-v1")! }, target: 475)
    }

    @Test func dqnSolvesCartPole() {
        run("dqn CartPole-v1", "CartPole-v1", DQN(config: DQNConfig()) { Environments.make("CartPole-v1")! }, target: 475)
    }

    @Test func a2cSolvesCartPole() {
        run("a2c CartPole-v1", "CartPole-v1", A2C(config: A2CConfig()) { Environments.make("CartPole-v1")! }, target: 475)
    }

    @Test func ppoSolvesAcrobot() {
        run("ppo Acrobot-v1", "Acrobot-v1", PPO(config: PPOConfig.acrobot) { Environments.make("Acrobot-v1")! }, target: -100)
    }

    @Test func ppoSolvesPendulum() {
        run("ppo Pendulum-v1", "Pendulum-v1", PPO(config: PPOConfig.pendulum) { Environments.make("Pendulum-v1")! }, target: -250)
    }
}
