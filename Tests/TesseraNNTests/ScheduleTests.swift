import Testing
import TesseraTensor
@testable import TesseraNN

@Suite struct ScheduleTests {
    let fixture: Fixture

    init() throws {
        fixture = try Fixture("schedules")
    }

    func expectValues(_ schedule: some LearningRateSchedule, _ key: String) throws {
        let expected = try fixture.tensor(key)
        let actual = Tensor((0..<expected.count).map { schedule.learningRate(atStep: $0) })
        expectClose(actual, expected, absolute: 1e-6, key)
    }

    @Test func stepDecayMatchesStepLR() throws {
        try expectValues(StepDecaySchedule(baseLearningRate: 0.1, stepSize: 3, decayFactor: 0.5), "step")
    }

    @Test func cosineWithoutWarmupMatchesCosineAnnealingLR() throws {
        try expectValues(CosineSchedule(baseLearningRate: 0.1, totalSteps: 10, finalLearningRate: 0.01), "cosine")
    }

    @Test func warmupThenCosineRisesLinearlyThenDecaysAndHolds() throws {
        let schedule = CosineSchedule(baseLearningRate: 0.1, warmupSteps: 4, totalSteps: 12, finalLearningRate: 0.02)
        try expectValues(schedule, "warmupCosine")
        #expect(schedule.learningRate(atStep: 0) == 0)
        #expect(schedule.learningRate(atStep: 100) == 0.02)
    }

    @Test func warmupThenLinearDecayMatchesTheFormula() throws {
        try expectValues(LinearSchedule(baseLearningRate: 0.1, warmupSteps: 3, totalSteps: 9, finalLearningRate: 0.01), "warmupLinear")
    }

    @Test func constantScheduleIgnoresTheStep() {
        let schedule = ConstantSchedule(learningRate: 3e-4)
        #expect(schedule.learningRate(atStep: 0) == 3e-4 && schedule.learningRate(atStep: 1_000_000) == 3e-4)
    }
}

@Suite struct ExponentialMovingAverageTests {
    @Test func teacherMovesTowardsStudentWithTheCosineMomentum() {
        var rng = RandomGenerator(seed: 8)
        let student = Sequential(Linear(2, 2, generator: &rng), BatchNorm(featureCount: 2))
        let teacher = Sequential(Linear(2, 2, generator: &rng), BatchNorm(featureCount: 2))
        let ema = ExponentialMovingAverage(teacher: teacher, student: student, baseMomentum: 0.9, totalSteps: 100)
        #expect(teacher.parameters().allSatisfy { !$0.requiresGrad }, "the teacher is frozen")
        #expect(Swift.abs(ema.momentum(atStep: 0) - 0.9) < 1e-6)
        #expect(Swift.abs(ema.momentum(atStep: 50) - 0.95) < 1e-6)
        #expect(ema.momentum(atStep: 100) == 1)

        let before = teacher.parameters().map(\.scalars), target = student.parameters().map(\.scalars)
        _ = student(Tensor([[1, 2], [3, 5]]))  // moves the student's running statistics
        ema.update(step: 0)
        for ((old, new), goal) in zip(zip(before, teacher.parameters().map(\.scalars)), target) {
            for i in old.indices { #expect(Swift.abs(new[i] - (0.9 * old[i] + 0.1 * goal[i])) < 1e-6) }
        }
        #expect(teacher.namedBuffers().map(\.buffer.scalars) == student.namedBuffers().map(\.buffer.scalars))
        let settled = teacher.parameters().map(\.scalars)
        ema.update(step: 100)
        #expect(teacher.parameters().map(\.scalars) == settled, "τ = 1 at the end leaves the teacher unchanged")
    }
}
