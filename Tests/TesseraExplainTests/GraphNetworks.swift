import TesseraExplain
import TesseraGraph
import TesseraNN
import TesseraTensor

/// Five nodes: a square 0-1-2-3 with the chord 1-3, and 4 hanging off 3.
func smallGraph(features: Int = 3, seed: UInt64 = 5) throws -> Graph {
    try Graph(nodeCount: 5, edges: [(0, 1), (1, 2), (2, 3), (3, 0), (1, 3), (3, 4)],
              nodeFeatures: randomInput([5, features], low: -1, high: 1, seed: seed))
}

/// A ReLU GCN node classifier with random weights: graph layers of `widths`, and a linear head
/// to `classes` outputs when `head`; biases random or zero.
func randomGCN(_ widths: [Int], classes: Int, head: Bool, bias: Bool, seed: UInt64 = 3) -> NodeClassifier {
    var generator = RandomGenerator(seed: seed)
    let sizes = head ? widths : widths + [classes]
    var layers: [any GraphLayer] = []
    for (input, output) in zip(sizes, sizes.dropFirst()) {
        let weight = Tensor.randomUniform([output, input], low: -1, high: 1, generator: &generator)
        let offsets = Tensor.randomUniform([output], low: -0.3, high: 0.3, generator: &generator)
        layers.append(GCNConvolution(weight: weight, bias: bias ? offsets : nil))
    }
    let linear = head ? randomLinear(widths.last!, classes, bias: bias, generator: &generator) : nil
    return NodeClassifier(layers: layers, head: linear, activation: .relu, generator: &generator)
}

/// A ReLU GIN graph classifier (Xu et al.'s readout of every depth) with random weights.
func randomGIN(_ widths: [Int], classes: Int, readout: Aggregation, bias: Bool, seed: UInt64 = 4) -> GraphClassifier {
    var generator = RandomGenerator(seed: seed)
    let layers = zip(widths, widths.dropFirst()).enumerated().map { index, sizes in
        GINConvolution(randomPerceptron([sizes.0, sizes.1, sizes.1], bias: bias, generator: &generator), epsilon: 0.1 * Float(index + 1),
                       learnEpsilon: index == 0)
    }
    let head = randomPerceptron([widths.reduce(0, +), 4, classes], bias: bias, generator: &generator)
    return GraphClassifier(layers: layers, readoutHead: head, activation: .relu, readout: readout)
}

private func randomLinear(_ input: Int, _ output: Int, bias: Bool, generator: inout RandomGenerator) -> Linear {
    Linear(weight: Tensor.randomUniform([output, input], low: -1, high: 1, generator: &generator),
           bias: bias ? Tensor.randomUniform([output], low: -0.3, high: 0.3, generator: &generator) : nil)
}

private func randomPerceptron(_ sizes: [Int], bias: Bool, generator: inout RandomGenerator) -> MLP {
    let mlp = MLP(sizes: sizes, generator: &generator)
    for layer in mlp.layers {
        layer.weight.assign(Tensor.randomUniform(layer.weight.shape, low: -1, high: 1, generator: &generator))
        layer.bias?.assign(bias ? Tensor.randomUniform(layer.bias!.shape, low: -0.3, high: 0.3, generator: &generator)
                                : Tensor.zeros(layer.bias!.shape))
    }
    return mlp
}

// MARK: - Brute force: one masked gradient × input pass per walk

/// `h` with gradient flowing through row `node` alone (the other rows detached).
private func onlyAt(_ h: Tensor, _ node: Int) -> Tensor {
    var mask = [Float](repeating: 0, count: h.shape[0])
    mask[node] = 1
    let column = Tensor(shape: [h.shape[0], 1], scalars: mask)
    return h * column + h.detached() * (1 - column)
}

/// Σ_j x_{J_0 j} ∂y/∂x_{J_0 j} where the states of depth t pass gradient at `walk[t]` only: under
/// LRP-0 on a ReLU network, the relevance of the walk (GNN-LRP's walk term). Runs the model's own layers.
func maskedRelevance(_ model: NodeClassifier, _ graph: Graph, walk: [Int], output: Int) -> Float {
    withGradientMode(true) {
        let x = graph.nodeFeatures!.detached().requiringGradient()
        var h = onlyAt(x, walk[0])
        for (index, layer) in model.layers.enumerated() {
            h = layer(h, graph: graph)
            if model.head != nil || index < model.layers.count - 1 { h = model.activation(h) }
            h = onlyAt(h, walk[index + 1])
        }
        if let head = model.head { h = head(h) }
        var seed = [Float](repeating: 0, count: h.count)
        seed[walk.last! * h.shape[1] + output] = 1
        let gradient = Tensor.gradients(of: h, withRespectTo: [x], seed: Tensor(shape: h.shape, scalars: seed))[0]
        return rowSum(x * gradient, walk[0])
    }
}

/// The same for a graph classifier: the readout of depth t reaches the walk only if the walk stays
/// at its node from depth t on (GNNLRP's convention), so each such depth gets a pass of its own with
/// the other depths' pooled states detached.
func maskedRelevance(_ model: GraphClassifier, _ graph: Graph, walk: [Int], output: Int) throws -> Float {
    let batch = try GraphBatch([graph])
    var total: Float = 0
    for level in walk.indices where Set(walk[level...]).count == 1 {
        total += withGradientMode(true) {
            let x = graph.nodeFeatures!.detached().requiringGradient()
            var h = onlyAt(x, walk[0])
            var pooled = [Readout.pool(h, batch: batch, model.readout)]
            for (index, layer) in model.layers.enumerated() {
                h = onlyAt(model.activation(layer(h, graph: batch.graph)), walk[index + 1])
                pooled.append(Readout.pool(h, batch: batch, model.readout))
            }
            pooled = pooled.enumerated().map { $0 == level ? $1 : $1.detached() }
            let y = model.readoutHead(Tensor.concatenate(pooled, alongAxis: 1))
            var seed = [Float](repeating: 0, count: y.count)
            seed[output] = 1
            let gradient = Tensor.gradients(of: y, withRespectTo: [x], seed: Tensor(shape: y.shape, scalars: seed))[0]
            return rowSum(x * gradient, walk[0])
        }
    }
    return total
}

private func rowSum(_ tensor: Tensor, _ row: Int) -> Float {
    tensor.slice(alongAxis: 0, start: row, end: row + 1).sum().item
}

/// Every sequence of `length` nodes out of `nodeCount` (walks along edges or not).
func allSequences(nodeCount: Int, length: Int) -> [[Int]] {
    (0..<length).reduce([[]]) { prefixes, _ in prefixes.flatMap { prefix in (0..<nodeCount).map { prefix + [$0] } } }
}
