import Foundation
import Testing
import TesseraTensor
@testable import TesseraGraph

@Suite struct GraphTests {
    @Test func undirectedEdgesAreStoredInBothDirectionsAndSelfLoopsOnce() throws {
        let graph = try Graph(nodeCount: 3, edges: [(0, 1), (1, 2), (2, 2)], weights: [2, 3, 4])
        #expect(graph.sources == [0, 1, 1, 2, 2])
        #expect(graph.targets == [1, 0, 2, 1, 2])
        #expect(graph.edgeWeights == [2, 2, 3, 3, 4])
        #expect(graph.inDegrees == [2, 5, 7])
    }

    @Test func edgesOutsideTheNodeRangeAreRejectedNamingTheEdge() {
        #expect(throws: GraphError("g: edge 1 (2 → 3) points outside the node range 0..<3")) {
            try Graph(nodeCount: 3, edges: [(0, 1), (2, 3)], name: "g")
        }
    }

    @Test func anEdgeIndexTensorMustHoldWholeNonNegativeNumbers() {
        #expect(throws: GraphError("edges: entry [1, 1] is 1.5; node indices are whole numbers")) {
            try Graph(nodeCount: 3, edgeIndex: Tensor([[0, 1], [1, 1.5]]), name: "edges")
        }
        #expect(throws: GraphError("edges: entry [0, 0] is -1; node indices are not negative")) {
            try Graph(nodeCount: 3, edgeIndex: Tensor([[-1, 1], [1, 2]]), name: "edges")
        }
        #expect(throws: GraphError("edges: an edge index has shape [2, edges], got [3, 2]")) {
            try Graph(nodeCount: 3, edgeIndex: Tensor.zeros([3, 2]), name: "edges")
        }
    }

    @Test func featureRowsMustMatchTheNodeCount() {
        #expect(throws: GraphError("g: node features of shape [4, 2] do not fit 3 nodes; expected [3, features]")) {
            try Graph(nodeCount: 3, edges: [(0, 1)], nodeFeatures: Tensor.zeros([4, 2]), name: "g")
        }
    }

    @Test func selfLoopsAreAddedOnlyWhereMissing() throws {
        let graph = try Graph(nodeCount: 3, edges: [(0, 1), (2, 2)]).addingSelfLoops()
        #expect(graph.edgeCount == 5)
        #expect(graph.inDegrees == [2, 2, 1])
    }

    @Test func aBatchShiftsEachMembersNodesAndSplitsBack() throws {
        let first = try Graph(nodeCount: 2, edges: [(0, 1)], nodeFeatures: Tensor([[1], [2]]), graphLabel: 0)
        let second = try Graph(nodeCount: 3, edges: [(0, 2)], nodeFeatures: Tensor([[3], [4], [5]]), graphLabel: 1)
        let batch = try GraphBatch([first, second])
        #expect(batch.graph.nodeCount == 5)
        #expect(batch.graph.sources == [0, 1, 2, 4])
        #expect(batch.graph.targets == [1, 0, 4, 2])
        #expect(batch.graphIndex == [0, 0, 1, 1, 1])
        #expect(batch.graphLabels == [0, 1])
        let parts = batch.split(batch.graph.nodeFeatures!)
        #expect(parts.map(\.scalars) == [[1, 2], [3, 4, 5]])
    }

    @Test func membersWithDifferentFeatureWidthsDoNotBatch() throws {
        let first = try Graph(nodeCount: 1, edges: [], nodeFeatures: Tensor([[1]]))
        let second = try Graph(nodeCount: 1, edges: [], nodeFeatures: Tensor([[1, 2]]))
        #expect(throws: GraphError("graph batch: members have different feature widths [\"1\", \"2\"]")) { try GraphBatch([first, second]) }
    }
}

@Suite struct GraphReaderTests {
    @Test func theBundledKarateClubHas34MembersAnd78FriendshipsIn2Factions() throws {
        let club = try KarateClub.graph()
        #expect(club.nodeCount == 34)
        #expect(club.edgeCount == 156)
        #expect(club.edgeWeights == nil)
        #expect(club.nodeLabels?.filter { $0 == 0 }.count == 17)
        #expect(club.nodeLabels?[0] == 0 && club.nodeLabels?[33] == 1)
        let weighted = try KarateClub.graph(weighted: true)
        let total = weighted.edgeWeights!.reduce(Float(0), +)
        #expect(total == 462, "networkx: the interaction counts add up to 231, each stored twice")
    }

    @Test func edgeListErrorsNameTheFileAndLine() {
        #expect(throws: GraphError("e.csv:3: target 1.5 is not a whole number; nodes are numbered 0, 1, 2, …")) {
            try GraphReaders.edgeList(text: "u,v\n0,1\n1,1.5\n", file: "e.csv")
        }
        #expect(throws: GraphError("e.csv:2: source -2 is negative; nodes are numbered from 0")) {
            try GraphReaders.edgeList(text: "0,1\n-2,1\n", file: "e.csv")
        }
        #expect(throws: GraphError("e.csv:2: edge 0 → 5 names a node outside 0..<4")) {
            try GraphReaders.edgeList(text: "0,1\n0,5\n", file: "e.csv", nodeCount: 4)
        }
        #expect(throws: GraphError("e.csv:2: lacks a weight column, unlike the lines before it")) {
            try GraphReaders.edgeList(text: "0,1,2\n1,2\n", file: "e.csv")
        }
    }

    @Test func labelFilesMustNameKnownNodesOnce() {
        #expect(throws: GraphError("l.csv:3: node 7 is unknown; the graph has nodes 0..<3")) {
            try GraphReaders.nodeLabels(text: "node,label\n0,1\n7,0\n", file: "l.csv", nodeCount: 3)
        }
        #expect(throws: GraphError("l.csv: node 2 has no label (every node of 0..<3 needs one)")) {
            try GraphReaders.nodeLabels(text: "0,1\n1,0\n", file: "l.csv", nodeCount: 3)
        }
        #expect(throws: GraphError("l.csv:2: node 0 is labelled a second time")) {
            try GraphReaders.nodeLabels(text: "0,1\n0,0\n", file: "l.csv", nodeCount: 3)
        }
    }
}
