import Foundation
import TesseraGraph
import TesseraNN
import TesseraPicture
import TesseraTensor

// MARK: - Node tasks

/// Semi-supervised node classification on one graph (transductive, as Kipf & Welling): every
/// step runs the whole graph through the network and the loss is the mean cross entropy over
/// the labelled training nodes. With several processes each takes its ``BatchShard`` of the
/// (sorted) training nodes and divides its summed loss by the number of all of them, so the
/// averaged gradient is the one-process gradient.
final class NodeLevelWorkload: StepWorkload {
    let recipe: GraphRecipe
    let graph: Graph
    let features: Tensor
    let labels: Tensor
    let trainNodes: [Int], validationNodes: [Int], testNodes: [Int]
    let network: NodeClassifier
    var model: any Module { network }
    let primaryMetric = "test_accuracy"

    init(_ recipe: GraphRecipe, recipeFile: String, generator: inout RandomGenerator) throws {
        self.recipe = recipe
        var split = RandomGenerator(seed: recipe.seed).derived(stream: RandomStreams.data)
        var graph: Graph
        switch recipe.data.source {
        case .karate:
            graph = try KarateClub.graph()
            // One labelled member per faction: the two leaders (Kipf & Welling's demo).
            trainNodes = KarateClub.leaders
            validationNodes = []
            testNodes = (0..<graph.nodeCount).filter { !KarateClub.leaders.contains($0) }
        case .citation:
            var settings = SyntheticGraphs.CitationSettings()
            let d = recipe.data
            (settings.classCount, settings.nodesPerClass, settings.intraDegree, settings.interDegree) =
                (d.classCount, d.nodesPerClass, d.intraDegree, d.interDegree)
            (settings.vocabularySize, settings.wordsPerNode, settings.topicProbability) = (d.vocabularySize, d.wordsPerNode, d.topicProbability)
            graph = try SyntheticGraphs.citation(settings, generator: &split)
            (trainNodes, validationNodes, testNodes) = SyntheticGraphs.planetoidSplit(
                labels: graph.nodeLabels!, perClass: d.trainPerClass, validation: d.validationNodes, generator: &split)
        case .edgeList:
            let edges = Self.resolve(recipe.data.edgesPath!, besideRecipe: recipeFile)
            let labelFile = Self.resolve(recipe.data.labelsPath!, besideRecipe: recipeFile)
            graph = try GraphReaders.edgeList(contentsOf: edges)
            graph.nodeLabels = try GraphReaders.nodeLabels(contentsOf: labelFile, nodeCount: graph.nodeCount)
            (trainNodes, validationNodes, testNodes) = SyntheticGraphs.planetoidSplit(
                labels: graph.nodeLabels!, perClass: recipe.data.trainPerClass, validation: recipe.data.validationNodes,
                generator: &split)
        case .cycles, .triangles:
            preconditionFailure("NodeLevelWorkload: \(recipe.data.source) is a graph task")
        }
        // Graphs without features get one-hot node identities (X = I, as for the karate club).
        if graph.nodeFeatures == nil { graph.nodeFeatures = Tensor.eye(graph.nodeCount) }
        self.graph = graph
        features = graph.nodeFeatures!
        labels = Tensor(graph.nodeLabels!.map(Float.init))
        let classCount = graph.nodeLabels!.max()! + 1
        network = try makeNodeClassifier(recipe.model, inputSize: graph.featureCount, classCount: classCount, generator: &generator)
    }

    /// A data path as given if absolute or present from here, else beside the recipe file.
    static func resolve(_ path: String, besideRecipe recipeFile: String) -> URL {
        if path.hasPrefix("/") || FileManager.default.fileExists(atPath: path) { return URL(fileURLWithPath: path) }
        return URL(fileURLWithPath: recipeFile).deletingLastPathComponent().appendingPathComponent(path)
    }

    func trainingLoss(step: Int, shard: BatchShard) -> (loss: Tensor, examples: Int) {
        let mine = Array(trainNodes[shard.rows(of: trainNodes.count)])
        let index = Tensor(mine.map(Float.init))
        let logits = network(features, graph: graph).indexSelect(alongAxis: 0, indices: index)
        let loss = crossEntropy(logits: logits, targets: labels.indexSelect(alongAxis: 0, indices: index), reduction: .sum)
            / Float(trainNodes.count)
        return (loss, mine.count)
    }

    func evaluate() -> [String: Double] {
        network.eval()
        defer { network.train() }
        return withoutGradients {
            let logits = network(features, graph: graph)
            var metrics: [String: Double] = [:]
            for (name, nodes) in [("train", trainNodes), ("validation", validationNodes), ("test", testNodes)] where !nodes.isEmpty {
                let index = Tensor(nodes.map(Float.init))
                let chosen = logits.indexSelect(alongAxis: 0, indices: index), targets = labels.indexSelect(alongAxis: 0, indices: index)
                metrics["\(name)_accuracy"] = Double(chosen.argmax(alongAxis: -1).equal(targets).mean().item)
                if name == "test" { metrics["test_loss"] = Double(crossEntropy(logits: chosen, targets: targets).item) }
            }
            if let iterations = network.fixedPointIterations { metrics["fixed_point_iterations"] = Double(iterations) }
            return metrics
        }
    }

    /// The karate demo's picture: the last hidden layer, when it is 2-D, coloured by faction.
    func writeArtifacts(to run: RunDirectory) throws {
        let embedding = withoutGradients { () -> Tensor in
            network.eval()
            defer { network.train() }
            return network.lastHidden(features, graph: graph)
        }
        guard embedding.shape[1] == 2 else { return }
        let values = embedding.scalars, labels = graph.nodeLabels!
        let points = (0..<graph.nodeCount).map { node in
            ScatterPlot.Point(x: Double(values[2 * node]), y: Double(values[2 * node + 1]), classIndex: labels[node],
                              label: trainNodes.contains(node) ? "\(node)*" : "\(node)")
        }
        let classNames = recipe.data.source == .karate ? ["Mr. Hi", "Officer"] : (0...(labels.max() ?? 0)).map { "class \($0)" }
        try ScatterPlot(points: points, title: "\(recipe.name): 2-D embedding, * labelled", classNames: classNames)
            .render().writePNG(to: run.url.appendingPathComponent("embedding.png"))
    }
}

// MARK: - Graph tasks

/// Classification or regression of whole graphs: each step draws `data.batchSize` training
/// graphs (a pure function of the seed and the step), batches this process's share into one
/// disjoint graph, and divides the summed loss by the global batch size. Triangle counts are
/// regressed standardised (by the training set's mean and deviation) and reported in counts.
final class GraphLevelWorkload: StepWorkload {
    let recipe: GraphRecipe
    let trainGraphs: [Graph], testGraphs: [Graph]
    let network: GraphClassifier
    let isRegression: Bool
    let targetMean: Float, targetScale: Float
    var model: any Module { network }
    var primaryMetric: String { isRegression ? "test_mae" : "test_accuracy" }
    var primaryMetricIsHigherBetter: Bool { !isRegression }

    init(_ recipe: GraphRecipe, generator: inout RandomGenerator) throws {
        self.recipe = recipe
        let d = recipe.data
        var data = RandomGenerator(seed: recipe.seed).derived(stream: RandomStreams.data)
        isRegression = d.source == .triangles
        let graphs = isRegression
            ? try SyntheticGraphs.triangleCounting(count: d.graphCount, nodeRange: d.minimumNodes...d.maximumNodes,
                                                   edgeProbability: d.edgeProbability, generator: &data)
            : try SyntheticGraphs.cyclesAndChordedPaths(count: d.graphCount, nodeRange: d.minimumNodes...d.maximumNodes, generator: &data)
        var order = Array(graphs.indices)
        SyntheticGraphs.shuffle(&order, generator: &data)
        let testCount = max(1, Int((Double(graphs.count) * d.testFraction).rounded()))
        testGraphs = order.prefix(testCount).map { graphs[$0] }
        trainGraphs = order.dropFirst(testCount).map { graphs[$0] }
        let targets = trainGraphs.map { $0.graphLabel! }
        let mean = targets.reduce(0, +) / Float(targets.count)
        let deviation = (targets.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(targets.count)).squareRoot()
        (targetMean, targetScale) = isRegression ? (mean, max(deviation, 1e-6)) : (0, 1)
        network = try makeGraphClassifier(recipe.model, inputSize: graphs[0].featureCount, outputSize: isRegression ? 1 : 2,
                                          generator: &generator)
    }

    func trainingLoss(step: Int, shard: BatchShard) -> (loss: Tensor, examples: Int) {
        let order = stepBatch(seed: recipe.seed, step: step, batchSize: recipe.data.batchSize, count: trainGraphs.count)
        let size = order.count
        let mine = order[shard.rows(of: size)].map { trainGraphs[$0] }
        let batch = try! GraphBatch(mine)
        let outputs = network(batch)
        return (loss(outputs, batch: batch) / Float(size), mine.count)
    }

    /// The summed loss of a batch: cross entropy, or squared error of the standardised count.
    private func loss(_ outputs: Tensor, batch: GraphBatch) -> Tensor {
        let labels = Tensor(batch.graphLabels!)
        if isRegression {
            let error = outputs.reshape([-1]) - (labels - targetMean) / targetScale
            return (error * error).sum()
        }
        return crossEntropy(logits: outputs, targets: labels, reduction: .sum)
    }

    func evaluate() -> [String: Double] {
        network.eval()
        defer { network.train() }
        return withoutGradients {
            let batch = try! GraphBatch(testGraphs)
            let outputs = network(batch), labels = Tensor(batch.graphLabels!)
            var metrics = ["test_loss": Double(loss(outputs, batch: batch).item) / Double(testGraphs.count)]
            if isRegression {
                let predictions = outputs.reshape([-1]) * targetScale + targetMean
                let errors = (predictions - labels).abs()
                metrics["test_mae"] = Double(errors.mean().item)
                metrics["test_rmse"] = Double((errors * errors).mean().item.squareRoot())
                // Context for the error: always predicting the training mean.
                metrics["baseline_mae"] = Double((labels - targetMean).abs().mean().item)
            } else {
                metrics["test_accuracy"] = Double(outputs.argmax(alongAxis: -1).equal(labels).mean().item)
            }
            return metrics
        }
    }
}
