import Testing
import TesseraTensor
@testable import TesseraNN

/// Layers loaded with PyTorch's weights through `loadStateDictionary` compute PyTorch's outputs
/// and gradients.
@Suite struct LayerFixtureTests {
    let fixture: Fixture
    var rng = RandomGenerator(seed: 11)

    init() throws {
        fixture = try Fixture("layers")
    }

    /// Loads the case's torch state, runs forward and backward with the stored upstream gradient,
    /// and compares output, input gradient and every parameter gradient.
    func check(_ layer: some Layer, _ name: String, inputHasGradient: Bool = true, tolerance: Float = 1e-5) throws {
        try layer.loadStateDictionary(fixture.dictionary(prefix: "\(name).state."))
        try checkForward(layer, name, inputHasGradient: inputHasGradient, tolerance: tolerance)
    }

    func checkForward(_ layer: some Layer, _ name: String, inputHasGradient: Bool = true, tolerance: Float = 1e-5) throws {
        layer.zeroGradients()
        let input = try fixture.tensor("\(name).input")
        if inputHasGradient { input.requiresGrad = true }
        let output = layer(input)
        expectClose(output, try fixture.tensor("\(name).output"), absolute: tolerance, "\(name) output")
        (output * (try fixture.tensor("\(name).upstream"))).sum().backward()
        if inputHasGradient {
            expectClose(try #require(input.grad), try fixture.tensor("\(name).inputGrad"), absolute: tolerance, "\(name) input gradient")
        }
        for (parameterName, parameter) in layer.namedParameters() {
            let gradient = try #require(parameter.grad, "\(name).\(parameterName) has no gradient")
            expectClose(gradient, try fixture.tensor("\(name).grad.\(parameterName)"), absolute: tolerance, "\(name) \(parameterName) gradient")
        }
    }

    @Test mutating func linearMatchesTorchOnBatchedInput() throws {
        try check(Linear(4, 3, generator: &rng), "linear")
    }

    @Test func layerNormMatchesTorchOverTwoTrailingAxes() throws {
        try check(LayerNorm([3, 4]), "layerNorm")
    }

    @Test func groupNormMatchesTorch() throws {
        try check(GroupNorm(groupCount: 2, channelCount: 4), "groupNorm")
    }

    @Test mutating func embeddingAccumulatesGradientOfRepeatedIndices() throws {
        try check(Embedding(vocabularySize: 7, dimensions: 3, generator: &rng), "embedding", inputHasGradient: false)
    }

    @Test(arguments: ["batchNorm1d", "batchNorm1dLength", "batchNorm2d"])
    func batchNormMatchesTorchInTrainingThenEvaluation(name: String) throws {
        let channels = try fixture.tensor("\(name).state.weight").count
        let norm = BatchNorm(featureCount: channels)
        try check(norm, name, tolerance: 2e-5)
        expectClose(norm.runningMean.value, try fixture.tensor("\(name).runningMeanAfter"), "\(name) running mean")
        expectClose(norm.runningVariance.value, try fixture.tensor("\(name).runningVarianceAfter"), "\(name) running variance")
        #expect(norm.batchesTracked.value.item == 1)
        norm.eval()
        try checkForward(norm, name + "Eval", tolerance: 2e-5)
        #expect(norm.batchesTracked.value.item == 1, "evaluation must not update the statistics")
    }

    @Test mutating func conv1dMatchesTorchWithStridePaddingAndGroups() throws {
        try check(Conv1d(4, 6, kernelSize: 3, stride: 2, padding: 1, groups: 2, generator: &rng), "conv1d", tolerance: 2e-5)
    }

    @Test mutating func conv2dMatchesTorchWithRectangularKernelAndDilation() throws {
        try check(Conv2d(3, 4, kernelSize: [3, 2], stride: [2, 1], padding: 1, dilation: [1, 2], generator: &rng),
                  "conv2d", tolerance: 2e-5)
    }

    @Test mutating func convTranspose2dMatchesTorchWithOutputPadding() throws {
        try check(ConvTranspose2d(4, 2, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1, generator: &rng),
                  "convTranspose2d", tolerance: 2e-5)
    }

    @Test mutating func preActivationBlockWithProjectionMatchesTorch() throws {
        let block = PreActivationBlock(inputChannels: 2, outputChannels: 4, stride: 2, generator: &rng)
        #expect(block.shortcut != nil)
        try check(block, "preActivationBlock", tolerance: 1e-4)
    }
}
