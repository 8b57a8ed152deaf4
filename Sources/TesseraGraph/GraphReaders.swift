import Foundation
import TesseraTensor

/// Graphs from CSV text: an edge list (`source,target[,weight]` per line) and a node-label file
/// (`node,…,label` per line, the label in the last column). A first line that is not numeric is
/// a header and is skipped; blank lines are skipped. Every other line must parse, or the reader
/// throws naming the file, the line and what it expected: nothing is silently dropped.
public enum GraphReaders {
    /// Reads an edge list. Nodes are numbered from 0; `nodeCount` defaults to one more than the
    /// largest index named. A third column gives edge weights (all lines need one, or none).
    public static func edgeList(contentsOf url: URL, nodeCount: Int? = nil, directed: Bool = false) throws -> Graph {
        try edgeList(text: try readText(url), file: url.path, nodeCount: nodeCount, directed: directed)
    }

    public static func edgeList(text: String, file: String, nodeCount: Int? = nil, directed: Bool = false) throws -> Graph {
        var edges: [(Int, Int)] = [], weights: [Float] = []
        var weighted: Bool? = nil
        for (lineNumber, fields) in try rows(text, file: file) {
            guard fields.count == 2 || fields.count == 3 else {
                throw GraphError("\(file):\(lineNumber): expected 'source,target' or 'source,target,weight', found \(fields.count) fields")
            }
            if let weighted, weighted != (fields.count == 3) {
                throw GraphError("\(file):\(lineNumber): \(fields.count == 3 ? "has" : "lacks") a weight column, unlike the lines before it")
            }
            weighted = fields.count == 3
            let source = try nodeIndex(fields[0], file: file, line: lineNumber, column: "source")
            let target = try nodeIndex(fields[1], file: file, line: lineNumber, column: "target")
            if let nodeCount, source >= nodeCount || target >= nodeCount {
                throw GraphError("\(file):\(lineNumber): edge \(source) → \(target) names a node outside 0..<\(nodeCount)")
            }
            if fields.count == 3 {
                guard let weight = Float(fields[2]), weight.isFinite else {
                    throw GraphError("\(file):\(lineNumber): weight '\(fields[2])' is not a finite number")
                }
                weights.append(weight)
            }
            edges.append((source, target))
        }
        let count = nodeCount ?? ((edges.map { Swift.max($0.0, $0.1) }.max() ?? -1) + 1)
        return try Graph(nodeCount: count, edges: edges, weights: weighted == true ? weights : nil, directed: directed, name: file)
    }

    /// Reads one class label per node from the last column (`node,…,label`). Every node of
    /// `0..<nodeCount` must appear exactly once.
    public static func nodeLabels(contentsOf url: URL, nodeCount: Int) throws -> [Int] {
        try nodeLabels(text: try readText(url), file: url.path, nodeCount: nodeCount)
    }

    public static func nodeLabels(text: String, file: String, nodeCount: Int) throws -> [Int] {
        var labels = [Int?](repeating: nil, count: nodeCount)
        for (lineNumber, fields) in try rows(text, file: file) {
            guard fields.count >= 2 else {
                throw GraphError("\(file):\(lineNumber): expected 'node,label' (label in the last column), found \(fields.count) field")
            }
            let node = try nodeIndex(fields[0], file: file, line: lineNumber, column: "node")
            guard node < nodeCount else {
                throw GraphError("\(file):\(lineNumber): node \(node) is unknown; the graph has nodes 0..<\(nodeCount)")
            }
            guard let label = Int(fields.last!), label >= 0 else {
                throw GraphError("\(file):\(lineNumber): label '\(fields.last!)' is not a non-negative whole number")
            }
            guard labels[node] == nil else { throw GraphError("\(file):\(lineNumber): node \(node) is labelled a second time") }
            labels[node] = label
        }
        if let missing = labels.firstIndex(where: { $0 == nil }) {
            throw GraphError("\(file): node \(missing) has no label (every node of 0..<\(nodeCount) needs one)")
        }
        return labels.map { $0! }
    }

    // MARK: - CSV lines

    private static func readText(_ url: URL) throws -> String {
        do { return try String(contentsOf: url, encoding: .utf8) } catch {
            throw GraphError("\(url.path): cannot read the file (\(error.localizedDescription))")
        }
    }

    /// The non-blank lines split at commas, numbered from 1, without a leading header line.
    private static func rows(_ text: String, file: String) throws -> [(Int, [String])] {
        var result: [(Int, [String])] = []
        for (offset, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            let fields = trimmed.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            if result.isEmpty && offset == 0 && Double(fields[0]) == nil { continue }  // header
            result.append((offset + 1, fields))
        }
        return result
    }

    private static func nodeIndex(_ field: String, file: String, line: Int, column: String) throws -> Int {
        guard let value = Double(field) else { throw GraphError("\(file):\(line): \(column) '\(field)' is not a number") }
        guard let index = Int(exactly: value) else {
            throw GraphError("\(file):\(line): \(column) \(field) is not a whole number; nodes are numbered 0, 1, 2, …")
        }
        guard index >= 0 else { throw GraphError("\(file):\(line): \(column) \(index) is negative; nodes are numbered from 0") }
        return index
    }
}

/// Zachary's karate club (1977), bundled: 34 members, 78 friendships weighted by the number of
/// contexts of interaction, and the faction each member joined when the club split (Mr. Hi = 0,
/// Officer = 1). Attribution in `Resources/KARATE-LICENSE.md`.
public enum KarateClub {
    /// The club as an undirected graph with its faction labels; `weighted: false` drops the
    /// interaction counts (as `networkx.to_numpy_array(weight=None)` does).
    public static func graph(weighted: Bool = false) throws -> Graph {
        guard let edgesURL = Bundle.module.url(forResource: "karate_edges", withExtension: "csv", subdirectory: "Resources"),
              let labelsURL = Bundle.module.url(forResource: "karate_club_labels", withExtension: "csv", subdirectory: "Resources") else {
            throw GraphError("the bundled karate club files are missing from TesseraGraph's resources")
        }
        let read = try GraphReaders.edgeList(contentsOf: edgesURL, nodeCount: 34)
        var graph = weighted ? read : try Graph(nodeCount: 34, sources: read.sources, targets: read.targets, edgeWeights: nil,
                                                isDirected: false, nodeFeatures: nil, nodeLabels: nil, graphLabel: nil,
                                                name: edgesURL.path)
        graph.nodeLabels = try GraphReaders.nodeLabels(contentsOf: labelsURL, nodeCount: 34)
        return graph
    }

    /// The members the two faction leaders are: Mr. Hi (0) and the Officer (33).
    public static let leaders = [0, 33]
}
