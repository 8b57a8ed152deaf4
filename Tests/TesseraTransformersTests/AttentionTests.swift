import Testing
import TesseraNN
import TesseraTensor
@testable import TesseraTransformers

@Suite("Attention")
struct AttentionTests {
    /// Runs one `attention.json` case: loads torch's weights, runs forward and backward with the
    /// same upstream gradient, and compares output, per-head probabilities and every gradient.
    private func checkAgainstTorch(_ name: String, heads: Int = 2, causal: Bool = false) throws {
        let fixture = try Fixture("attention")
        let state = try fixture.tensors(under: "\(name).state")
        let query = try fixture.tensor("\(name).query").requiringGradient()
        let memory = fixture.keys.contains("\(name).memory") ? try fixture.tensor("\(name).memory").requiringGradient() : nil
        var rng = RandomGenerator(seed: 0)
        let attention = MultiHeadAttention(modelDimensions: query.shape[2], headCount: heads,
                                           keyValueDimensions: memory?.shape[2], generator: &rng)
        try attention.loadStateDictionary(state)
        attention.recordsProbabilities = true
        let mask = fixture.keys.contains("\(name).isToken")
            ? AttentionMask.keyPadding(try fixture.tensor("\(name).isToken")) : nil
        let output = attention(query, keyValue: memory, mask: mask, causal: causal)
        expectClose(output, try fixture.tensor("\(name).output"), "\(name) output")
        expectClose(try #require(attention.lastProbabilities), try fixture.tensor("\(name).probabilities"), "\(name) probabilities")
        (output * (try fixture.tensor("\(name).upstream"))).sum().backward()
        expectClose(try #require(query.grad), try fixture.tensor("\(name).queryGrad"), "\(name) query gradient")
        if let memory {
            expectClose(try #require(memory.grad), try fixture.tensor("\(name).memoryGrad"), "\(name) memory gradient")
        }
        let expectedGradients = try fixture.tensors(under: "\(name).grad")
        for (parameterName, parameter) in attention.namedParameters() {
            expectClose(try #require(parameter.grad, "\(parameterName) has no gradient"),
                        try #require(expectedGradients[parameterName]), "\(name) gradient of \(parameterName)")
        }
    }

    @Test func selfAttentionMatchesTorch() throws { try checkAgainstTorch("self") }
    @Test func causalSelfAttentionMatchesTorch() throws { try checkAgainstTorch("causal", causal: true) }
    @Test func paddedSelfAttentionMatchesTorch() throws { try checkAgainstTorch("padding") }
    @Test func crossAttentionWithOtherKeyWidthMatchesTorch() throws { try checkAgainstTorch("cross") }

    @Test func attentionRowsSumToOne() {
        var rng = RandomGenerator(seed: 3)
        let attention = MultiHeadAttention(modelDimensions: 12, headCount: 3, generator: &rng)
        attention.recordsProbabilities = true
        let x = Tensor.randomNormal([2, 6, 12], standardDeviation: 3, generator: &rng)
        let isToken = Tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]])
        _ = attention(x, mask: AttentionMask.keyPadding(isToken), causal: true)
        let rowSums = attention.lastProbabilities!.sum(alongAxes: [-1]).scalars
        #expect(rowSums.count == 2 * 3 * 6)
        #expect(rowSums.allSatisfy { Swift.abs($0 - 1) < 1e-5 }, "row sums \(rowSums)")
    }

    /// Changing the tokens after position t must leave the outputs at positions ≤ t bit-for-bit
    /// unchanged, through a whole causal stack (attention, feed-forward, layer norms).
    @Test func causalMaskHidesFutureTokens() {
        var rng = RandomGenerator(seed: 11)
        let configuration = BlockConfiguration(modelDimensions: 16, headCount: 4, feedForwardDimensions: 32)
        let stack = TransformerEncoder(configuration, layerCount: 2, generator: &rng)
        let x = Tensor.randomNormal([2, 8, 16], generator: &rng)
        let changed = x.copy()
        let future = Tensor.randomNormal([2, 3, 16], standardDeviation: 5, generator: &rng)
        for batch in 0..<2 {
            for position in 5..<8 {
                for feature in 0..<16 {
                    changed.storage.pointer[(batch * 8 + position) * 16 + feature] = future.storage.pointer[(batch * 3 + position - 5) * 16 + feature]
                }
            }
        }
        let before = stack(x, causal: true), after = stack(changed, causal: true)
        let earlierBefore = before.slice(alongAxis: 1, start: 0, end: 5).scalars
        let earlierAfter = after.slice(alongAxis: 1, start: 0, end: 5).scalars
        #expect(earlierBefore == earlierAfter, "an earlier output moved when only future tokens changed")
        #expect(before.slice(alongAxis: 1, start: 5, end: 8).scalars != after.slice(alongAxis: 1, start: 5, end: 8).scalars,
                "the changed positions themselves must change (or the test proves nothing)")
    }

    /// Changing what sits at padding positions must leave every real position's output unchanged.
    @Test func paddingMaskHidesPaddingTokens() {
        var rng = RandomGenerator(seed: 12)
        let configuration = BlockConfiguration(modelDimensions: 16, headCount: 2, feedForwardDimensions: 32,
                                               normalization: .postNorm)
        let stack = TransformerEncoder(configuration, layerCount: 2, generator: &rng)
        let isToken = Tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]])
        let mask = AttentionMask.keyPadding(isToken)
        let x = Tensor.randomNormal([2, 6, 16], generator: &rng)
        let changed = x.copy()
        for position in 4..<6 {
            for feature in 0..<16 { changed.storage.pointer[(6 + position) * 16 + feature] += 10 }
        }
        let before = stack(x, mask: mask), after = stack(changed, mask: mask)
        #expect(before.select(alongAxis: 0, index: 0).scalars == after.select(alongAxis: 0, index: 0).scalars)
        #expect(before.select(alongAxis: 0, index: 1).slice(alongAxis: 0, start: 0, end: 4).scalars
                == after.select(alongAxis: 0, index: 1).slice(alongAxis: 0, start: 0, end: 4).scalars,
                "a real token's output moved when only padding changed")
    }

    @Test func causalMaskIsBottomRightAligned() {
        let mask = AttentionMask.causal(queries: 2, keys: 4)
        #expect(mask.scalars == [1, 1, 1, 0, 1, 1, 1, 1])
    }

    @Test func attentionProbabilitiesAreReadByLayerName() {
        var rng = RandomGenerator(seed: 4)
        let stack = TransformerEncoder(BlockConfiguration(modelDimensions: 8, headCount: 2), layerCount: 3, generator: &rng)
        #expect(stack.attentionProbabilities().isEmpty)
        stack.recordAttentionProbabilities()
        _ = stack(Tensor.randomNormal([1, 5, 8], generator: &rng))
        let maps = stack.attentionProbabilities()
        #expect(maps.map(\.name) == ["layers.0.attention", "layers.1.attention", "layers.2.attention"])
        #expect(maps.allSatisfy { $0.probabilities.shape == [1, 2, 5, 5] })
        stack.recordAttentionProbabilities(false)
        #expect(stack.attentionProbabilities().isEmpty)
    }
}
