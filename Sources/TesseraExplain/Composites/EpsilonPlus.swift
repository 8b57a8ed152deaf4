import TesseraNN
import TesseraTensor

/// z⁺ (α1β0) at convolutions, LRP-ε at dense layers — zennit's `EpsilonPlus` (Kohlbrenner et al.,
/// "Towards Best Practice in Explaining Neural Network Decisions with LRP", IJCNN 2020).
public struct EpsilonPlus: Composite {
    /// LRP-ε's ε at dense layers.
    public var epsilon: Float
    /// The stabiliser of z⁺ and the pooling rules.
    public var stabilizer: Float

    public init(epsilon: Float = 1e-6, stabilizer: Float = 1e-6) {
        self.epsilon = epsilon
        self.stabilizer = stabilizer
    }

    public var layerMap: LayerMapComposite {
        LayerMapComposite(rules: LayerMapComposite.base(stabilizer: stabilizer).merging(
            [.convolution: AlphaBetaRule.zPlus(stabilizer: stabilizer), .dense: EpsilonRule(epsilon: epsilon)]) { $1 })
    }

    public func rule(for layer: ExplainableLayer, context: inout CompositeContext) -> (any RelevanceRule)? {
        layerMap.rule(for: layer, context: &context)
    }
}
