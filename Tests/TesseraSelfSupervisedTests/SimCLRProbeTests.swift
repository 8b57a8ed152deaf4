import Foundation
import Testing
import TesseraNN
import TesseraSelfSupervised
import TesseraTensor

/// SimCLR learns something: 200 steps on the digits, and a linear probe on the frozen
/// representation `h` beats the same probe on the untrained encoder's.
struct SimCLRProbeTests {
    /// The probe sees the labels of 10% of the training digits (143, the setting), where a
    /// learned representation matters most; it is tested on the 359 held-out digits. Measured:
    /// 84.7% against 78.6% for the same encoder at its initial weights (with every label: 94.4%
    /// against 91.6% at τ = 0.5 and a learning rate of 1e-3). The loss falls from 4.60 to about 3.6.
    @Test func simCLRRepresentationBeatsTheRandomEncoderUnderALinearProbe() throws {
        let digits = try flatDigits()
        var generator = RandomGenerator(seed: 1)
        var encoderGenerator = RandomGenerator(seed: 2)
        let simCLR = try SimCLR(encoder: digitEncoder(generator: &encoderGenerator),
                                configuration: .init(representationSize: 32, hiddenSize: 64, projectionSize: 16, temperature: 0.5),
                                generator: &generator)
        var randomGenerator = RandomGenerator(seed: 2)
        let untrained = digitEncoder(generator: &randomGenerator)   // the same initial weights, never trained
        let labelled = digits.train.count / 10
        func probe(_ encoder: (Tensor) -> Tensor) -> Double {
            // Frozen features: computed without a graph, so the probe trains only its own layer.
            let inputs = digits.train.inputs.slice(alongAxis: 0, start: 0, end: labelled)
            let (train, test) = withoutGradients { (encoder(inputs), encoder(digits.test.inputs)) }
            return linearProbeAccuracy(trainFeatures: train, trainLabels: digits.train.labels.slice(alongAxis: 0, start: 0, end: labelled),
                                       testFeatures: test, testLabels: digits.test.labels)
        }
        let optimizer = Adam(parameters: simCLR.namedParameters(), learningRate: 3e-3)
        let view = DigitView()
        var first: SimCLR.Output?, last: SimCLR.Output?
        let (_, seconds) = timed {
            for step in 0..<200 {
                let images = randomBatch(digits.train.inputs, count: 64, generator: &generator)
                last = simCLR.step(views: (view(images, generator: &generator), view(images, generator: &generator)), optimizer: optimizer)
                if step == 0 { first = last }
            }
        }
        let trainedAccuracy = probe { simCLR.representation($0) }
        let randomAccuracy = probe { untrained($0) }
        let monitors = last!.monitors
        print("SimCLR: loss \(first!.loss.item) → \(last!.loss.item) in \(seconds) s; probe on 10% of the labels \(trainedAccuracy) against \(randomAccuracy) for the untrained encoder; representation std \(monitors.meanStandardDeviation), effective rank \(monitors.effectiveRank)")
        #expect(last!.loss.item < first!.loss.item - 0.5)
        #expect(trainedAccuracy > randomAccuracy + 0.04)
        #expect(trainedAccuracy > 0.8)
    }
}
