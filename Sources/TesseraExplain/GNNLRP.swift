import TesseraGraph
import TesseraNN
import TesseraTensor

/// GNN-LRP (Schnake et al., "Higher-Order Explanations of Graph Neural Networks via Relevant Walks",
/// IEEE TPAMI 44(11), 2022; early access 2021): the relevance of *walks* `(J_0, J_1, …, J_T)` through
/// the graph, one node per message-passing layer, for a GCN or GIN node or graph classifier.
///
/// A walk's relevance is a nested LRP pass: start from the explained output, and at every layer t
/// keep only the relevance carried by the messages from the walk's node `J_{t-1}` into its node
/// `J_t`. Each layer is an aggregation with constant coefficients (GCN's normalised adjacency, GIN's
/// `1 + ε` and edge counts) folded into the affine map after it (`WalkNetwork`), so one LRP rule
/// — LRP-0, ε, γ or αβ, as in the paper — splits the relevance of a walk suffix `(J_t, …, J_T)` over
/// every neighbour and feature of `J_t` at once; the share of neighbour J is the relevance of the
/// suffix extended by J. Relevance passes through the activations.
///
/// The walks are enumerated from the output down, as a dynamic programme over suffixes: the walks
/// that share a suffix share its computation, and a layer costs O(suffixes × n × width) for n nodes
/// (neighbourhoods are held dense, which suits the small graphs this is for). The number of walks
/// ending at a node grows as its neighbourhood size to the power T: under a 3-layer GCN, 901 end at
/// the karate club's busiest member (node 33), 11,418 run through the whole club.
///
/// With a conservative rule (LRP-0, zero biases) the walks' relevances sum to the output, since the
/// extensions of a suffix share out exactly its relevance. On a ReLU network under LRP-0 a walk's
/// relevance is gradient × input at `J_0` with every level's node states detached except at the
/// walk's node: the walk's own term of the network's (locally multilinear) expansion.
///
/// A graph classifier here pools every depth's node states (Xu et al.'s readout, `GraphClassifier`):
/// the relevance the readout gives node K at depth t < T enters the walks that stay at K from depth t
/// on — `(…, J_t = K, K, …, K)` — as if the skip to the readout were a self-loop, so the walks still
/// sum to the output.
///
/// ```swift
/// let lrp = try GNNLRP(model: classifier, rule: GammaRule(gamma: 0.25))
/// let walks = try lrp.topWalks(10, in: karate, target: .node(5, output: 1))
/// walks[0].nodes       // [J_0, J_1, 5]: messages flowed J_0 → J_1 → 5
/// walks[0].relevance   // signed: positive walks speak for output 1
/// ```
public struct GNNLRP {
    /// Which output is explained.
    public enum Target: Equatable, Sendable {
        /// A node classifier's logit `output` at `node`: every walk ends there.
        case node(Int, output: Int)
        /// A graph classifier's logit `output` for the whole graph.
        case graph(output: Int)
    }

    /// The rule in every linear map: the message-passing layers', GIN's inner MLPs', the heads'.
    public let rule: any AffineRelevanceRule
    let network: WalkNetwork
    private let explainsNodes: Bool

    /// Message-passing layers: a walk visits one node more.
    public var walkLength: Int { network.layers.count }

    /// Throws ``ExplainError/unsupportedLayer(layer:reason:)`` naming the first graph layer without a
    /// walk rule (only GCN and GIN have one) or a node-wise layer that is neither linear nor an activation.
    public init(model: NodeClassifier, rule: any AffineRelevanceRule = GammaRule()) throws {
        try self.init(network: WalkNetwork(model), rule: rule, explainsNodes: true)
    }

    /// For a graph classifier with a sum or mean readout.
    public init(model: GraphClassifier, rule: any AffineRelevanceRule = GammaRule()) throws {
        try self.init(network: WalkNetwork(model), rule: rule, explainsNodes: false)
    }

    private init(network: WalkNetwork, rule: any AffineRelevanceRule, explainsNodes: Bool) throws {
        // Rules that give relevance in proportion to the input (a · w) keep it on the nodes that send
        // messages; flat, w² and z^B would spread it onto nodes that are no neighbours at all.
        guard rule is ZeroRule || rule is EpsilonRule || rule is GammaRule || rule is AlphaBetaRule else {
            throw ExplainError.invalidArgument("GNN-LRP takes LRP-0, ε, γ or αβ in its linear maps, not \(rule): it would give relevance to nodes that send no message")
        }
        var nodewise = network.layers.flatMap(\.nodewise)
        switch network.output {
        case .node(let head): nodewise += head
        case .graph(_, _, let rest): nodewise += rest
        }
        for step in nodewise {
            let isLinear = (step.layer as? any AffineLayer).map { !$0.isConvolution } ?? false
            guard isLinear || LayerKind(of: step.layer) == .activation else {
                throw ExplainError.unsupportedLayer(layer: step.name, reason: "GNN-LRP applies its rule to linear layers and passes relevance through activations; \(type(of: step.layer)) is neither")
            }
        }
        self.network = network
        self.rule = rule
        self.explainsNodes = explainsNodes
    }

    // MARK: - Walks

    /// The explained output's value (what the walks' relevances sum to under a conservative rule).
    public func output(in graph: Graph, target: Target) throws -> Float {
        let (features, _) = try check(graph, target)
        let trace = network.forward(graph, features: features)
        return try startingPoint(trace, target).value
    }

    /// Every walk with its relevance: for a node target the walks ending at the node, for a graph
    /// target all walks of the graph.
    public func walks(in graph: Graph, target: Target) throws -> [WalkRelevance] {
        try relevances(graph, target, allowed: Array(repeating: nil, count: walkLength + 1))
    }

    /// The walks that visit `node` at some layer (for a graph target; for a node target, walks
    /// through `node` on their way to the explained node). Enumerates every walk, then keeps these.
    public func walks(in graph: Graph, target: Target, through node: Int) throws -> [WalkRelevance] {
        try walks(in: graph, target: target).filter { $0.nodes.contains(node) }
    }

    /// The relevance of one walk, `walk[t]` the node at layer t (`walkLength + 1` nodes; for a node
    /// target the last is the explained node). One forward pass, then the nested pass kept to this walk.
    public func relevance(ofWalk walk: [Int], in graph: Graph, target: Target) throws -> Float {
        guard walk.count == walkLength + 1 else {
            throw ExplainError.invalidArgument("a walk through \(walkLength) message-passing layers visits \(walkLength + 1) nodes, got \(walk)")
        }
        if case .node(let node, _) = target, walk.last != node {
            throw ExplainError.invalidArgument("the walks that explain node \(node) end there; \(walk) ends at \(walk.last!)")
        }
        if let outside = walk.first(where: { !(0..<graph.nodeCount).contains($0) }) {
            throw ExplainError.invalidArgument("walk \(walk) visits node \(outside), outside the graph's \(graph.nodeCount) nodes")
        }
        return try relevances(graph, target, allowed: walk.map { Set([$0]) }).first?.relevance ?? 0
    }

    /// The `count` walks of largest |relevance|, largest first (ties in node order).
    public func topWalks(_ count: Int, in graph: Graph, target: Target) throws -> [WalkRelevance] {
        guard count > 0 else { throw ExplainError.invalidArgument("the number of top walks must be positive, got \(count)") }
        return Array(try walks(in: graph, target: target).sorted(by: WalkRelevance.moreRelevant).prefix(count))
    }

    /// Each node's relevance: the sum over the walks that start there (at the input layer).
    public func nodeRelevances(in graph: Graph, target: Target) throws -> [Float] {
        var result = [Float](repeating: 0, count: graph.nodeCount)
        for walk in try walks(in: graph, target: target) { result[walk.nodes[0]] += walk.relevance }
        return result
    }

    // MARK: - The nested relevance pass

    /// Walk suffixes `(J_t, …, J_T)` and, row by row, the relevance of their first node's state at depth t.
    private struct Suffixes {
        var walks: [[Int]]
        var relevance: Tensor
        var heads: Tensor { Tensor(walks.map { Float($0[0]) }) }
    }

    private func check(_ graph: Graph, _ target: Target) throws -> (Tensor, Int?) {
        guard let features = graph.nodeFeatures else { throw ExplainError.invalidArgument("the graph has no node features to explain") }
        let width = network.layers[0].affine.weight.shape[1]
        guard features.shape == [graph.nodeCount, width] else {
            throw ExplainError.inputShape(expected: [graph.nodeCount, width], got: features.shape)
        }
        switch target {
        case .node(let node, _):
            guard explainsNodes else { throw ExplainError.invalidArgument("a graph classifier explains .graph(output:), not a node") }
            guard (0..<graph.nodeCount).contains(node) else {
                throw ExplainError.invalidArgument("node \(node) is outside the graph's \(graph.nodeCount) nodes")
            }
            return (features, node)
        case .graph:
            guard !explainsNodes else { throw ExplainError.invalidArgument("a node classifier explains .node(index, output:), not the graph") }
            return (features, nil)
        }
    }

    /// The explained value and the relevance LRP starts from, `[1, outputs]`: the value at the output.
    private func startingPoint(_ trace: WalkNetwork.Trace, _ target: Target) throws -> (value: Float, relevance: Tensor) {
        let (row, output): (Int, Int)
        switch target {
        case .node(let node, let index): (row, output) = (node, index)
        case .graph(let index): (row, output) = (0, index)
        }
        let outputCount = trace.output.shape[1]
        guard (0..<outputCount).contains(output) else { throw ExplainError.targetOutOfRange(index: output, outputCount: outputCount) }
        let value = trace.output.scalars[row * outputCount + output]
        var start = [Float](repeating: 0, count: outputCount)
        start[output] = value
        return (value, Tensor(shape: [1, outputCount], scalars: start))
    }

    /// The walks whose node at depth t lies in `allowed[t]` (`nil`: any), with their relevances.
    private func relevances(_ graph: Graph, _ target: Target, allowed: [Set<Int>?]) throws -> [WalkRelevance] {
        let (features, node) = try check(graph, target)
        let trace = network.forward(graph, features: features)
        var relevance = try startingPoint(trace, target).relevance
        let depth = walkLength
        func admits(_ node: Int, _ level: Int) -> Bool { allowed[level]?.contains(node) ?? true }

        var suffixes: Suffixes
        // What the readout gives each depth's node states, `[n, width_t]` (graph targets only).
        var readoutRelevance: [Tensor] = []
        switch network.output {
        case .node(let head):
            let nodeIndex = Tensor([Float(node!)])
            relevance = nodewiseRelevance(head, trace.head.map { $0.indexSelect(alongAxis: 0, indices: nodeIndex) }, relevance)
            suffixes = Suffixes(walks: admits(node!, depth) ? [[node!]] : [], relevance: relevance)
        case .graph(let readout, let first, let rest):
            relevance = nodewiseRelevance(rest, trace.head, relevance)
            let weight = WalkNetwork.poolingWeight(readout, nodeCount: graph.nodeCount)
            let pooledInput = Tensor.concatenate(trace.levels, alongAxis: 1).unsqueezed(axis: 0) * weight
            let shares = withoutGradients { rule.inputRelevance(affine: first, input: pooledInput, relevance: relevance) }.squeezed(axis: 0)
            var offset = 0
            for level in trace.levels {
                readoutRelevance.append(shares.slice(alongAxis: 1, start: offset, end: offset + level.shape[1]))
                offset += level.shape[1]
            }
            suffixes = Suffixes(walks: [], relevance: Tensor.zeros([0, trace.levels[depth].shape[1]]))
            inject(readoutRelevance[depth], into: &suffixes, length: 1, admits: { admits($0, depth) })
        }

        for t in stride(from: depth, to: 0, by: -1) {
            let layer = network.layers[t - 1]
            if !suffixes.walks.isEmpty {
                let heads = suffixes.heads
                let inputs = trace.nodewise[t - 1].map { $0.indexSelect(alongAxis: 0, indices: heads) }
                suffixes.relevance = nodewiseRelevance(layer.nodewise, inputs, suffixes.relevance)
                suffixes = extend(suffixes, layer, coefficients: trace.coefficients[t - 1], states: trace.levels[t - 1], admits: { admits($0, t - 1) })
            }
            if !readoutRelevance.isEmpty {
                inject(readoutRelevance[t - 1], into: &suffixes, length: depth - t + 2, admits: { node in (t - 1...depth).allSatisfy { admits(node, $0) } })
            }
        }
        let totals = suffixes.walks.isEmpty ? [] : suffixes.relevance.sum(alongAxis: 1).scalars
        return zip(suffixes.walks, totals).map { WalkRelevance(nodes: $0, relevance: $1) }
    }

    /// Relevance back through node-wise layers (`inputs`: each one's input rows, one per suffix): the
    /// rule at linear layers, unchanged through activations (checked when the plan was made).
    private func nodewiseRelevance(_ layers: [ExplainableLayer], _ inputs: [Tensor], _ relevance: Tensor) -> Tensor {
        var relevance = relevance
        for (layer, input) in zip(layers, inputs).reversed() {
            if let affine = layer.layer as? any AffineLayer {
                relevance = withoutGradients { rule.inputRelevance(affine: affine, input: input, relevance: relevance) }
            }
        }
        return relevance
    }

    /// Every suffix `(K, …)` extended by every neighbour J of K (`c_KJ ≠ 0`) that `admits`, with
    /// the share of the suffix's relevance the rule gives J's state at the depth below.
    private func extend(_ suffixes: Suffixes, _ layer: WalkNetwork.MessagePassingLayer, coefficients: Tensor, states: Tensor,
                        admits: (Int) -> Bool) -> Suffixes {
        let (count, nodeCount, width) = (suffixes.walks.count, states.shape[0], states.shape[1])
        let rows = coefficients.indexSelect(alongAxis: 0, indices: suffixes.heads)                       // [S, n]
        let input = rows.reshape([count, nodeCount, 1]) * states.reshape([1, nodeCount, width])           // c_KJ h_J
        let shares = withoutGradients { rule.inputRelevance(affine: layer.affine, input: input, relevance: suffixes.relevance) }
        let weights = rows.scalars
        var walks: [[Int]] = [], picked: [Float] = []
        for (s, walk) in suffixes.walks.enumerated() {
            for neighbour in 0..<nodeCount where weights[s * nodeCount + neighbour] != 0 && admits(neighbour) {
                walks.append([neighbour] + walk)
                picked.append(Float(s * nodeCount + neighbour))
            }
        }
        guard !walks.isEmpty else { return Suffixes(walks: [], relevance: Tensor.zeros([0, width])) }
        return Suffixes(walks: walks, relevance: shares.reshape([count * nodeCount, width]).indexSelect(alongAxis: 0, indices: Tensor(picked)))
    }

    /// Adds the readout's relevance of each admitted node K (`[n, width]`) to the walk suffix that stays
    /// at K, `(K, …, K)` of `length` nodes, creating the suffix if no message led there.
    private func inject(_ readout: Tensor, into suffixes: inout Suffixes, length: Int, admits: (Int) -> Bool) {
        let width = readout.shape[1], values = readout.scalars
        var rows = suffixes.relevance.scalars
        var index = Dictionary(uniqueKeysWithValues: suffixes.walks.enumerated().map { ($1, $0) })
        for node in 0..<readout.shape[0] where admits(node) {
            let walk = Array(repeating: node, count: length)
            if index[walk] == nil {
                index[walk] = suffixes.walks.count
                suffixes.walks.append(walk)
                rows += [Float](repeating: 0, count: width)
            }
            let row = index[walk]!
            for j in 0..<width { rows[row * width + j] += values[node * width + j] }
        }
        suffixes.relevance = Tensor(shape: [suffixes.walks.count, width], scalars: rows)
    }
}

/// One walk and its relevance: `nodes[t]` is the node whose state at layer t the walk passes
/// (`nodes[0]` at the input), so its messages flow `nodes[0] → nodes[1] → …`.
public struct WalkRelevance: Equatable, Sendable {
    public let nodes: [Int]
    public let relevance: Float

    public init(nodes: [Int], relevance: Float) {
        self.nodes = nodes
        self.relevance = relevance
    }

    /// Larger |relevance| first; equal ones in the order of their nodes, so a ranking is deterministic.
    static func moreRelevant(_ a: WalkRelevance, _ b: WalkRelevance) -> Bool {
        abs(a.relevance) != abs(b.relevance) ? abs(a.relevance) > abs(b.relevance) : a.nodes.lexicographicallyPrecedes(b.nodes)
    }
}
