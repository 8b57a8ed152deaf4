import Testing
@testable import TesseraTensor

/// Loads the tensors of a first-order fixture case (`<prefix>/input`, `/weight`, `/bias` when
/// present), runs `apply` on them and compares the output and the gradients of `sum(output · upstream)`
/// with PyTorch's.
func expectFirstOrderMatchesFixture(_ fixture: Fixture, _ prefix: String, inputs names: [String] = ["input", "weight", "bias"],
                                    absolute: Float = 1e-4, relative: Float = 1e-4,
                                    sourceLocation: SourceLocation = #_sourceLocation,
                                    _ apply: ([String: Tensor]) -> Tensor) throws {
    var inputs: [String: Tensor] = [:]
    for name in names where fixture.keys.contains("\(prefix)/\(name)") {
        inputs[name] = try fixture.tensor("\(prefix)/\(name)").requiringGradient()
    }
    let output = apply(inputs)
    expectClose(output, try fixture.tensor("\(prefix)/output"), absolute: absolute, relative: relative,
                "\(prefix) output", sourceLocation: sourceLocation)
    try (output * fixture.tensor("\(prefix)/upstream")).sum().backward()
    for (name, tensor) in inputs {
        let gradient = try #require(tensor.grad, "\(prefix): no gradient for \(name)", sourceLocation: sourceLocation)
        expectClose(gradient, try fixture.tensor("\(prefix)/grad_\(name)"), absolute: absolute, relative: relative,
                    "\(prefix) gradient of \(name)", sourceLocation: sourceLocation)
    }
}

/// For `L = sum(tanh(function(inputs)) · upstream)`, compares `dL/da` for every input `a` and the
/// gradients of `sum((dL/da)²)` (taken through `createGraph: true`) with PyTorch's.
func expectSecondOrderMatchesFixture(_ fixture: Fixture, _ prefix: String, inputs names: [String],
                                     sourceLocation: SourceLocation = #_sourceLocation,
                                     _ function: ([Tensor]) -> Tensor) throws {
    let inputs = try names.map { try fixture.tensor("\(prefix)/\($0)").requiringGradient() }
    let loss = try (function(inputs).tanh() * fixture.tensor("\(prefix)/upstream")).sum()
    let first = Tensor.gradients(of: loss, withRespectTo: inputs, createGraph: true)
    for (name, gradient) in zip(names, first) {
        expectClose(gradient, try fixture.tensor("\(prefix)/grad_\(name)"), absolute: 1e-4, relative: 1e-3,
                    "\(prefix) d/d\(name)", sourceLocation: sourceLocation)
        let second = Tensor.gradients(of: (gradient * gradient).sum(), withRespectTo: inputs)
        for (other, value) in zip(names, second) {
            expectClose(value, try fixture.tensor("\(prefix)/grad_\(name)_squared_wrt_\(other)"), absolute: 1e-4, relative: 1e-3,
                        "\(prefix) d/d\(other) sum((dL/d\(name))²)", sourceLocation: sourceLocation)
        }
    }
}

@Suite struct ConvolutionTests {
    let fixture: Fixture

    init() throws { fixture = try Fixture("convolution") }

    private func params(_ prefix: String) throws -> [Int] {
        try fixture.tensor("\(prefix)/params").scalars.map { Int($0) }
    }

    @Test(arguments: ["basic", "stride2_padding1", "padding2_dilation2", "nonsquare", "groups2", "groups4_stride2",
                      "depthwise", "depthwise_multiplier2", "pointwise", "stride_exceeds_kernel"])
    func conv2dMatchesPyTorch(_ name: String) throws {
        let p = try params("conv2d/\(name)")
        try expectFirstOrderMatchesFixture(fixture, "conv2d/\(name)") { t in
            t["input"]!.conv2d(weight: t["weight"]!, bias: t["bias"], stride: IntOrPair(p[0], p[1]),
                               padding: IntOrPair(p[2], p[3]), dilation: IntOrPair(p[4], p[5]), groups: p[6])
        }
    }

    @Test(arguments: ["basic", "stride2_dilation2_groups"])
    func conv1dMatchesPyTorch(_ name: String) throws {
        let p = try params("conv1d/\(name)")
        try expectFirstOrderMatchesFixture(fixture, "conv1d/\(name)") { t in
            t["input"]!.conv1d(weight: t["weight"]!, bias: t["bias"], stride: p[0], padding: p[1], dilation: p[2], groups: p[3])
        }
    }

    @Test(arguments: ["stride2_output_padding1", "stride3_output_padding2", "groups2_dilation2", "depthwise"])
    func convTranspose2dMatchesPyTorch(_ name: String) throws {
        let p = try params("convTranspose2d/\(name)")
        try expectFirstOrderMatchesFixture(fixture, "convTranspose2d/\(name)") { t in
            t["input"]!.convTranspose2d(weight: t["weight"]!, bias: t["bias"], stride: IntOrPair(p[0], p[1]),
                                        padding: IntOrPair(p[2], p[3]), outputPadding: IntOrPair(p[4], p[5]),
                                        dilation: IntOrPair(p[6], p[7]), groups: p[8])
        }
    }

    @Test func convTranspose1dMatchesPyTorch() throws {
        let p = try params("convTranspose1d/stride2_output_padding1")
        try expectFirstOrderMatchesFixture(fixture, "convTranspose1d/stride2_output_padding1") { t in
            t["input"]!.convTranspose1d(weight: t["weight"]!, bias: t["bias"], stride: p[0], padding: p[1],
                                        outputPadding: p[2], dilation: p[3], groups: p[4])
        }
    }

    @Test func conv2dSecondOrderGradientsMatchPyTorch() throws {
        let p = try params("second_order/conv2d")
        try expectSecondOrderMatchesFixture(fixture, "second_order/conv2d", inputs: ["input", "weight", "bias"]) { t in
            t[0].conv2d(weight: t[1], bias: t[2], stride: IntOrPair(p[0], p[1]), padding: IntOrPair(p[2], p[3]),
                        dilation: IntOrPair(p[4], p[5]), groups: p[6])
        }
    }

    @Test func convTranspose2dSecondOrderGradientsMatchPyTorch() throws {
        let p = try params("second_order/convTranspose2d")
        try expectSecondOrderMatchesFixture(fixture, "second_order/convTranspose2d", inputs: ["input", "weight", "bias"]) { t in
            t[0].convTranspose2d(weight: t[1], bias: t[2], stride: IntOrPair(p[0], p[1]), padding: IntOrPair(p[2], p[3]),
                                 outputPadding: IntOrPair(p[4], p[5]), dilation: IntOrPair(p[6], p[7]), groups: p[8])
        }
    }

    // MARK: - Finite differences

    @Test func conv2dGradientsMatchFiniteDifferences() {
        var rng = RandomGenerator(seed: 7)
        let input = Tensor.randomNormal([2, 4, 5, 4], generator: &rng)
        let weight = Tensor.randomNormal([4, 2, 3, 2], generator: &rng)
        let bias = Tensor.randomNormal([4], generator: &rng)
        // Squaring the output makes every gradient depend on both operands.
        func loss(_ x: Tensor, _ w: Tensor, _ b: Tensor) -> Tensor {
            let y = x.conv2d(weight: w, bias: b, stride: [2, 1], padding: 1, dilation: [1, 2], groups: 2)
            return (y * y).sum() * 0.01
        }
        expectGradientMatchesFiniteDifferences(input, "input") { loss($0, weight, bias) }
        expectGradientMatchesFiniteDifferences(weight, "weight") { loss(input, $0, bias) }
        expectGradientMatchesFiniteDifferences(bias, "bias") { loss(input, weight, $0) }
    }

    @Test func convTranspose2dGradientsMatchFiniteDifferences() {
        var rng = RandomGenerator(seed: 8)
        let input = Tensor.randomNormal([1, 2, 3, 3], generator: &rng)
        let weight = Tensor.randomNormal([2, 3, 3, 2], generator: &rng)
        func loss(_ x: Tensor, _ w: Tensor) -> Tensor {
            let y = x.convTranspose2d(weight: w, stride: 2, padding: [1, 0], outputPadding: 1)
            return (y * y).sum() * 0.01
        }
        expectGradientMatchesFiniteDifferences(input, "input") { loss($0, weight) }
        expectGradientMatchesFiniteDifferences(weight, "weight") { loss(input, $0) }
    }

    @Test func weightGradientPrimitiveMatchesFiniteDifferencesInBothArguments() {
        var rng = RandomGenerator(seed: 9)
        let input = Tensor.randomNormal([2, 2, 4, 4], generator: &rng)
        let outputGradient = Tensor.randomNormal([2, 3, 2, 2], generator: &rng)
        func loss(_ x: Tensor, _ g: Tensor) -> Tensor {
            let w = Tensor.conv2dWeightGradient(input: x, outputGradient: g, weightShape: [3, 2, 3, 3], stride: 2, padding: 1)
            return (w * w).sum() * 0.01
        }
        expectGradientMatchesFiniteDifferences(input, "input") { loss($0, outputGradient) }
        expectGradientMatchesFiniteDifferences(outputGradient, "output gradient") { loss(input, $0) }
    }

    // MARK: - Behaviour

    /// Stride (1, 2) walks the column matrix row by row; stride 1 with "same" padding copies
    /// whole shifted planes.
    @Test(arguments: [IntOrPair(1, 2), IntOrPair(1)])
    func batchedColumnMatricesGiveThePerSampleResult(stride: IntOrPair) {
        var rng = RandomGenerator(seed: 10)
        let input = Tensor.randomNormal([5, 4, 6, 5], generator: &rng).requiringGradient()
        let weight = Tensor.randomNormal([6, 2, 3, 3], generator: &rng).requiringGradient()
        let bias = Tensor.randomNormal([6], generator: &rng).requiringGradient()
        var geometry = ConvolutionGeometry(convolving: input.shape, weight: weight.shape, bias: bias.shape, stride: stride,
                                           padding: 1, dilation: 1, groups: 2, op: "test")
        let upstream = Tensor.randomNormal(geometry.outputShape, generator: &rng)
        func run(_ geometry: ConvolutionGeometry) -> [Tensor] {
            let output = Tensor.convolution(input, weight, bias, geometry)
            return [output] + Tensor.gradients(of: (output * upstream).sum(), withRespectTo: [input, weight, bias])
        }
        #expect(geometry.samplesPerChunk == 1)
        let perSample = run(geometry)
        for samples in [2, 5] {
            geometry.samplesPerChunk = samples
            for (chunked, reference) in zip(run(geometry), perSample) {
                expectClose(chunked, reference, absolute: 1e-5, "\(samples) samples per chunk")
            }
        }
    }

    @Test func conv1dIsConv2dOfHeightOne() {
        var rng = RandomGenerator(seed: 11)
        let input = Tensor.randomNormal([2, 3, 9], generator: &rng)
        let weight = Tensor.randomNormal([4, 3, 3], generator: &rng)
        let oneDimensional = input.conv1d(weight: weight, stride: 2, padding: 1)
        let twoDimensional = input.unsqueezed(axis: 2).conv2d(weight: weight.unsqueezed(axis: 2), stride: [1, 2], padding: [0, 1])
        #expect(oneDimensional.shape == [2, 4, 5])
        #expect(oneDimensional.scalars == twoDimensional.scalars)
    }

    @Test func convTransposeOutputPaddingRestoresTheStridedInputSize() {
        // A stride-2 convolution maps heights 7 and 8 to 4; output padding 1 recovers 8.
        let input = Tensor.zeros([1, 1, 8, 8])
        let weight = Tensor.ones([1, 1, 3, 3])
        let reduced = input.conv2d(weight: weight, stride: 2, padding: 1)
        #expect(reduced.shape == [1, 1, 4, 4])
        #expect(reduced.convTranspose2d(weight: weight, stride: 2, padding: 1).shape == [1, 1, 7, 7])
        #expect(reduced.convTranspose2d(weight: weight, stride: 2, padding: 1, outputPadding: 1).shape == [1, 1, 8, 8])
    }

    // MARK: - Errors (each stops the process with a message naming the op and the shapes)

    @Test func channelMismatchStopsWithTheShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([1, 3, 5, 5]).conv2d(weight: Tensor.zeros([4, 2, 3, 3]))
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("Tessera conv2d: input of shape [1, 3, 5, 5] has 3 channels but weight of shape [4, 2, 3, 3]"))
    }

    @Test func channelsNotDivisibleByGroupsStop() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([1, 3, 5, 5]).conv2d(weight: Tensor.zeros([4, 1, 3, 3]), groups: 2)
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("Tessera conv2d: input channels 3 (input shape [1, 3, 5, 5]) are not divisible by groups 2"))
    }

    @Test func wrongRankStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([3, 5, 5]).conv2d(weight: Tensor.zeros([4, 3, 3, 3]))
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("Tessera conv2d: needs an input [N, C, H, W], got shape [3, 5, 5]"))
    }

    @Test func kernelLargerThanPaddedInputStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([1, 1, 4, 4]).conv2d(weight: Tensor.zeros([1, 1, 3, 3]), dilation: 2)
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("Tessera conv2d: kernel 3×3 (dilated height extent 5) is larger than the padded input height 4"))
    }

    @Test func nonPositiveStrideStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([1, 1, 4, 4]).convTranspose2d(weight: Tensor.zeros([1, 1, 3, 3]), stride: [1, 0])
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("Tessera convTranspose2d: stride must be positive, got (1, 0)"))
    }
}
