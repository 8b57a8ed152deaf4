import TesseraTensor

/// Graph data sets generated from a seed, so recipes and tests need no download.
public enum SyntheticGraphs {
    /// A citation-style node classification set: a stochastic block model (Holland et al., 1983)
    /// whose classes are the blocks, with bag-of-words features that depend on the class.
    ///
    /// Each class owns `vocabularySize / classCount` words of the vocabulary. A node draws
    /// `wordsPerNode` words (with replacement); each is one of its class's words with probability
    /// `topicProbability`, otherwise any word of the vocabulary. With the defaults one node's
    /// words only weakly reveal its class, but a node's neighbours mostly share it (`intraDegree`
    /// expected same-class neighbours against `interDegree` others), so a model that averages over
    /// the graph classifies far better than one that reads the features alone — the point of the
    /// set, as with Cora and CiteSeer (Sen et al., 2008), which it imitates.
    public struct CitationSettings: Equatable, Sendable {
        public var classCount = 5
        public var nodesPerClass = 200
        /// Expected same-class neighbours of a node.
        public var intraDegree = 5.0
        /// Expected neighbours from all other classes together.
        public var interDegree = 1.0
        public var vocabularySize = 250
        public var wordsPerNode = 20
        public var topicProbability = 0.15
        public init() {}
    }

    /// The citation set; features are word counts scaled to sum to 1 per node (row-normalised,
    /// as Kipf & Welling do for Cora). Node `n` belongs to class `n % classCount`.
    public static func citation(_ settings: CitationSettings, generator: inout RandomGenerator) throws -> Graph {
        let classes = settings.classCount, count = classes * settings.nodesPerClass
        let label = (0..<count).map { $0 % classes }
        let pIntra = settings.intraDegree / Double(max(settings.nodesPerClass - 1, 1))
        let pInter = settings.interDegree / Double(max(count - settings.nodesPerClass, 1))
        var edges: [(Int, Int)] = []
        for u in 0..<count {
            for v in (u + 1)..<count where Double(generator.nextUniform()) < (label[u] == label[v] ? pIntra : pInter) {
                edges.append((u, v))
            }
        }
        let topicWidth = settings.vocabularySize / classes
        var features = [Float](repeating: 0, count: count * settings.vocabularySize)
        for node in 0..<count {
            for _ in 0..<settings.wordsPerNode {
                let word = Double(generator.nextUniform()) < settings.topicProbability
                    ? label[node] * topicWidth + generator.nextInt(below: topicWidth)
                    : generator.nextInt(below: settings.vocabularySize)
                features[node * settings.vocabularySize + word] += 1 / Float(settings.wordsPerNode)
            }
        }
        return try Graph(nodeCount: count, edges: edges,
                         nodeFeatures: Tensor(shape: [count, settings.vocabularySize], scalars: features),
                         nodeLabels: label, name: "citation graph")
    }

    /// The Planetoid split (Yang et al., 2016): `perClass` labelled training nodes of each class,
    /// then `validation` nodes, and every other node for testing, drawn by `generator`.
    public static func planetoidSplit(labels: [Int], perClass: Int, validation: Int,
                                      generator: inout RandomGenerator) -> (train: [Int], validation: [Int], test: [Int]) {
        var order = Array(labels.indices)
        shuffle(&order, generator: &generator)
        var taken = [Int: Int](), train: [Int] = [], rest: [Int] = []
        for node in order {
            if taken[labels[node], default: 0] < perClass { taken[labels[node], default: 0] += 1; train.append(node) } else { rest.append(node) }
        }
        let validationCount = min(validation, rest.count)
        return (train.sorted(), Array(rest.prefix(validationCount)).sorted(), Array(rest.dropFirst(validationCount)).sorted())
    }

    /// Cycles against paths with one chord, half each (label 1 = cycle), on
    /// `nodeRange` nodes, with a constant feature per node: a graph classification set that
    /// needs the graph's structure, since every node looks the same.
    ///
    /// A path-plus-chord graph has as many edges as the cycle of its size; what tells them apart
    /// is the degrees along the structure (a cycle is 2-regular; the path has two ends of degree 1
    /// and the chord makes two nodes of degree 3), which 1-WL — and so GIN — sees in one round.
    public static func cyclesAndChordedPaths(count: Int, nodeRange: ClosedRange<Int>,
                                             generator: inout RandomGenerator) throws -> [Graph] {
        precondition(nodeRange.lowerBound >= 4, "cyclesAndChordedPaths: a chorded path needs at least 4 nodes")
        return try (0..<count).map { index in
            let n = nodeRange.lowerBound + generator.nextInt(below: nodeRange.count)
            let isCycle = index % 2 == 0
            var edges = (0..<(n - 1)).map { ($0, $0 + 1) }
            if isCycle {
                edges.append((n - 1, 0))
            } else {
                // A chord between two nodes at least two apart that is not the closing edge.
                var (u, v) = (0, 0)
                repeat {
                    u = generator.nextInt(below: n)
                    v = generator.nextInt(below: n)
                } while abs(u - v) < 2 || Set([u, v]) == Set([0, n - 1])
                edges.append((min(u, v), max(u, v)))
            }
            let relabelled = relabel(edges, nodeCount: n, generator: &generator)
            return try Graph(nodeCount: n, edges: relabelled, nodeFeatures: Tensor.ones([n, 1]), graphLabel: isCycle ? 1 : 0,
                             name: "cycles-and-chorded-paths graph \(index)")
        }
    }

    /// Erdős–Rényi graphs G(n, p) with `nodeRange` nodes and the number of triangles each
    /// contains as the graph label (a regression target), constant node features.
    public static func triangleCounting(count: Int, nodeRange: ClosedRange<Int>, edgeProbability: Double,
                                        generator: inout RandomGenerator) throws -> [Graph] {
        try (0..<count).map { index in
            let n = nodeRange.lowerBound + generator.nextInt(below: nodeRange.count)
            var edges: [(Int, Int)] = []
            for u in 0..<n { for v in (u + 1)..<n where Double(generator.nextUniform()) < edgeProbability { edges.append((u, v)) } }
            return try Graph(nodeCount: n, edges: edges, nodeFeatures: Tensor.ones([n, 1]),
                             graphLabel: Float(triangles(nodeCount: n, edges: edges)), name: "triangle-counting graph \(index)")
        }
    }

    /// The number of triangles of an undirected simple graph.
    public static func triangles(nodeCount: Int, edges: [(Int, Int)]) -> Int {
        var adjacent = [Set<Int>](repeating: [], count: nodeCount)
        for (u, v) in edges where u != v { adjacent[u].insert(v); adjacent[v].insert(u) }
        // Each triangle u < v < w is counted once, from its edge (u, v).
        var total = 0
        for u in 0..<nodeCount {
            for v in adjacent[u] where v > u { total += adjacent[u].intersection(adjacent[v]).filter { $0 > v }.count }
        }
        return total
    }

    // MARK: - Helpers

    /// Fisher–Yates with the generator's stream.
    public static func shuffle(_ values: inout [Int], generator: inout RandomGenerator) {
        guard values.count > 1 else { return }
        for i in stride(from: values.count - 1, to: 0, by: -1) { values.swapAt(i, generator.nextInt(below: i + 1)) }
    }

    /// The edges under a random permutation of the node numbers, so node order carries no hint.
    static func relabel(_ edges: [(Int, Int)], nodeCount: Int, generator: inout RandomGenerator) -> [(Int, Int)] {
        var permutation = Array(0..<nodeCount)
        shuffle(&permutation, generator: &generator)
        return edges.map { (permutation[$0.0], permutation[$0.1]) }
    }
}
