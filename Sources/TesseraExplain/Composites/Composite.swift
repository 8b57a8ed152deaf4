import Foundation
import TesseraConfig
import TesseraNN
import TesseraTensor

/// A rule for every layer of a network, by the layer's type and position (Montavon et al. 2019,
/// Sect. 10.3: ε in the upper dense layers, γ in the lower convolutions, z^B or w² at the input;
/// zennit calls such an assignment a composite).
///
/// The ``Explainer`` asks once per layer, in forward order, so a composite can give the first layer
/// of a kind its own rule; `context` carries what earlier calls saw.
public protocol Composite {
    func rule(for layer: ExplainableLayer, context: inout CompositeContext) -> (any RelevanceRule)?
}

/// What a composite has seen of the layers before the current one (zennit's `ctx`).
public struct CompositeContext {
    /// Whether a first-layer rule was already handed out.
    public var firstLayerVisited = false
    public init() {}
}

/// What the composites tell layers apart by.
public enum LayerKind: Hashable, Sendable {
    case dense
    case convolution
    /// ReLU and the other elementwise activations, dropout, identity.
    case activation
    case averagePooling
    case maxPooling
    /// Flatten and other reshapes.
    case reshape
    /// A batch norm not folded into an affine layer.
    case normalization
    /// Anything else: only a ``RelevancePropagating`` layer's own rule applies.
    case other

    public init(of layer: any Layer) {
        switch layer {
        case let affine as any AffineLayer: self = affine.isConvolution ? .convolution : .dense
        case is ReLU, is GELU, is Tanh, is Sigmoid, is SiLU, is LeakyReLU, is Softplus, is Identity, is Dropout: self = .activation
        case is AvgPool2d: self = .averagePooling
        case is MaxPool2d: self = .maxPooling
        case is Flatten: self = .reshape
        case is BatchNorm: self = .normalization
        default: self = .other
        }
    }
}

/// A composite given as a map from layer kinds to rules, with a separate map for the first layer
/// of the kinds in `firstLayerRules` (zennit's `SpecialFirstLayerMapComposite`). Rules assigned to
/// a layer type (``assigning(_:to:)``) come first; a layer of a kind with no entry takes its own rule
/// if it is ``RelevancePropagating``.
public struct LayerMapComposite: Composite {
    public var rules: [LayerKind: any RelevanceRule]
    public var firstLayerRules: [LayerKind: any RelevanceRule]
    /// Rules for particular layer types, by `ObjectIdentifier` of the type.
    public var typeRules: [ObjectIdentifier: any RelevanceRule] = [:]

    public init(rules: [LayerKind: any RelevanceRule], firstLayerRules: [LayerKind: any RelevanceRule] = [:]) {
        self.rules = rules
        self.firstLayerRules = firstLayerRules
    }

    /// This composite with `rule` for every layer of `type` (a layer type of another module, such
    /// as a transformer's layer norm), ahead of the kind maps.
    public func assigning(_ rule: any RelevanceRule, to type: any Layer.Type) -> LayerMapComposite {
        var result = self
        result.typeRules[ObjectIdentifier(type)] = rule
        return result
    }

    /// zennit's `layer_map_base`: activations and unfolded batch norms pass relevance through,
    /// average pooling takes ``NormRule``; with max pooling winner-takes-all and flatten passing
    /// through, which is what zennit's gradient does for layers without a rule.
    public static func base(stabilizer: Float = 1e-6) -> [LayerKind: any RelevanceRule] {
        [.activation: PassRule(), .normalization: PassRule(), .reshape: PassRule(),
         .averagePooling: NormRule(stabilizer: stabilizer), .maxPooling: WinnerTakesAllRule()]
    }

    /// One rule for every affine layer (LRP-0 everywhere: `uniform(ZeroRule())`).
    public static func uniform(_ rule: any RelevanceRule, stabilizer: Float = 1e-6) -> LayerMapComposite {
        LayerMapComposite(rules: base(stabilizer: stabilizer).merging([.dense: rule, .convolution: rule]) { $1 })
    }

    public func rule(for layer: ExplainableLayer, context: inout CompositeContext) -> (any RelevanceRule)? {
        if let rule = typeRules[ObjectIdentifier(type(of: layer.layer))] { return rule }
        let kind = LayerKind(of: layer.layer)
        if !context.firstLayerVisited, let first = firstLayerRules[kind] {
            context.firstLayerVisited = true
            return first
        }
        return rules[kind] ?? (layer.layer as? any RelevancePropagating)?.relevanceRule
    }
}

// MARK: - Composites by name

/// The composites a name can pick (a recipe's `composite: epsilonPlus`, a command-line flag).
/// zennit's names (`epsilon_gamma_box`) and command-line spellings (`epsilon-gamma-box`) are accepted too.
public enum CompositeName: String, CaseIterable, Sendable {
    case epsilonGammaBox
    case epsilonPlus
    case epsilonAlpha2Beta1
    /// LRP-0 at every affine layer (conservative; gradient × input on ReLU networks).
    case zero

    /// Throws ``ExplainError/unknownComposite(name:suggestion:known:)`` with the closest name.
    public init(parsing name: String) throws {
        let squeezed = name.replacingOccurrences(of: "_", with: "").replacingOccurrences(of: "-", with: "").lowercased()
        if let match = CompositeName.allCases.first(where: { $0.rawValue.lowercased() == squeezed }) {
            self = match
            return
        }
        let known = CompositeName.allCases.map(\.rawValue)
        throw ExplainError.unknownComposite(name: name, suggestion: closestMatch(to: name, among: known), known: known)
    }

    /// The composite with these settings (`low` and `high` bound the input for z^B).
    public func composite(low: Float = 0, high: Float = 1, epsilon: Float = 1e-6, gamma: Float = 0.25,
                          stabilizer: Float = 1e-6) -> any Composite {
        switch self {
        case .epsilonGammaBox: return EpsilonGammaBox(low: low, high: high, epsilon: epsilon, gamma: gamma, stabilizer: stabilizer)
        case .epsilonPlus: return EpsilonPlus(epsilon: epsilon, stabilizer: stabilizer)
        case .epsilonAlpha2Beta1: return EpsilonAlpha2Beta1(epsilon: epsilon, stabilizer: stabilizer)
        case .zero: return LayerMapComposite.uniform(ZeroRule(), stabilizer: stabilizer)
        }
    }
}

/// The composite called `name`, e.g. `try makeComposite(named: "epsilonPlus")`.
public func makeComposite(named name: String, low: Float = 0, high: Float = 1, epsilon: Float = 1e-6,
                          gamma: Float = 0.25, stabilizer: Float = 1e-6) throws -> any Composite {
    try CompositeName(parsing: name).composite(low: low, high: high, epsilon: epsilon, gamma: gamma, stabilizer: stabilizer)
}
