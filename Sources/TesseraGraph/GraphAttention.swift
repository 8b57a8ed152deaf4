import TesseraNN
import TesseraTensor

/// The graph attention layer of Veličković et al. ("Graph Attention Networks", ICLR 2018), with
/// `heads` independent attention heads:
///
/// ```
/// e_ij^k = LeakyReLU(a_srcᵏ · Wᵏ x_j + a_dstᵏ · Wᵏ x_i)        (slope 0.2)
/// α_ij^k = softmax_{j ∈ N(i) ∪ {i}} e_ij^k                       (over the edges into i)
/// x'_i   = ‖_k Σ_j α_ij^k Wᵏ x_j + b     (heads concatenated)
///      or  (1/K) Σ_k Σ_j α_ij^k Wᵏ x_j + b   (heads averaged, the paper's output layer)
/// ```
///
/// The steps, in order: transform every node by all heads' `W` at once (`[nodes, heads·C]`),
/// score every edge per head, softmax the scores over each target's incoming edges (a segment
/// softmax, self-loop included), drop coefficients out in training, weight the source rows, sum
/// them into the targets, combine the heads. The coefficients of the last forward pass are kept
/// in ``lastAttention`` for explanations. Edge weights are ignored (as PyTorch Geometric's
/// `GATConv` does without edge features).
///
/// ```swift
/// let layer = GraphAttention(16, 8, heads: 4, generator: &rng)   // output [nodes, 32]
/// let h = layer(x, graph: graph).relu()
/// layer.lastAttention!.values                                   // [edges + self-loops, 4]
/// ```
public final class GraphAttention: MessagePassing, ModeDependentModule, RandomizedModule {
    /// `[heads · outputSize, inputSize]`: head k's `W` is rows `k·C ..< (k+1)·C`.
    public let weight: Tensor
    /// `[heads, outputSize]`: `a_src` of each head, scoring the sending node.
    public let attentionSource: Tensor
    /// `[heads, outputSize]`: `a_dst` of each head, scoring the receiving node.
    public let attentionTarget: Tensor
    /// `[heads · outputSize]` when concatenating, `[outputSize]` when averaging; or `nil`.
    public let bias: Tensor?
    public let heads: Int
    /// Concatenate the heads (`true`, output `heads · outputSize`) or average them.
    public let concatenateHeads: Bool
    /// The slope of the LeakyReLU on the scores.
    public let negativeSlope: Float
    /// Probability of dropping each attention coefficient in training.
    public let attentionDropout: Float
    /// Attend to oneself too: add a self-loop to every node without one.
    public let addSelfLoops: Bool
    public var mode: ModuleMode = .training
    /// Draws the attention dropout masks (saved with the model, like `Dropout`'s).
    public var generator: RandomGenerator
    public let aggregation = Aggregation.sum

    /// The coefficients of one forward pass: `values[e, k]` is head k's `α` on the edge
    /// `sourceIndex[e] → targetIndex[e]` (self-loops included), before dropout.
    public struct Coefficients {
        public let sourceIndex: Tensor
        public let targetIndex: Tensor
        /// `[edges, heads]`, detached.
        public let values: Tensor
    }

    /// The attention of the last forward pass, or `nil` before the first.
    public private(set) var lastAttention: Coefficients?

    public var inputSize: Int { weight.shape[1] }
    /// Features per head, `C`.
    public var outputSize: Int { attentionSource.shape[1] }

    /// Glorot-uniform `W`, `a_src` and `a_dst`, zero bias (PyTorch Geometric's `GATConv`).
    /// - Parameters:
    ///   - inputSize: features per node coming in, the columns of the node-feature matrix.
    ///   - outputSize: features per head, `C`.
    ///   - heads: independent attention heads, at least 1 (the paper uses 8 in hidden layers).
    ///   - concatenateHeads: `true` concatenates the heads (output `heads · outputSize`), `false`
    ///     averages them (output `outputSize`, the paper's choice for the last layer).
    ///   - negativeSlope: slope of the LeakyReLU on the edge scores for negative inputs.
    ///   - attentionDropout: probability in [0, 1) of dropping each attention coefficient in
    ///     training (the paper uses 0.6 on Cora).
    ///   - addSelfLoops: add a self-loop to every node without one, so a node attends to itself.
    ///   - bias: learn an additive bias, zero-initialised, after the heads are combined.
    ///   - generator: draws the initial weights and seeds the dropout stream.
    public init(_ inputSize: Int, _ outputSize: Int, heads: Int = 1, concatenateHeads: Bool = true, negativeSlope: Float = 0.2,
                attentionDropout: Float = 0, addSelfLoops: Bool = true, bias: Bool = true, generator: inout RandomGenerator) {
        precondition(heads >= 1, "GraphAttention: needs at least one head, got \(heads)")
        precondition(attentionDropout >= 0 && attentionDropout < 1, "GraphAttention: dropout must be in [0, 1), got \(attentionDropout)")
        weight = Initialization.xavierUniform([heads * outputSize, inputSize], generator: &generator).requiringGradient()
        attentionSource = Initialization.xavierUniform([heads, outputSize], generator: &generator).requiringGradient()
        attentionTarget = Initialization.xavierUniform([heads, outputSize], generator: &generator).requiringGradient()
        self.bias = bias ? Tensor.zeros([concatenateHeads ? heads * outputSize : outputSize]).requiringGradient() : nil
        self.heads = heads
        self.concatenateHeads = concatenateHeads
        self.negativeSlope = negativeSlope
        self.attentionDropout = attentionDropout
        self.addSelfLoops = addSelfLoops
        // A seed drawn from `generator`, so two layers built from one generator never share masks.
        self.generator = RandomGenerator(seed: generator.next64())
    }

    public func callAsFunction(_ nodeFeatures: Tensor, graph: Graph) -> Tensor {
        let transformed = transform(nodeFeatures)
        let edges = GraphEdges(addSelfLoops ? graph.addingSelfLoops() : graph, weights: nil)
        return propagate(transformed, edges: edges)
    }

    /// Step 1, every head's `W x` side by side: `[nodes, inputSize]` → `[nodes, heads · C]`.
    public func transform(_ nodeFeatures: Tensor) -> Tensor {
        precondition(nodeFeatures.rank == 2 && nodeFeatures.shape[1] == inputSize,
                     "GraphAttention: node features of shape \(nodeFeatures.shape) must be [nodes, \(inputSize)]")
        return nodeFeatures.linear(weight: weight, bias: nil)
    }

    /// Head k's `α_ij^k · Wᵏ x_j`, `[E, heads · C]`.
    public func message(_ endpoints: EdgeEndpoints) -> Tensor {
        let edgeCount = endpoints.edges.edgeCount
        let source = endpoints.source.reshape([edgeCount, heads, outputSize])
        let target = endpoints.target.reshape([edgeCount, heads, outputSize])
        let scores = ((source * attentionSource).sum(alongAxes: [2]) + (target * attentionTarget).sum(alongAxes: [2]))
            .leakyRelu(slope: negativeSlope)                                        // [E, heads]
        var attention = endpoints.edges.softmax(scores)
        lastAttention = Coefficients(sourceIndex: endpoints.edges.sourceIndex, targetIndex: endpoints.edges.targetIndex,
                                     values: attention.detached())
        attention = attention.dropout(probability: attentionDropout, training: mode == .training, generator: &generator)
        return (source * attention.reshape([edgeCount, heads, 1])).reshape([edgeCount, heads * outputSize])
    }

    /// The heads concatenated or averaged, plus the bias.
    public func update(aggregated: Tensor, nodeFeatures: Tensor) -> Tensor {
        let combined = concatenateHeads
            ? aggregated : aggregated.reshape([aggregated.shape[0], heads, outputSize]).mean(alongAxes: [1])
        return bias.map { combined + $0 } ?? combined
    }
}
