import Foundation
import TesseraGraph
import TesseraNN
import TesseraTensor

// The two-layer GCN of `shared/bench/gcn.py` (karate club) and of `Tests/Benchmarks/gcn_large.py`
// (a 10⁵-edge synthetic graph), timed per training step like the peer scripts.

/// A two-layer GCN, `GCN(relu(GCN(x)))`, on coefficients computed once for the graph.
private struct TwoLayerGCN {
    let first: GCNConvolution, second: GCNConvolution
    let normalization: GraphConvolutionNormalization

    func callAsFunction(_ x: Tensor) -> Tensor {
        second(first(x, normalization: normalization).relu(), normalization: normalization)
    }

    var parameters: [(name: String, parameter: Tensor)] {
        first.namedParameters().map { ("first.\($0.name)", $0.parameter) } + second.namedParameters().map { ("second.\($0.name)", $0.parameter) }
    }
}

/// Times the phases of one step separately, so the record says where the time goes: the forward
/// pass with its loss (recording the autograd graph), the backward pass (forward + backward minus
/// forward), and Adam alone.
private func gcnStepBenchmark(_ name: String, json: Bool, model: TwoLayerGCN, inputs: Tensor, labels: Tensor,
                              graph: Graph, extra: [(String, Any)]) {
    let optimizer = Adam(parameters: model.parameters, learningRate: 0.01)
    let firstLoss = withoutGradients { crossEntropy(logits: model(inputs), targets: labels).item }
    var lastLoss: Float = 0
    let step = Timing.measure(warmup: 20, minimumIterations: 50, minimumSeconds: 3) {
        lastLoss = trainingStep(optimizer) { crossEntropy(logits: model(inputs), targets: labels) }
    }
    let accuracy = withoutGradients {
        let predictions = model(inputs).argmax(alongAxis: 1).scalars
        return Double(zip(predictions, labels.scalars).filter { $0 == $1 }.count) / Double(labels.count)
    }
    let forwardAndBackward = Timing.measure(warmup: 20, minimumIterations: 50, minimumSeconds: 2) {
        _ = trainingStep(optimizer, step: false) { crossEntropy(logits: model(inputs), targets: labels) }
    }
    // Gradients are in place after the last backward pass: time Adam alone on them.
    let adam = Timing.measure(warmup: 20, minimumIterations: 50, minimumSeconds: 1) { optimizer.step() }
    var operations = 0
    let forward = Timing.measure(warmup: 20, minimumIterations: 50, minimumSeconds: 2) {
        let loss = crossEntropy(logits: model(inputs), targets: labels)
        operations = loss.recordedGraphSize.operations
    }
    let normalization = Timing.measure(warmup: 20, minimumIterations: 50, minimumSeconds: 1) {
        _ = GraphConvolutionNormalization(graph)
    }
    var record = BenchmarkRecord(name, [("nodes", graph.nodeCount), ("edges", graph.edgeCount / 2)] + extra)
    record.add(step)
    record.fields += [("forward_ms", rounded(forward.medianMilliseconds)),
                      ("backward_ms", rounded(forwardAndBackward.medianMilliseconds - forward.medianMilliseconds)),
                      ("adam_ms", rounded(adam.medianMilliseconds)),
                      ("recorded_ops", operations), ("normalization_ms", rounded(normalization.medianMilliseconds)),
                      ("train_acc", rounded(accuracy)), ("first_loss", rounded(Double(firstLoss))), ("final_loss", rounded(Double(lastLoss))), ("threads", 1)]
    record.emit(json: json)
}

/// `shared/bench/gcn.py`: one-hot features (X = I₃₄), hidden 16, two classes (the factions),
/// cross-entropy over all 34 nodes, Adam lr 0.01. The peer adds the first bias before the
/// propagation (`Â (X W₁ + b₁)`), Tessera's `GCNConvolution` after it (`Â X W₁ + b₁`, as Kipf &
/// Welling and PyTorch Geometric); the work per step is the same.
func gcnKarateBenchmark(json: Bool) {
    let graph = try! KarateClub.graph()
    var generator = RandomGenerator(seed: 0)
    let model = TwoLayerGCN(first: GCNConvolution(34, 16, generator: &generator), second: GCNConvolution(16, 2, generator: &generator),
                            normalization: GraphConvolutionNormalization(graph))
    let labels = Tensor(graph.nodeLabels!.map(Float.init))
    gcnStepBenchmark("gcn-karate", json: json, model: model, inputs: Tensor.eye(34), labels: labels, graph: graph, extra: [("hidden", 16)])
}

/// `Tests/Benchmarks/gcn_large.py`: 10 000 nodes, node i linked to i + 1, 7, 31, 211 and 1627
/// (mod n), so 50 000 undirected edges (10⁵ directed messages, plus self-loops); 64 features
/// `sin(0.37 i + 1.3 f)`, hidden 32, 8 classes `i·8 / n` (contiguous blocks along the ring); closed-form weights so the twin starts
/// from the same point and both final losses can be compared.
func gcnLargeBenchmark(json: Bool) {
    let (nodes, features, hidden, classes) = (10_000, 64, 32, 8)
    let offsets = [1, 7, 31, 211, 1627]
    var edges: [(Int, Int)] = []
    for node in 0..<nodes { for offset in offsets { edges.append((node, (node + offset) % nodes)) } }
    let graph = try! Graph(nodeCount: nodes, edges: edges)
    let inputs = Tensor(shape: [nodes, features]) { index in Float(Foundation.sin(0.37 * Double(index / features) + 1.3 * Double(index % features))) }
    let labels = Tensor(shape: [nodes]) { Float($0 * classes / nodes) }
    let w1 = Tensor(shape: [hidden, features]) { index in 0.2 * Float(Foundation.sin(0.7 * Double(index) + 0.1)) }
    let w2 = Tensor(shape: [classes, hidden]) { index in 0.3 * Float(Foundation.cos(1.1 * Double(index) + 0.2)) }
    let model = TwoLayerGCN(first: GCNConvolution(weight: w1, bias: .zeros([hidden])), second: GCNConvolution(weight: w2, bias: .zeros([classes])),
                            normalization: GraphConvolutionNormalization(graph))
    gcnStepBenchmark("gcn-large", json: json, model: model, inputs: inputs, labels: labels, graph: graph,
                     extra: [("features", features), ("hidden", hidden), ("classes", classes)])
}
