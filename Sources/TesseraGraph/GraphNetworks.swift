import TesseraNN
import TesseraTensor

/// Reports how many fixed-point iterations its last forward pass took (the contraction GNN).
public protocol FixedPointReporting {
    var lastIterations: Int? { get }
}

extension ContractionGNN: FixedPointReporting {}

/// Node classification: graph layers with an activation (and dropout on every layer's input,
/// as Kipf & Welling) between them, ending either in a last graph layer with one output per
/// class or, with a `head`, in a linear classifier on the last hidden representation.
///
/// ```swift
/// // Kipf & Welling's two-layer GCN
/// let model = NodeClassifier(layers: [GCNConvolution(1433, 16, generator: &g), GCNConvolution(16, 7, generator: &g)],
///                            activation: .relu, dropout: 0.5, generator: &g)
/// let logits = model(graph.nodeFeatures!, graph: graph)     // [nodes, 7]
/// ```
public final class NodeClassifier: Module {
    public let layers: [any GraphLayer]
    /// A linear classifier on the last hidden layer; `nil` when the last graph layer classifies.
    public let head: Linear?
    public let activation: Activation
    public let dropout: Dropout?

    public init(layers: [any GraphLayer], head: Linear? = nil, activation: Activation, dropout: Float = 0,
                generator: inout RandomGenerator) {
        precondition(!layers.isEmpty, "NodeClassifier: needs at least one graph layer")
        self.layers = layers
        self.head = head
        self.activation = activation
        self.dropout = dropout > 0 ? Dropout(probability: dropout, generator: RandomGenerator(seed: generator.next64())) : nil
    }

    /// The representation the classifier reads: after every hidden graph layer and its activation.
    public func lastHidden(_ features: Tensor, graph: Graph) -> Tensor {
        var h = features
        for layer in head == nil ? layers.dropLast() : layers[...] {
            h = activation(layer(dropout.map { $0(h) } ?? h, graph: graph))
        }
        return h
    }

    /// One row of logits per node.
    public func callAsFunction(_ features: Tensor, graph: Graph) -> Tensor {
        let h = lastHidden(features, graph: graph)
        let input = dropout.map { $0(h) } ?? h
        if let head { return head(input) }
        return layers.last!(input, graph: graph)
    }

    /// The fixed-point iterations of the last forward pass, if a layer iterates to one.
    public var fixedPointIterations: Int? {
        layers.compactMap { ($0 as? FixedPointReporting)?.lastIterations ?? nil }.last
    }
}

/// Graph classification or regression (Xu et al., 2019, Sec. 4.2): graph layers with an
/// activation between them; every layer's node states — the input's too — are pooled per graph
/// (sum, mean or max) and concatenated, and an MLP reads the graph out. Pooling every depth lets
/// the readout use the coarse and the refined views together, as 1-WL's colour histograms of
/// every round do.
public final class GraphClassifier: Module {
    public let layers: [any GraphLayer]
    public let readoutHead: MLP
    public let activation: Activation
    public let readout: Aggregation

    public init(layers: [any GraphLayer], readoutHead: MLP, activation: Activation, readout: Aggregation) {
        self.layers = layers
        self.readoutHead = readoutHead
        self.activation = activation
        self.readout = readout
    }

    /// One output row per graph of the batch.
    public func callAsFunction(_ batch: GraphBatch) -> Tensor {
        var h = batch.graph.nodeFeatures!
        var pooled = [Readout.pool(h, batch: batch, readout)]
        for layer in layers {
            h = activation(layer(h, graph: batch.graph))
            pooled.append(Readout.pool(h, batch: batch, readout))
        }
        return readoutHead(Tensor.concatenate(pooled, alongAxis: 1))
    }
}

/// A linear map of each node's own features that ignores the edges: stacked in a
/// ``NodeClassifier`` it is the MLP baseline that shows how much the graph adds.
public final class NodeLinear: GraphLayer {
    public let linear: Linear

    public init(_ inputSize: Int, _ outputSize: Int, generator: inout RandomGenerator) {
        linear = Linear(inputSize, outputSize, generator: &generator)
    }

    public func callAsFunction(_ nodeFeatures: Tensor, graph: Graph) -> Tensor { linear(nodeFeatures) }
}
