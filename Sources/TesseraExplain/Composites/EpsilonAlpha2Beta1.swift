import TesseraNN
import TesseraTensor

/// α2β1 at convolutions, LRP-ε at dense layers — zennit's `EpsilonAlpha2Beta1` (Kohlbrenner et al.,
/// IJCNN 2020; the αβ rule of Bach et al. 2015).
public struct EpsilonAlpha2Beta1: Composite {
    /// LRP-ε's ε at dense layers.
    public var epsilon: Float
    /// The stabiliser of αβ and the pooling rules.
    public var stabilizer: Float

    public init(epsilon: Float = 1e-6, stabilizer: Float = 1e-6) {
        self.epsilon = epsilon
        self.stabilizer = stabilizer
    }

    public var layerMap: LayerMapComposite {
        LayerMapComposite(rules: LayerMapComposite.base(stabilizer: stabilizer).merging(
            [.convolution: AlphaBetaRule.alpha2Beta1(stabilizer: stabilizer), .dense: EpsilonRule(epsilon: epsilon)]) { $1 })
    }

    public func rule(for layer: ExplainableLayer, context: inout CompositeContext) -> (any RelevanceRule)? {
        layerMap.rule(for: layer, context: &context)
    }
}
