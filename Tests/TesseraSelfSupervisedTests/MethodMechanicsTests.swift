import Foundation
import Testing
import TesseraNN
import TesseraSelfSupervised
import TesseraTensor

/// The moving parts of SimCLR, BYOL and DINO: what each network sees, where gradients go, and
/// the exact updates of target, teacher and centre.
struct MethodMechanicsTests {
    /// Two noisy views of the same random batch.
    func views(rows: Int = 8, generator: inout RandomGenerator) -> (Tensor, Tensor) {
        let images = Tensor.randomUniform([rows, 64], generator: &generator)
        let view = DigitView()
        return (view(images, generator: &generator), view(images, generator: &generator))
    }

    @Test func simCLRLossIsNTXentOnTheProjections() throws {
        var generator = RandomGenerator(seed: 1)
        let simCLR = try SimCLR(encoder: digitEncoder(generator: &generator),
                                configuration: .init(representationSize: 32, hiddenSize: 32, projectionSize: 16, temperature: 0.2),
                                generator: &generator)
        let (first, second) = views(generator: &generator)
        let output = simCLR.loss(views: (first, second))
        // Projections recomputed outside the model, through the encoder then the head.
        let projections = simCLR.projector(simCLR.encoder(Tensor.concatenate([first, second], alongAxis: 0)))
        let expected = try NTXentLoss(temperature: 0.2)(projections.slice(alongAxis: 0, start: 0, end: 8),
                                                         projections.slice(alongAxis: 0, start: 8, end: 16))
        #expect(abs(output.loss.item - expected.item) <= 1e-5 * abs(expected.item))
        expectClose(output.representations.slice(alongAxis: 0, start: 0, end: 8), simCLR.representation(first), "h is the encoder's output")
        #expect(output.projections.shape == [16, 16])
        output.loss.backward()
        #expect(simCLR.encoder.parameters().allSatisfy { $0.grad != nil }, "the loss trains the encoder")
        #expect(throws: SelfSupervisedError.self) {
            try SimCLR(encoder: digitEncoder(generator: &generator), configuration: .init(representationSize: 32, temperature: 0),
                       generator: &generator)
        }
    }

    @Test func byolTargetStartsAsACopyAndGetsNoGradient() throws {
        var generator = RandomGenerator(seed: 2)
        var encoderGenerator = RandomGenerator(seed: 20)
        let byol = try BYOL(makeEncoder: { digitEncoder(generator: &encoderGenerator) },
                            configuration: .init(representationSize: 32, hiddenSize: 32, projectionSize: 16), generator: &generator)
        let online = byol.onlineEncoder.stateDictionary(), target = byol.targetEncoder.stateDictionary()
        for (name, tensor) in online {
            expectClose(target[name]!, tensor, absolute: 0, relative: 0, "target \(name) starts equal")
            #expect(target[name]! !== tensor && target[name]!.storage !== tensor.storage, "target \(name) is a copy")
        }
        #expect(byol.onlineParameters().allSatisfy { !$0.name.hasPrefix("target") })
        #expect(byol.onlineParameters().count == byol.namedParameters().count - byol.targetEncoder.parameters().count
                    - byol.targetProjector.parameters().count)
        let output = byol.loss(views: views(generator: &generator))
        output.loss.backward()
        let targetParameters = byol.targetEncoder.parameters() + byol.targetProjector.parameters()
        #expect(targetParameters.allSatisfy { $0.grad == nil && !$0.requiresGrad })
        #expect(byol.onlineParameters().allSatisfy { $0.parameter.grad != nil }, "online encoder, projector and predictor all learn")
        #expect(throws: SelfSupervisedError.self) {
            try BYOL(makeEncoder: { digitEncoder(generator: &encoderGenerator) },
                     configuration: .init(representationSize: 32, baseTargetDecay: 1.5), generator: &generator)
        }
        // A factory that builds a different encoder the second time cannot give a copy.
        var calls = 0
        #expect(throws: SelfSupervisedError.self) {
            try BYOL(makeEncoder: { calls += 1; return digitEncoder(outputSize: calls == 1 ? 32 : 31, generator: &encoderGenerator) },
                     configuration: .init(representationSize: 32, hiddenSize: 8, projectionSize: 4), generator: &generator)
        }
    }

    @Test func byolTargetUpdateIsTheMovingAverage() throws {
        var generator = RandomGenerator(seed: 3)
        var encoderGenerator = RandomGenerator(seed: 30)
        let byol = try BYOL(makeEncoder: { digitEncoder(generator: &encoderGenerator) },
                            configuration: .init(representationSize: 32, hiddenSize: 32, projectionSize: 16, baseTargetDecay: 0.9),
                            generator: &generator)
        let optimizer = SGD(parameters: byol.onlineParameters(), learningRate: 0.5)
        try byol.step(views: views(generator: &generator), optimizer: optimizer, step: 0, totalSteps: 10)
        // After one step the networks differ; the next update must give τ·old + (1 − τ)·online.
        let oldTarget = (byol.targetEncoder.stateDictionary().merging(byol.targetProjector.stateDictionary().map { ("p." + $0.key, $0.value) }) { a, _ in a })
            .mapValues { $0.copy() }
        let online = byol.onlineEncoder.stateDictionary().merging(byol.onlineProjector.stateDictionary().map { ("p." + $0.key, $0.value) }) { a, _ in a }
        let decay = try byol.updateTarget(step: 5, totalSteps: 10)
        #expect(abs(decay - BYOLLoss.targetDecay(step: 5, totalSteps: 10, base: 0.9)) < 1e-7 && abs(decay - 0.95) < 1e-6)
        let newTarget = byol.targetEncoder.stateDictionary().merging(byol.targetProjector.stateDictionary().map { ("p." + $0.key, $0.value) }) { a, _ in a }
        var moved = 0
        for (name, parameter) in byol.targetEncoder.namedParameters().map({ ($0.name, $0.parameter) })
            + byol.targetProjector.namedParameters().map({ ("p." + $0.name, $0.parameter) }) {
            let expected = withoutGradients { decay * oldTarget[name]! + (1 - decay) * online[name]! }
            expectClose(parameter, expected, absolute: 1e-6, relative: 1e-5, "target \(name)")
            expectClose(newTarget[name]!, parameter, absolute: 0, relative: 0, name)
            if (oldTarget[name]! - online[name]!).abs().max().item > 1e-4 { moved += 1 }
        }
        #expect(moved > 0, "the check must see online and target differ")
        // Batch-norm statistics are data statistics: the target takes the online network's.
        let onlineBuffers = byol.onlineProjector.stateDictionary()
        for (name, buffer) in byol.targetProjector.namedBuffers() {
            expectClose(buffer, onlineBuffers[name]!, absolute: 0, relative: 0, "target buffer \(name)")
        }
    }

    func smallDINO(centering: Bool = true, sharpening: Bool = true, seed: UInt64) throws -> (DINO, RandomGenerator) {
        var generator = RandomGenerator(seed: seed)
        var backboneGenerator = RandomGenerator(seed: seed + 100)
        let dino = try DINO(makeBackbone: { RowCountingLayer(digitEncoder(generator: &backboneGenerator)) },
                            configuration: .init(representationSize: 32, hiddenSize: 32, bottleneckSize: 16, outputDimensions: 24,
                                                 teacherTemperature: 0.07, warmupTeacherTemperature: 0.04,
                                                 teacherTemperatureWarmupSteps: 10, centering: centering, sharpening: sharpening),
                            generator: &generator)
        return (dino, generator)
    }

    @Test func dinoTeacherSeesOnlyTheGlobalCrops() throws {
        var (dino, generator) = try smallDINO(seed: 4)
        let images = Tensor.randomUniform([5, 64], generator: &generator)
        let global = DigitView(cropSides: 6...8), local = DigitView(cropSides: 3...5)
        let globalCrops = (0..<2).map { _ in global(images, generator: &generator) }
        let localCrops = (0..<4).map { _ in local(images, generator: &generator) }
        let output = dino.loss(globalCrops: globalCrops, localCrops: localCrops, step: 0)
        #expect((dino.teacherBackbone as! RowCountingLayer).rowsSeen == 2 * 5, "two global crops of five images")
        #expect((dino.studentBackbone as! RowCountingLayer).rowsSeen == 6 * 5, "every crop")
        #expect(output.teacherOutputs.count == 2 && output.studentOutputs.count == 6 && output.teacherRowCount == 10)
        output.loss.backward()
        #expect((dino.teacherBackbone.parameters() + dino.teacherHead.parameters()).allSatisfy { $0.grad == nil })
        #expect(dino.studentParameters().allSatisfy { $0.parameter.grad != nil })
    }

    /// The loss, recomputed by hand: the mean over the 2·6 − 2 pairs (teacher crop i, student crop
    /// j ≠ i) of −Σ P_t log P_s; including the same-crop pairs gives another number.
    @Test func dinoLossPairsExcludeTheSameView() throws {
        var (dino, generator) = try smallDINO(seed: 5)
        // A centre that is not zero, so the check also sees it subtracted.
        dino.updateCenter(teacherSum: Tensor.randomNormal([1, 24], generator: &generator), count: 1)
        let images = Tensor.randomUniform([5, 64], generator: &generator)
        let crops = (0..<6).map { index in DigitView(cropSides: index < 2 ? 6...8 : 3...5)(images, generator: &generator) }
        let output = dino.loss(globalCrops: Array(crops.prefix(2)), localCrops: Array(crops.dropFirst(2)), step: 0)
        #expect(output.teacherTemperature == 0.04)
        let targets = output.teacherOutputs.map { (($0 - dino.center) / 0.04).softmax(alongAxis: 1) }
        let logStudent = output.studentOutputs.map { ($0 / 0.1).logSoftmax(alongAxis: 1) }
        func crossEntropy(_ i: Int, _ j: Int) -> Float { (-(targets[i] * logStudent[j]).sum(alongAxes: [1]).mean()).item }
        var different: [Float] = [], all: [Float] = []
        for i in 0..<2 {
            for j in 0..<6 {
                all.append(crossEntropy(i, j))
                if i != j { different.append(crossEntropy(i, j)) }
            }
        }
        #expect(different.count == 10)
        let expected = different.reduce(0, +) / 10
        #expect(abs(output.loss.item - expected) <= 1e-5 * abs(expected))
        #expect(abs(output.loss.item - all.reduce(0, +) / 12) > 1e-3, "same-crop pairs would change the loss")
    }

    /// What a checkpoint holds — `stateDictionary()` (student and teacher), the centre and the
    /// step — is enough: a DINO rebuilt from them takes the next step exactly as the original.
    @Test func dinoResumesFromItsStateAndCentre() throws {
        var (dino, generator) = try smallDINO(seed: 8)
        let optimizer = SGD(parameters: dino.studentParameters(), learningRate: 0.1)
        let images = Tensor.randomUniform([5, 64], generator: &generator)
        let batches = (0..<4).map { _ in (0..<2).map { _ in DigitView()(images, generator: &generator) } }
        for step in 0..<3 { try dino.step(globalCrops: batches[step], optimizer: optimizer, step: step, totalSteps: 10) }
        let (resumed, _) = try smallDINO(seed: 99)
        try resumed.loadStateDictionary(dino.stateDictionary().mapValues { $0.copy() })
        try resumed.restoreCenter(dino.center)
        let resumedOptimizer = SGD(parameters: resumed.studentParameters(), learningRate: 0.1)
        let original = try dino.step(globalCrops: batches[3], optimizer: optimizer, step: 3, totalSteps: 10)
        let again = try resumed.step(globalCrops: batches[3], optimizer: resumedOptimizer, step: 3, totalSteps: 10)
        #expect(original.loss.item == again.loss.item)
        let after = resumed.stateDictionary()
        for (name, tensor) in dino.stateDictionary() { expectClose(after[name]!, tensor, absolute: 0, relative: 0, name) }
        expectClose(resumed.center, dino.center, absolute: 0, relative: 0, "centre")
    }

    @Test func dinoCenterUpdateAndSchedules() throws {
        var (dino, generator) = try smallDINO(seed: 6)
        let optimizer = SGD(parameters: dino.studentParameters(), learningRate: 0.1)
        let images = Tensor.randomUniform([5, 64], generator: &generator)
        let crops = (0..<2).map { _ in DigitView()(images, generator: &generator) }
        let oldCenter = dino.center.copy()
        let output = try dino.step(globalCrops: crops, optimizer: optimizer, step: 0, totalSteps: 10)
        let batchMean = Tensor.concatenate(output.teacherOutputs, alongAxis: 0).mean(alongAxes: [0], keepDims: true)
        expectClose(dino.center, withoutGradients { 0.9 * oldCenter + 0.1 * batchMean }, absolute: 1e-6, "c ← m·c + (1 − m)·mean")
        // Resuming: a saved centre comes back; one of another size is refused.
        let saved = dino.center.copy()
        let (other, _) = try smallDINO(seed: 6)
        try other.restoreCenter(saved)
        expectClose(other.center, saved, absolute: 0, relative: 0, "restored centre")
        #expect(throws: SelfSupervisedError.self) { try other.restoreCenter(Tensor.zeros([1, 5])) }
        // The teacher temperature warms up from 0.04 to 0.07 over 10 steps; without sharpening it is τ_s.
        #expect(dino.teacherTemperature(step: 0) == 0.04 && abs(dino.teacherTemperature(step: 5) - 0.055) < 1e-6)
        #expect(dino.teacherTemperature(step: 10) == 0.07)
        let (flat, _) = try smallDINO(sharpening: false, seed: 7)
        #expect(flat.teacherTemperature(step: 0) == 0.1 && flat.teacherTemperature(step: 50) == 0.1)
        for bad in [DINO.Configuration(representationSize: 32, outputDimensions: 8, teacherTemperature: 0),
                    DINO.Configuration(representationSize: 32, outputDimensions: 8, studentTemperature: -1),
                    DINO.Configuration(representationSize: 32, outputDimensions: 8, centerMomentum: 1)] {
            var backboneGenerator = RandomGenerator(seed: 60)
            #expect(throws: SelfSupervisedError.self) {
                try DINO(makeBackbone: { digitEncoder(generator: &backboneGenerator) }, configuration: bad, generator: &generator)
            }
        }
        // The teacher's momentum follows the cosine from 0.996 to 1.
        #expect(try dino.updateTeacher(step: 10, totalSteps: 10) == 1)
        #expect(abs(try dino.updateTeacher(step: 0, totalSteps: 10) - 0.996) < 1e-7)
        _ = generator
    }
}
