import TesseraNN
import TesseraTensor

/// z^B at the first convolution, LRP-γ at the other convolutions, LRP-ε at dense layers — zennit's
/// `EpsilonGammaBox`, the composite Montavon et al. 2019 (Sect. 10.3, Fig. 10.4) recommend for image
/// classifiers.
///
/// As in zennit, z^B goes to the first *convolution*: a network of dense layers only gets ε
/// everywhere. Set `firstLayerKinds: [.convolution, .dense]` to give an MLP on bounded inputs
/// (the digits) z^B at its first layer.
public struct EpsilonGammaBox: Composite {
    /// The lowest and highest input values, for z^B.
    public var low: Float
    public var high: Float
    /// LRP-ε's ε at dense layers.
    public var epsilon: Float
    /// LRP-γ's γ at convolutions.
    public var gamma: Float
    /// The stabiliser of every rule but ε.
    public var stabilizer: Float
    /// The kinds whose first layer takes z^B.
    public var firstLayerKinds: Set<LayerKind>

    public init(low: Float, high: Float, epsilon: Float = 1e-6, gamma: Float = 0.25, stabilizer: Float = 1e-6,
                firstLayerKinds: Set<LayerKind> = [.convolution]) {
        (self.low, self.high, self.epsilon, self.gamma, self.stabilizer) = (low, high, epsilon, gamma, stabilizer)
        self.firstLayerKinds = firstLayerKinds
    }

    public var layerMap: LayerMapComposite {
        let box = BoxRule(low: low, high: high, stabilizer: stabilizer)
        return LayerMapComposite(
            rules: LayerMapComposite.base(stabilizer: stabilizer).merging(
                [.convolution: GammaRule(gamma: gamma, stabilizer: stabilizer), .dense: EpsilonRule(epsilon: epsilon)]) { $1 },
            firstLayerRules: Dictionary(uniqueKeysWithValues: firstLayerKinds.map { ($0, box as any RelevanceRule) }))
    }

    public func rule(for layer: ExplainableLayer, context: inout CompositeContext) -> (any RelevanceRule)? {
        layerMap.rule(for: layer, context: &context)
    }
}
