import Testing
import TesseraExplain
import TesseraNN
import TesseraTensor

/// Each rule on one dense and one convolutional layer against zennit 0.5.1, from a random
/// mixed-sign input and a random output relevance (Tests/Fixtures/fixtures_explain.py).
struct RuleTests {
    let fixture: Fixture

    init() throws {
        fixture = try Fixture("explain")
    }

    func rule(_ name: String) throws -> any RelevanceRule {
        let p = try fixture.tensor("rule/params").scalars  // epsilon, gamma, low, high, alpha, beta
        switch name {
        case "zero": return ZeroRule()
        case "epsilon": return EpsilonRule(epsilon: p[0])
        case "gamma": return GammaRule(gamma: p[1])
        case "zplus": return AlphaBetaRule.zPlus()
        case "alpha2beta1": return AlphaBetaRule.alpha2Beta1()
        case "alphabeta": return AlphaBetaRule(alpha: p[4], beta: p[5])
        case "box": return BoxRule(low: p[2], high: p[3])
        case "flat": return FlatRule()
        default: return WSquareRule()
        }
    }

    @Test(arguments: ["zero", "epsilon", "gamma", "zplus", "alpha2beta1", "alphabeta", "box", "flat", "wsquare"], ["dense", "conv"])
    func ruleMatchesZennit(_ name: String, _ layerName: String) throws {
        let layer: any Layer = layerName == "dense" ? try linear(fixture, "rule/dense/0") : try convolution(fixture, "rule/conv/0")
        let input = try fixture.tensor("rule/\(layerName)/input")
        let relevance = try rule(name).inputRelevance(layer: layer, input: input, output: layer(input),
                                                      relevance: try fixture.tensor("rule/\(layerName)/upstream"))
        expectClose(relevance, try fixture.tensor("rule/\(name)/\(layerName)"), absolute: 1e-4, relative: 1e-3, "\(name) on \(layerName)")
    }

    @Test func averagePoolingSharesByContribution() throws {
        let (input, upstream) = (try fixture.tensor("rule/pool/input"), try fixture.tensor("rule/pool/upstream"))
        let pool = AvgPool2d(kernelSize: 2)
        let relevance = try NormRule().inputRelevance(layer: pool, input: input, output: pool(input), relevance: upstream)
        expectClose(relevance, try fixture.tensor("rule/norm/averagePool"), absolute: 1e-5, relative: 1e-4)
    }

    @Test func maxPoolingGivesEachWindowsRelevanceToItsMaximum() throws {
        let (input, upstream) = (try fixture.tensor("rule/pool/input"), try fixture.tensor("rule/pool/upstream"))
        let pool = MaxPool2d(kernelSize: 2)
        let relevance = try WinnerTakesAllRule().inputRelevance(layer: pool, input: input, output: pool(input), relevance: upstream)
        expectClose(relevance, try fixture.tensor("rule/gradient/maxPool"), absolute: 1e-6, relative: 1e-5)
        // One nonzero per 2×2 window: 2 samples × 3 channels × 4 windows.
        #expect(relevance.scalars.filter { $0 != 0 }.count == 24)
    }

    @Test func affineRuleRefusesALayerWithoutWeights() {
        #expect(throws: ExplainError.self) {
            try EpsilonRule().inputRelevance(layer: ReLU(), input: Tensor.ones([1, 3]), output: Tensor.ones([1, 3]), relevance: Tensor.ones([1, 3]))
        }
    }

    @Test func foldedBatchNormComputesAsConvolutionThenNorm() throws {
        let conv = try convolution(fixture, "cnn/0")
        let norm = try batchNorm(fixture, "cnn/1")
        norm.mode = .evaluation
        let input = try fixture.tensor("cnn/input")
        let folded = FoldedAffineLayer(conv, foldingIn: norm)
        expectClose(folded(input), norm(conv(input)), absolute: 1e-5, relative: 1e-4)
        #expect(folded.weight.shape == conv.weight.shape && folded.isConvolution)
    }
}
