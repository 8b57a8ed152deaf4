import Testing
import TesseraTensor
@testable import TesseraGraph

/// 1-WL against networkx (`wl.json`, written by `Tests/Fixtures/fixtures_wl.py`): 300 pairs of random,
/// relabelled, regular, one-edge-apart and differently sized graphs, and 65 pairs whose node labels
/// are the initial colours, each with networkx's hash equality at `iterations = n` and
/// `nx.is_isomorphic` (keeping labels) as ground truth.
@Suite struct WeisfeilerLehmanTests {
    struct Pair {
        let key: String
        let first: Graph
        let second: Graph
        let hashesEqual: Bool
        let isomorphic: Bool
        /// Whether the nodes carry labels that start the refinement.
        var labelled: Bool { first.nodeLabels != nil }
    }

    /// `keys`: the fixture's keys, gathered once (``Fixture/keys`` sorts them on every call).
    static func pair(_ key: String, in fixture: Fixture, keys: Set<String>) throws -> Pair {
        func graph(_ side: String) throws -> Graph {
            let nodes = Int(try fixture.values("\(key).\(side).nodes").data[0])
            let edges = try fixture.rows("\(key).\(side).edges").map { (Int($0[0]), Int($0[1])) }
            let labels = keys.contains("\(key).\(side).labels")
                ? try fixture.values("\(key).\(side).labels").data.map { Int($0) } : nil
            return try Graph(nodeCount: nodes, edges: edges, nodeLabels: labels, name: "\(key).\(side)")
        }
        return Pair(key: key, first: try graph("a"), second: try graph("b"),
                    hashesEqual: try fixture.values("\(key).wl_equal").data[0] == 1,
                    isomorphic: try fixture.values("\(key).isomorphic").data[0] == 1)
    }

    /// The `pair<k>` (unlabelled) or `labelled<k>` pairs.
    static func pairs(_ prefix: String) throws -> [Pair] {
        let fixture = try Fixture("wl")
        let keys = Set(fixture.keys)
        let pairKeys = keys.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".wl_equal") }.map { String($0.dropLast(".wl_equal".count)) }
        return try pairKeys.sorted().map { try pair($0, in: fixture, keys: keys) }
    }

    static let groups = ["pair", "labelled"]

    @Test(arguments: groups)
    func theFixtureHoldsEveryKindOfPair(_ group: String) throws {
        let pairs = try Self.pairs(group)
        #expect(pairs.count == (group == "pair" ? 300 : 65))
        #expect(pairs.allSatisfy { $0.labelled == (group == "labelled") })
        #expect(pairs.contains { $0.isomorphic }, "isomorphic pairs")
        #expect(pairs.contains { !$0.hashesEqual }, "pairs networkx separates")
        #expect(pairs.contains { $0.hashesEqual && !$0.isomorphic }, "pairs 1-WL cannot separate")
    }

    @Test(arguments: groups)
    func theVerdictAgreesWithNetworkxHashEqualityOnEveryPair(_ group: String) throws {
        for pair in try Self.pairs(group) {
            let result = try WeisfeilerLehman(pair.first, pair.second, usingNodeLabels: pair.labelled)
            #expect(result.verdict.isPossiblyIsomorphic == pair.hashesEqual, "\(pair.key): \(result.verdict)")
        }
    }

    @Test(arguments: groups)
    func theHashIsEqualExactlyWhenNetworkxHashesAreEqual(_ group: String) throws {
        for pair in try Self.pairs(group) {
            let iterations = max(pair.first.nodeCount, pair.second.nodeCount)
            let equal = try WeisfeilerLehman.hash(pair.first, iterations: iterations, usingNodeLabels: pair.labelled)
                == WeisfeilerLehman.hash(pair.second, iterations: iterations, usingNodeLabels: pair.labelled)
            #expect(equal == pair.hashesEqual, "\(pair.key)")
        }
    }

    @Test(arguments: groups)
    func notIsomorphicIsOnlySaidOfGraphsThatAreNot(_ group: String) throws {
        var separated = 0
        for pair in try Self.pairs(group) {
            let result = try WeisfeilerLehman(pair.first, pair.second, usingNodeLabels: pair.labelled)
            guard case .notIsomorphic(let round) = result.verdict else { continue }
            separated += 1
            #expect(!pair.isomorphic, "\(pair.key): isomorphic graphs called different in round \(round)")
            let histograms = try #require(result.colourings.last).histograms
            #expect(result.colourings.count == round + 1 && histograms.first != histograms.second, "\(pair.key)")
        }
        #expect(separated > 0)
    }

    @Test(arguments: groups)
    func everyIsomorphicPairIsPossiblyIsomorphic(_ group: String) throws {
        for pair in try Self.pairs(group) where pair.isomorphic {
            let result = try WeisfeilerLehman(pair.first, pair.second, usingNodeLabels: pair.labelled)
            #expect(result.verdict.isPossiblyIsomorphic, "\(pair.key): \(result.verdict)")
        }
    }

    @Test func twoTrianglesAndAHexagonLookAlikeToOneWL() throws {
        let fixture = try Fixture("wl")
        let pair = try Self.pair("trianglesHexagon", in: fixture, keys: Set(fixture.keys))
        #expect(!pair.isomorphic, "networkx: one is connected, the other not")
        let result = try WeisfeilerLehman(pair.first, pair.second, usingNodeLabels: pair.labelled)
        // Both are 2-regular: the first round splits nothing.
        #expect(result.verdict == .possiblyIsomorphic(rounds: 1))
        #expect(result.colourings.map(\.classCount) == [1, 1])
    }

    @Test func aPathAndAStarOfFiveNodesSeparateInRoundOne() throws {
        let path = try Graph(nodeCount: 5, edges: [(0, 1), (1, 2), (2, 3), (3, 4)])
        let star = try Graph(nodeCount: 5, edges: [(0, 1), (0, 2), (0, 3), (0, 4)])
        let result = try WeisfeilerLehman(path, star)
        // Same node count, so round 0 agrees; their degrees (1, 2, 2, 2, 1 and 4, 1, 1, 1, 1) do not.
        #expect(result.verdict == .notIsomorphic(round: 1))
        // One table for both graphs: the ends of the path and the leaves of the star share colour 0.
        #expect(result.colourings[1].first == [0, 1, 1, 1, 0])
        #expect(result.colourings[1].second == [2, 0, 0, 0, 0])
    }

    @Test func nodeLabelsAreTheInitialColoursWhenAsked() throws {
        let first = try Graph(nodeCount: 3, edges: [(0, 1), (1, 2), (2, 0)], nodeLabels: [0, 0, 1])
        let second = try Graph(nodeCount: 3, edges: [(0, 1), (1, 2), (2, 0)], nodeLabels: [1, 1, 0])
        #expect(try WeisfeilerLehman(first, second).verdict == .possiblyIsomorphic(rounds: 1))
        #expect(try WeisfeilerLehman(first, second, usingNodeLabels: true).verdict == .notIsomorphic(round: 0))
        #expect(try WeisfeilerLehman.hash(first, iterations: 2, usingNodeLabels: true)
                != WeisfeilerLehman.hash(second, iterations: 2, usingNodeLabels: true))
        let unlabelled = try Graph(nodeCount: 3, edges: [(0, 1), (1, 2), (2, 0)])
        #expect(throws: GraphError("weisfeiler–lehman: the second graph has no node labels to start from")) {
            try WeisfeilerLehman(first, unlabelled, usingNodeLabels: true)
        }
    }
}
