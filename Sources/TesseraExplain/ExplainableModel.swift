import TesseraNN
import TesseraTensor

/// One step of a model's forward pass as the ``Explainer`` walks it: a layer and its dotted name
/// (`layers.2`, the prefix of its parameters' names), or a residual block `x + body(x)`.
public struct ExplainableLayer {
    /// The dotted path of the layer in the model; errors and per-layer relevances use it.
    public let name: String
    /// The layer (for a residual block: the whole block).
    public let layer: any Layer
    /// For a residual block `x + body(x)`, the body's steps; `nil` for a plain layer.
    public let residualBody: [ExplainableLayer]?

    public init(name: String, layer: any Layer) {
        self.name = name
        self.layer = layer
        residualBody = nil
    }

    /// A residual block: relevance at its output is split between the skip and the body in
    /// proportion to their contributions to the sum (zennit's `Norm` on `Sum`).
    public static func residual(name: String, body: [ExplainableLayer]) -> ExplainableLayer {
        ExplainableLayer(name: name, body: body)
    }

    private init(name: String, body: [ExplainableLayer]) {
        self.name = name
        layer = Identity()
        residualBody = body
    }
}

/// A model the ``Explainer`` can walk: its forward pass as an ordered list of layers, so relevance
/// can be sent back through them one at a time.
///
/// `Sequential`, `MLP`, `Residual` (of an explainable body) and `PreActivationBlock` (with an
/// identity shortcut) conform here; the transformers (encoder layers and stacks, the ViT, the
/// sequence classifier) in `TransformerLRP+Models.swift`. A model defined elsewhere conforms by listing what its
/// `callAsFunction` does, in order — for a classifier whose forward pass is `pool(relu(conv(x)))`,
/// the list names the convolution, `ReLU()` and `MaxPool2d(kernelSize: 2)`.
public protocol ExplainableModel: Layer {
    func explainableLayers() throws -> [ExplainableLayer]
}

/// The steps of `layer` named under `name`: a model's own steps with the prefix, or the layer itself.
public func explainableLayers(of layer: any Layer, named name: String) throws -> [ExplainableLayer] {
    guard let model = layer as? any ExplainableModel else { return [ExplainableLayer(name: name, layer: layer)] }
    return try model.explainableLayers().map { prefixed($0, name) }
}

private func prefixed(_ entry: ExplainableLayer, _ prefix: String) -> ExplainableLayer {
    let name = prefix.isEmpty ? entry.name : entry.name.isEmpty ? prefix : "\(prefix).\(entry.name)"
    if let body = entry.residualBody {
        return .residual(name: name, body: body.map { prefixed($0, prefix) })
    }
    return ExplainableLayer(name: name, layer: entry.layer)
}

extension Sequential: ExplainableModel {
    public func explainableLayers() throws -> [ExplainableLayer] {
        try layers.enumerated().flatMap { index, layer in try TesseraExplain.explainableLayers(of: layer, named: "layers.\(index)") }
    }
}

extension MLP: ExplainableModel {
    /// `layers.k`, each hidden one followed by its activation named `activation.k`. Dropout is the
    /// identity in evaluation, so it is left out.
    public func explainableLayers() throws -> [ExplainableLayer] {
        layers.enumerated().flatMap { index, layer in
            let linear = ExplainableLayer(name: "layers.\(index)", layer: layer)
            return index < layers.count - 1 ? [linear, ExplainableLayer(name: "activation.\(index)", layer: activation.layer)] : [linear]
        }
    }
}

extension Residual: ExplainableModel {
    public func explainableLayers() throws -> [ExplainableLayer] {
        [.residual(name: "", body: try TesseraExplain.explainableLayers(of: body, named: "body"))]
    }
}

extension PreActivationBlock: ExplainableModel {
    /// `x + conv2(relu(norm2(conv1(relu(norm1(x))))))`. `norm2` folds into `conv1`; `norm1` follows no
    /// affine layer and passes relevance through, as zennit does with a batch norm it cannot merge.
    public func explainableLayers() throws -> [ExplainableLayer] {
        guard shortcut == nil else {
            throw ExplainError.unsupportedLayer(layer: "shortcut", reason: "a projection shortcut branches after norm1 and ReLU; only identity shortcuts are walked")
        }
        return [.residual(name: "", body: [
            ExplainableLayer(name: "norm1", layer: norm1), ExplainableLayer(name: "relu1", layer: ReLU()),
            ExplainableLayer(name: "conv1", layer: conv1), ExplainableLayer(name: "norm2", layer: norm2),
            ExplainableLayer(name: "relu2", layer: ReLU()), ExplainableLayer(name: "conv2", layer: conv2),
        ])]
    }
}
