import Foundation
import TesseraData
import TesseraNN
import TesseraSelfSupervised
import TesseraTensor

/// The digits flattened to `[N, 64]` rows in [0, 1], the fixed 80/20 split the method tests share.
func flatDigits() throws -> DatasetSplit {
    try Digits.split(layout: .flat, seed: 0)
}

/// `count` random rows of `inputs` (`[N, 64]`), drawn with replacement.
func randomBatch(_ inputs: Tensor, count: Int, generator: inout RandomGenerator) -> Tensor {
    let rows = (0..<count).map { _ in Float(generator.nextInt(below: inputs.shape[0])) }
    return inputs.indexSelect(alongAxis: 0, indices: Tensor(rows))
}

/// A random view of flattened 8×8 digits, written on arrays so a few hundred steps of views stay
/// cheap in a debug build: a square crop whose side is drawn from `cropSides`, at a random place,
/// scaled back to 8×8 by nearest neighbour (a random resized crop); then a brightness factor in
/// `brightness` and Gaussian noise of deviation `noise`. Small `cropSides` make DINO's local crops.
struct DigitView {
    var cropSides: ClosedRange<Int> = 6...8
    var brightness: ClosedRange<Float> = 0.8...1.2
    var noise: Float = 0.1

    func callAsFunction(_ images: Tensor, generator: inout RandomGenerator) -> Tensor {
        let source = images.scalars
        let count = images.shape[0]
        var output = [Float](repeating: 0, count: count * 64)
        for n in 0..<count {
            let side = cropSides.lowerBound + generator.nextInt(below: cropSides.count)
            let top = generator.nextInt(below: 8 - side + 1), left = generator.nextInt(below: 8 - side + 1)
            let scale = brightness.lowerBound + (brightness.upperBound - brightness.lowerBound) * generator.nextUniform()
            for row in 0..<8 {
                for column in 0..<8 {
                    let sourceRow = top + row * side / 8, sourceColumn = left + column * side / 8
                    output[n * 64 + row * 8 + column] = scale * source[n * 64 + sourceRow * 8 + sourceColumn]
                        + noise * generator.nextNormal()
                }
            }
        }
        return Tensor(shape: [count, 64], scalars: output)
    }
}

/// The small encoder of the method tests: the pixels standardised, then an MLP 64 → 128 →
/// `outputSize` with ReLU.
func digitEncoder(outputSize: Int = 32, generator: inout RandomGenerator) -> Sequential {
    Sequential(PixelStandardization(), MLP(sizes: [64, 128, outputSize], activation: .relu, generator: &generator))
}

/// `(x − μ)/σ` with the per-pixel mean μ of all digits and their overall deviation σ, as buffers (so
/// moving averages and optimizers leave them alone). Without it every digit, being mostly the same
/// dark border around a bright middle, starts at nearly the same point of a random encoder's
/// output, which slows every method's escape from the collapsed start.
final class PixelStandardization: Layer {
    let mean: Buffer
    let deviation: Buffer

    init() {
        let digits = try! Digits.load(layout: .flat).inputs
        mean = Buffer(digits.mean(alongAxes: [0], keepDims: true))
        deviation = Buffer(digits.standardDeviation().reshape([1, 1]))
    }

    func callAsFunction(_ input: Tensor) -> Tensor {
        (input - mean.value) / deviation.value
    }
}

/// Test accuracy of a multinomial logistic regression trained on frozen features: the features are
/// standardised with the training set's statistics, then a linear layer is fitted with Adam on the
/// full training set (`steps` full-batch steps at `learningRate`, weight decay `1e-4`).
func linearProbeAccuracy(trainFeatures: Tensor, trainLabels: Tensor, testFeatures: Tensor, testLabels: Tensor,
                         steps: Int = 100, learningRate: Float = 0.05, seed: UInt64 = 11) -> Double {
    let (mean, deviation) = withoutGradients {
        (trainFeatures.mean(alongAxes: [0], keepDims: true), trainFeatures.standardDeviation(alongAxes: [0], keepDims: true) + 1e-6)
    }
    let (train, test) = withoutGradients { ((trainFeatures - mean) / deviation, (testFeatures - mean) / deviation) }
    var generator = RandomGenerator(seed: seed)
    let probe = Linear(train.shape[1], Digits.classCount, generator: &generator)
    let optimizer = Adam(parameters: probe.namedParameters(), learningRate: learningRate, weightDecay: 1e-4)
    for _ in 0..<steps {
        let loss = probe(train).softmaxCrossEntropy(labels: trainLabels).mean()
        optimizer.zeroGradients()
        loss.backward()
        optimizer.step()
    }
    let predictions = withoutGradients { probe(test).argmax(alongAxis: 1).scalars }
    let correct = zip(predictions, testLabels.scalars).filter { $0 == $1 }.count
    return Double(correct) / Double(testLabels.count)
}

/// A layer that counts the rows it is called with, to see which crops a network is shown.
final class RowCountingLayer: Layer {
    let body: any Layer
    var rowsSeen = 0

    init(_ body: any Layer) { self.body = body }

    func callAsFunction(_ input: Tensor) -> Tensor {
        rowsSeen += input.shape[0]
        return body(input)
    }
}

/// Seconds taken by `body`, and its result.
func timed<Result>(_ body: () throws -> Result) rethrows -> (Result, Double) {
    let start = Date()
    let result = try body()
    return (result, Date().timeIntervalSince(start))
}
