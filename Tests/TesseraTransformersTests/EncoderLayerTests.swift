import Testing
import TesseraNN
import TesseraTensor
@testable import TesseraTransformers

@Suite("Encoder layer")
struct EncoderLayerTests {
    /// One `encoder_layer.json` case against `torch.nn.TransformerEncoderLayer` (d 8, 2 heads, FFN 16).
    private func checkAgainstTorch(_ name: String, normalization: NormalizationPlacement, activation: Activation) throws {
        let fixture = try Fixture("encoder_layer")
        var rng = RandomGenerator(seed: 0)
        let layer = TransformerEncoderLayer(
            BlockConfiguration(modelDimensions: 8, headCount: 2, feedForwardDimensions: 16, activation: activation,
                               normalization: normalization), generator: &rng)
        try layer.loadStateDictionary(try fixture.tensors(under: "\(name).state"))
        let input = try fixture.tensor("\(name).input").requiringGradient()
        let mask = fixture.keys.contains("\(name).isToken")
            ? AttentionMask.keyPadding(try fixture.tensor("\(name).isToken")) : nil
        let output = layer(input, mask: mask)
        expectClose(output, try fixture.tensor("\(name).output"), absolute: 2e-5, "\(name) output")
        (output * (try fixture.tensor("\(name).upstream"))).sum().backward()
        expectClose(try #require(input.grad), try fixture.tensor("\(name).inputGrad"), absolute: 5e-5, "\(name) input gradient")
        let expected = try fixture.tensors(under: "\(name).grad")
        for (parameterName, parameter) in layer.namedParameters() {
            expectClose(try #require(parameter.grad), try #require(expected[parameterName]), absolute: 5e-5,
                        "\(name) gradient of \(parameterName)")
        }
    }

    @Test func preNormReLUMatchesTorch() throws { try checkAgainstTorch("pre_relu", normalization: .preNorm, activation: .relu) }
    @Test func preNormGELUMatchesTorch() throws { try checkAgainstTorch("pre_gelu", normalization: .preNorm, activation: .gelu) }
    @Test func postNormReLUMatchesTorch() throws { try checkAgainstTorch("post_relu", normalization: .postNorm, activation: .relu) }
    @Test func postNormGELUMatchesTorch() throws { try checkAgainstTorch("post_gelu", normalization: .postNorm, activation: .gelu) }
    @Test func postNormWithPaddingMatchesTorch() throws {
        try checkAgainstTorch("post_relu_padding", normalization: .postNorm, activation: .relu)
    }

    @Test func parameterNamesFollowTheModuleTree() {
        var rng = RandomGenerator(seed: 0)
        let layer = TransformerEncoderLayer(BlockConfiguration(modelDimensions: 8, headCount: 2), generator: &rng)
        let names = layer.namedParameters().map(\.name)
        #expect(names.first == "attention.query.weight")
        #expect(names.contains("feedForward.expand.weight") && names.contains("feedForwardNorm.bias"))
        #expect(names.count == 16)
    }
}
