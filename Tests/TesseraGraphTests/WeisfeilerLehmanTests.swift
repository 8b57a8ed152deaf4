import Testing
import TesseraTensor
@testable import TesseraGraph

/// 1-WL against networkx (`wl.json`, written by `Tests/Fixtures/fixtures_wl.py`): 300 pairs of random,
/// relabelled, regular, one-edge-apart and differently sized graphs, each with networkx's hash
/// equality at `iterations = n` and `nx.is_isomorphic` as ground truth.
@Suite struct WeisfeilerLehmanTests {
    struct Pair {
        let key: String
        let first: Graph
        let second: Graph
        let hashesEqual: Bool
        let isomorphic: Bool
    }

    static func pair(_ key: String, in fixture: Fixture) throws -> Pair {
        func graph(_ side: String) throws -> Graph {
            let nodes = Int(try fixture.values("\(key).\(side).nodes").data[0])
            let edges = try fixture.rows("\(key).\(side).edges").map { (Int($0[0]), Int($0[1])) }
            return try Graph(nodeCount: nodes, edges: edges, name: "\(key).\(side)")
        }
        return Pair(key: key, first: try graph("a"), second: try graph("b"),
                    hashesEqual: try fixture.values("\(key).wl_equal").data[0] == 1,
                    isomorphic: try fixture.values("\(key).isomorphic").data[0] == 1)
    }

    static func pairs() throws -> [Pair] {
        let fixture = try Fixture("wl")
        let keys = fixture.keys.filter { $0.hasPrefix("pair") && $0.hasSuffix(".wl_equal") }.map { String($0.dropLast(".wl_equal".count)) }
        return try keys.map { try pair($0, in: fixture) }
    }

    @Test func theFixtureHoldsEveryKindOfPair() throws {
        let pairs = try Self.pairs()
        #expect(pairs.count == 300)
        #expect(pairs.contains { $0.isomorphic }, "isomorphic pairs")
        #expect(pairs.contains { !$0.hashesEqual }, "pairs networkx separates")
        #expect(pairs.contains { $0.hashesEqual && !$0.isomorphic }, "pairs 1-WL cannot separate")
    }

    @Test func theVerdictAgreesWithNetworkxHashEqualityOnEveryPair() throws {
        for pair in try Self.pairs() {
            let result = try WeisfeilerLehman(pair.first, pair.second)
            #expect(result.verdict.isPossiblyIsomorphic == pair.hashesEqual, "\(pair.key): \(result.verdict)")
        }
    }

    @Test func theHashIsEqualExactlyWhenNetworkxHashesAreEqual() throws {
        for pair in try Self.pairs() {
            let iterations = max(pair.first.nodeCount, pair.second.nodeCount)
            let equal = try WeisfeilerLehman.hash(pair.first, iterations: iterations)
                == WeisfeilerLehman.hash(pair.second, iterations: iterations)
            #expect(equal == pair.hashesEqual, "\(pair.key)")
        }
    }

    @Test func notIsomorphicIsOnlySaidOfGraphsThatAreNot() throws {
        var separated = 0
        for pair in try Self.pairs() {
            let result = try WeisfeilerLehman(pair.first, pair.second)
            guard case .notIsomorphic(let round) = result.verdict else { continue }
            separated += 1
            #expect(!pair.isomorphic, "\(pair.key): isomorphic graphs called different in round \(round)")
            let histograms = try #require(result.colourings.last).histograms
            #expect(result.colourings.count == round + 1 && histograms.first != histograms.second, "\(pair.key)")
        }
        #expect(separated > 0)
    }

    @Test func everyIsomorphicPairIsPossiblyIsomorphic() throws {
        for pair in try Self.pairs() where pair.isomorphic {
            let result = try WeisfeilerLehman(pair.first, pair.second)
            #expect(result.verdict.isPossiblyIsomorphic, "\(pair.key): \(result.verdict)")
        }
    }

    @Test func twoTrianglesAndAHexagonLookAlikeToOneWL() throws {
        let pair = try Self.pair("trianglesHexagon", in: try Fixture("wl"))
        #expect(!pair.isomorphic, "networkx: one is connected, the other not")
        let result = try WeisfeilerLehman(pair.first, pair.second)
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
