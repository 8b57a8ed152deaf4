import Foundation
import Testing
import TesseraSelfSupervised
import TesseraTensor

/// The losses of SimCLR, BYOL and DINO and their gradients against PyTorch written from the papers
/// (Tests/Fixtures/fixtures_selfsupervised.py), finite differences, and the distributed forms.
struct LossTests {
    let fixture: Fixture

    init() throws {
        fixture = try Fixture("selfsupervised")
    }

    /// The loss and its gradient through autograd, for inputs made leaves.
    func lossAndGradients(_ inputs: [Tensor], _ loss: ([Tensor]) -> Tensor) -> (Tensor, [Tensor]) {
        let leaves = inputs.map { $0.copy().requiringGradient() }
        let value = loss(leaves)
        value.backward()
        return (value, leaves.map { $0.grad! })
    }

    @Test func ntXentMatchesPyTorch() throws {
        let temperature = try fixture.tensor("ntxent.temperature").scalars[0]
        let ntXent = try NTXentLoss(temperature: temperature)
        let (loss, gradients) = lossAndGradients([try fixture.tensor("ntxent.z1"), try fixture.tensor("ntxent.z2")]) { ntXent($0[0], $0[1]) }
        expectClose(loss.reshape([1]), try fixture.tensor("ntxent.loss"), "loss")
        expectClose(gradients[0], try fixture.tensor("ntxent.grad_z1"), "grad z1")
        expectClose(gradients[1], try fixture.tensor("ntxent.grad_z2"), "grad z2")
    }

    @Test func ntXentGradientMatchesFiniteDifferences() throws {
        let ntXent = try NTXentLoss(temperature: 0.5)
        let z2 = try fixture.tensor("ntxent.z2")
        expectGradientMatchesFiniteDifferences(try fixture.tensor("ntxent.z1"), step: 1e-2, tolerance: 2e-2, "NT-Xent") { ntXent($0, z2) }
    }

    /// Split into two processes' queries against the gathered keys, the summed shares equal the
    /// one-process loss, so their gradients average to the global batch's.
    @Test func ntXentSharesOverProcessesSumToTheGlobalLoss() throws {
        let ntXent = try NTXentLoss(temperature: 0.3)
        let (z1, z2) = (try fixture.tensor("ntxent.z1"), try fixture.tensor("ntxent.z2"))
        let whole = ntXent(z1, z2).item
        let keys = Tensor.concatenate([z1, z2], alongAxis: 0)
        // Process 0 owns samples 0 and 1 (rows 0, 1 and 4, 5), process 1 samples 2 and 3.
        let shares = [[0, 1, 4, 5], [2, 3, 6, 7]].map { rows in
            ntXent.loss(queries: keys.indexSelect(alongAxis: 0, indices: Tensor(rows.map(Float.init))), rows: rows, keys: keys,
                        normalizingCount: 8).item
        }
        #expect(abs(shares[0] + shares[1] - whole) <= 1e-5 * abs(whole))
    }

    /// The notes: a low temperature concentrates each anchor's distribution on its nearest
    /// candidates, a high one spreads it toward the uniform log(2N − 1).
    @Test func lowerTemperatureLowersTheSimilarityEntropy() throws {
        var generator = RandomGenerator(seed: 5)
        let embeddings = Tensor.randomNormal([32, 8], generator: &generator)
        let entropies = [0.05, 0.1, 0.5, 1, 10].map { NTXentLoss.similarityEntropy(embeddings, temperature: Float($0)) }
        #expect(zip(entropies, entropies.dropFirst()).allSatisfy { $0 < $1 }, "\(entropies)")
        #expect(abs(entropies.last! - log(31)) < 0.01)
        #expect(throws: SelfSupervisedError.self) { try NTXentLoss(temperature: 0) }
    }

    @Test func byolMatchesPyTorchAndStopsTheTargetGradient() throws {
        let (t1, t2) = (try fixture.tensor("byol.t1").requiringGradient(), try fixture.tensor("byol.t2").requiringGradient())
        let (loss, gradients) = lossAndGradients([try fixture.tensor("byol.p1"), try fixture.tensor("byol.p2")]) {
            BYOLLoss.symmetric(predictions: ($0[0], $0[1]), targets: (t1, t2))
        }
        expectClose(loss.reshape([1]), try fixture.tensor("byol.loss"), "loss")
        expectClose(gradients[0], try fixture.tensor("byol.grad_p1"), "grad p1")
        expectClose(gradients[1], try fixture.tensor("byol.grad_p2"), "grad p2")
        #expect(t1.grad == nil && t2.grad == nil, "the target must get no gradient")
        #expect(BYOLLoss.targetDecay(step: 0, totalSteps: 100, base: 0.996) == 0.996)
        #expect(abs(BYOLLoss.targetDecay(step: 50, totalSteps: 100, base: 0.996) - 0.998) < 1e-6)
        #expect(BYOLLoss.targetDecay(step: 100, totalSteps: 100, base: 0.996) == 1)
    }

    @Test func dinoMatchesPyTorchAndUpdatesTheCenter() throws {
        let temperatures = try fixture.tensor("dino.temperatures").scalars
        let momentum = try fixture.tensor("dino.center_momentum").scalars[0]
        var dino = try withCenter(try fixture.tensor("dino.center"), momentum: momentum, temperature: temperatures[0])
        expectClose(dino.center, try fixture.tensor("dino.center"), "starting centre")
        let teachers = [try fixture.tensor("dino.teacher0"), try fixture.tensor("dino.teacher1")]
        let students = try (0..<4).map { try fixture.tensor("dino.student\($0)") }
        let (loss, gradients) = lossAndGradients(students) { dino(student: $0, teacher: teachers, teacherTemperature: temperatures[1]) }
        expectClose(loss.reshape([1]), try fixture.tensor("dino.loss"), "loss")
        for index in 0..<4 { expectClose(gradients[index], try fixture.tensor("dino.grad_student\(index)"), "grad student \(index)") }

        let sum = withoutGradients { Tensor.concatenate(teachers, alongAxis: 0).sum(alongAxes: [0], keepDims: true) }
        dino.updateCenter(teacherSum: sum, count: 6)
        expectClose(dino.center, try fixture.tensor("dino.new_center"), "updated centre")
        #expect(DINOLoss.teacherTemperature(epoch: 0, warmupEpochs: 30, start: 0.04, end: 0.07) == 0.04)
        #expect(abs(DINOLoss.teacherTemperature(epoch: 15, warmupEpochs: 30, start: 0.04, end: 0.07) - 0.055) < 1e-7)
        #expect(DINOLoss.teacherTemperature(epoch: 40, warmupEpochs: 30, start: 0.04, end: 0.07) == 0.07)
    }

    /// A loss whose centre is `center` and whose updates use `momentum`.
    func withCenter(_ center: Tensor, momentum: Float, temperature: Float) throws -> DINOLoss {
        var loss = try DINOLoss(outputDimensions: center.count, studentTemperature: temperature, centerMomentum: momentum)
        // One update with sum = c / (1 − m) · 1 row moves the zero centre to exactly c.
        loss.updateCenter(teacherSum: withoutGradients { center / (1 - momentum) }, count: 1)
        return loss
    }
}
