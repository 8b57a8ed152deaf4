import Testing
import TesseraTensor
@testable import TesseraReinforcement

/// A one-dimensional chain for checking how transitions are recorded: the observation is the
/// number of steps taken; action 0 ends the episode in a terminal state, action 1 moves on (so
/// only a time limit ends the episode).
final class CountingEnvironment: Environment {
    let name = "Counting"
    let observationSpace = Space.box(low: [0], high: [100])
    let actionSpace = Space.discrete(2)
    private var steps = 0

    func reset(seed: UInt64?) -> [Float] {
        steps = 0
        return [0]
    }

    func step(_ action: Action) -> StepResult {
        checkAction(action)
        steps += 1
        return StepResult(observation: [Float(steps)], reward: 1, terminated: action == .discrete(0), truncated: false)
    }
}

/// The mean undiscounted return over `episodes` CartPole episodes of uniformly random actions:
/// the baseline that "learned something" is measured against.
func randomPolicyReturn(episodes: Int) -> Double {
    var generator = RandomGenerator(seed: 99)
    return mean(evaluate({ Environments.make("CartPole-v1")! }, episodes: episodes) { _ in .discrete(generator.nextInt(below: 2)) })
}

@Suite struct QActorCriticTests {
    @Test func sarsaTargetBootstrapsOnTruncationButNotOnTermination() {
        // Two transitions with reward 1 and Q(s', a') = 4, γ = 0.5: the first reached a terminal
        // state (target 1), the second was cut by a time limit (target 1 + 0.5·4 = 3).
        let (_, _, targets) = qActorCriticLosses(
            logits: Tensor(shape: [2, 2], scalars: [0, 0, 0, 0]), actionValues: Tensor(shape: [2, 2], scalars: [0, 0, 0, 0]),
            actions: Tensor([0, 1]), rewards: Tensor([1, 1]), nextActionValues: Tensor([4, 4]), terminated: Tensor([1, 0]),
            discount: 0.5, subtractBaseline: true)
        #expect(targets.scalars == [1, 3])
    }

    @Test func transitionsKeepTheFinalObservationAndMarkOnlyTerminalStepsTerminated() {
        // Always action 1 under a 2-step limit: step 2 is truncated, its s' is the final
        // observation [2] (not the next episode's [0]) and it is not marked terminated.
        let environments = VectorEnvironment(count: 1) { TimeLimit(CountingEnvironment(), maximumSteps: 2) }
        environments.reset(seed: 0)
        var generator = RandomGenerator(seed: 0)
        let alwaysOne = { (observations: Tensor) in
            PolicyDistribution.categorical(logits: Tensor(shape: [observations.shape[0], 2], scalars: [-1e4, 0]))
        }
        let moving = collectTransitions(environments, steps: 3, generator: &generator, behaviour: alwaysOne)
        #expect(moving.observations.scalars == [0, 1, 0])
        #expect(moving.nextObservations.scalars == [1, 2, 1])
        #expect(moving.terminated.scalars == [0, 0, 0])
        #expect(moving.finishedEpisodes.map(\.length) == [2])
        #expect(moving.behaviourLogProbabilities.scalars.allSatisfy { Swift.abs($0) < 1e-6 }, "log 1 for a certain action")

        let alwaysZero = { (observations: Tensor) in
            PolicyDistribution.categorical(logits: Tensor(shape: [observations.shape[0], 2], scalars: [0, -1e4]))
        }
        let ending = collectTransitions(environments, steps: 1, generator: &generator, behaviour: alwaysZero)
        #expect(ending.terminated.scalars == [1])
        #expect(ending.nextObservations.scalars == [2])
    }

    @Test func actorStepIsLogProbabilityGradientTimesCriticValueMinusBaseline() {
        // π = softmax([0, 0]) = (½, ½), Q(s, ·) = (3, 1), action 0. The baseline is
        // Σ_b π(b)Q(b) = 2, so the weight is 3 − 2 = 1, and ∂(−w·log π(0))/∂logits = −w·(e₀ − π)
        // = (−½, ½); without the baseline w = 3 and the gradient is (−3/2, 3/2). The critic's
        // loss (3 − y)² with y = 2 + 0.5·2 = 3 is 0 here.
        for (subtract, expected) in [(true, [Float(-0.5), 0.5]), (false, [Float(-1.5), 1.5])] {
            let logits = Tensor(shape: [1, 2], scalars: [0, 0])
            logits.requiresGrad = true
            let actionValues = Tensor(shape: [1, 2], scalars: [3, 1])
            actionValues.requiresGrad = true
            let (policyLoss, valueLoss, _) = qActorCriticLosses(
                logits: logits, actionValues: actionValues, actions: Tensor([0]), rewards: Tensor([2]),
                nextActionValues: Tensor([2]), terminated: Tensor([0]), discount: 0.5, subtractBaseline: subtract)
            (policyLoss + valueLoss).backward()
            let gradient = logits.grad!.scalars
            #expect(Swift.abs(gradient[0] - expected[0]) < 1e-6 && Swift.abs(gradient[1] - expected[1]) < 1e-6, "\(gradient)")
            #expect(valueLoss.item == 0)
            // The actor's weight is held fixed: the critic gets no gradient from the actor's loss.
            #expect(actionValues.grad!.scalars == [0, 0])
        }
    }

    @Test func criticGradientIsTheTemporalDifferenceError() {
        // Q(s, a) = 1, target y = 0 + 0.9·2 = 1.8: ∂(Q − y)²/∂Q = 2·(1 − 1.8) = −1.6.
        let actionValues = Tensor(shape: [1, 2], scalars: [5, 1])
        actionValues.requiresGrad = true
        let (_, valueLoss, _) = qActorCriticLosses(
            logits: Tensor(shape: [1, 2], scalars: [0, 0]), actionValues: actionValues, actions: Tensor([1]), rewards: Tensor([0]),
            nextActionValues: Tensor([2]), terminated: Tensor([0]), discount: 0.9, subtractBaseline: true)
        valueLoss.backward()
        let gradient = actionValues.grad!.scalars
        #expect(gradient[0] == 0 && Swift.abs(gradient[1] + 1.6) < 1e-5, "\(gradient)")
    }

    @Test func qacImprovesCartPoleReturnWithinASmallBudget() {
        var config = QActorCriticConfig()
        config.totalSteps = 40_000
        let learner = QActorCritic(config: config) { Environments.make("CartPole-v1")! }
        for _ in 0..<learner.totalIterations { _ = learner.iterate() }
        let random = randomPolicyReturn(episodes: 20)
        let after = mean(evaluate({ Environments.make("CartPole-v1")! }, episodes: 10, act: learner.act))
        #expect(after > 4 * random && after > 100, "greedy return \(after) after \(learner.environmentSteps) steps; random policy \(random)")
    }
}
