/// The 1-dimensional Weisfeiler–Leman test (colour refinement; B. Weisfeiler and A. Leman, "The
/// reduction of a graph to canonical form and the algebra which appears therein", 1968), run on two
/// graphs jointly, and the Weisfeiler–Lehman graph hash built on it (N. Shervashidze, P. Schweitzer,
/// E. J. van Leeuwen, K. Mehlhorn and K. Borgwardt, "Weisfeiler–Lehman graph kernels", JMLR 12, 2011).
///
/// Every node starts with one colour (or, on request, its node label). Each round recolours every
/// node by the pair (its own colour, the sorted multiset of its neighbours' colours), and the pairs
/// are compressed to small integers by one table shared by both graphs, numbering pairs in the
/// order they first appear (the first graph's nodes, then the second's). Sharing the table is what
/// makes the graphs comparable: colour 3 means the same rooted neighbourhood in both. The test stops
///
/// - as soon as the two graphs' colour histograms differ: then they are certainly not isomorphic,
///   since an isomorphism maps every node to one of the same colour; or
/// - when a round splits no colour class (the number of classes of the joint colouring does not
///   grow): the partition is then stable, every later round only renames it, and the test can say
///   no more than "possibly isomorphic".
///
/// Neighbours are the graph's stored incoming edges (``Graph/incomingNeighbours``): both directions
/// of an undirected edge, a self-loop once, parallel edges as often as they are stored.
///
/// ```swift
/// let result = try WeisfeilerLehman(path, star)
/// result.verdict                  // .notIsomorphic(round: 1): the degrees already differ
/// result.colourings[1].histograms // how many nodes of each graph have each colour
/// ```
///
/// **What 1-WL cannot do.** Two disjoint triangles and a 6-cycle are not isomorphic (one is
/// connected, the other not), yet every node of both is a node of degree 2 whose neighbours have
/// degree 2, and so on forever: the first round splits nothing, and the verdict is
/// `.possiblyIsomorphic(rounds: 1)`. The same holds for any two regular graphs of one degree and
/// one size. Only "not isomorphic" is a certainty; "possibly isomorphic" is no more than it says.
///
/// **Where the course notes are loose.** Their Weisfeiler–Lehman section ends the test with "same
/// representation → isomorphic"; it is "possibly isomorphic" (the triangles above). It says nodes
/// with "the same label and same number of neighbours" get the same new label; it is the same
/// label and the same *multiset of neighbour labels* (in round 2, a degree-2 node between two
/// leaves and one between two degree-3 nodes have the same colour and as many neighbours, and are
/// told apart). It stops when "the labels of the graph nodes did not differ from the last
/// iteration (at least one of the two graphs)": compressed labels are fresh numbers every round,
/// so what must stop changing is the partition they induce, taken over both graphs together (with
/// a shared table and equal histograms the two split in step anyway), and it leaves out the early
/// stop at the first round whose histograms differ.
///
/// **The hash.** ``hash(_:iterations:usingNodeLabels:)`` colours one graph with a fixed 64-bit mix
/// of the same pairs instead of a table, so hashes of different graphs and runs compare, and
/// mixes each round's sorted histogram into the result. Two graphs get equal hashes (up to 64-bit
/// collisions) exactly when networkx's `weisfeiler_lehman_graph_hash` with the same `iterations`
/// gives them equal hex strings: networkx starts unlabelled nodes from their degree, which is our
/// first round, and counts it as one of its iterations. The strings themselves differ, and for
/// graphs with self-loops (networkx counts a loop twice in the degree, once as a neighbour) or
/// directed graphs (networkx also reads outgoing edges) no agreement is claimed; nor for
/// `iterations: 1` on unlabelled graphs, where networkx runs no step beyond the degrees and hashes
/// only the empty list, the same for every graph.
///
/// On `n`-node graphs the joint test ends within `n` rounds: while the histograms agree every
/// class holds nodes of both graphs, so there are at most `n` classes, and each round before the
/// last adds at least one. networkx's hash with `iterations = n` therefore sees every difference
/// the test sees.
public struct WeisfeilerLehman {
    public enum Verdict: Equatable, Sendable {
        /// The colour histograms first differ after `round` rounds (0: the initial colours already
        /// differ, i.e. the node counts or the node-label counts). Certain.
        case notIsomorphic(round: Int)
        /// The histograms agree after each of `rounds` rounds, and the last of them split no
        /// class: no further round can separate the graphs. Not a proof of isomorphism.
        case possiblyIsomorphic(rounds: Int)

        public var isPossiblyIsomorphic: Bool {
            if case .possiblyIsomorphic = self { return true }
            return false
        }
    }

    /// Both graphs' colours after one round, drawn from one shared numbering `0..<classCount`.
    public struct Colouring: Equatable, Sendable {
        /// The colour of each node of the first graph …
        public let first: [Int]
        /// … and of the second.
        public let second: [Int]
        /// Colour classes of the joint colouring (colours used by either graph).
        public let classCount: Int

        /// How many nodes of each graph have colour `c`, at index `c`.
        public var histograms: (first: [Int], second: [Int]) { (histogram(first), histogram(second)) }

        private func histogram(_ colours: [Int]) -> [Int] {
            var counts = [Int](repeating: 0, count: classCount)
            for colour in colours { counts[colour] += 1 }
            return counts
        }
    }

    public let verdict: Verdict
    /// The initial colouring (index 0) and the colouring after every round run; the last entry is
    /// the one the verdict was read from.
    public let colourings: [Colouring]

    /// Refines `first` and `second` jointly until their histograms differ or the partition is
    /// stable. With `usingNodeLabels`, the nodes start from their ``Graph/nodeLabels`` (both
    /// graphs need them) instead of one common colour.
    public init(_ first: Graph, _ second: Graph, usingNodeLabels: Bool = false) throws {
        let neighbours = (first.incomingNeighbours, second.incomingNeighbours)
        var colouring = Self.compress(try Self.initialSignatures(first, usingNodeLabels, name: "first graph"),
                                      try Self.initialSignatures(second, usingNodeLabels, name: "second graph"))
        var colourings = [colouring]
        var round = 0
        while true {
            let histograms = colouring.histograms
            if histograms.first != histograms.second {
                verdict = .notIsomorphic(round: round)
                break
            }
            if round > 0 && colouring.classCount == colourings[round - 1].classCount {
                verdict = .possiblyIsomorphic(rounds: round)
                break
            }
            colouring = Self.compress(Self.signatures(colouring.first, neighbours.0), Self.signatures(colouring.second, neighbours.1))
            colourings.append(colouring)
            round += 1
        }
        self.colourings = colourings
    }

    /// A 64-bit Weisfeiler–Lehman hash of `graph` after `iterations` rounds of refinement
    /// (nodes start from one colour, or from their labels with `usingNodeLabels`). Equal for
    /// isomorphic graphs; equal for two graphs exactly when their `iterations`-round colour
    /// histograms agree (barring collisions).
    public static func hash(_ graph: Graph, iterations: Int, usingNodeLabels: Bool = false) throws -> UInt64 {
        guard iterations >= 0 else { throw GraphError("weisfeiler–lehman hash: iterations must not be negative, got \(iterations)") }
        let neighbours = graph.incomingNeighbours
        var colours = try initialSignatures(graph, usingNodeLabels, name: "graph").map { mix($0.map(UInt64.init)) }
        var result = mix([UInt64(graph.nodeCount)])
        for _ in 0..<iterations {
            colours = signatures(colours, neighbours).map(mix)
            var counts: [UInt64: UInt64] = [:]
            for colour in colours { counts[colour, default: 0] += 1 }
            // The round's histogram, in a fixed order, chained onto the rounds before it.
            result = mix([result] + counts.sorted { $0.key < $1.key }.flatMap { [$0.key, $0.value] })
        }
        return result
    }

    // MARK: - Refinement

    /// Each node's starting signature: one common colour, or its label.
    private static func initialSignatures(_ graph: Graph, _ usingNodeLabels: Bool, name: String) throws -> [[Int]] {
        guard usingNodeLabels else { return [[Int]](repeating: [0], count: graph.nodeCount) }
        guard let labels = graph.nodeLabels else {
            throw GraphError("weisfeiler–lehman: the \(name) has no node labels to start from")
        }
        return labels.map { [$0] }
    }

    /// (own colour, sorted neighbour colours) of every node, as one array.
    private static func signatures<Colour: Comparable>(_ colours: [Colour], _ neighbours: [[Int]]) -> [[Colour]] {
        colours.indices.map { node in [colours[node]] + neighbours[node].map { colours[$0] }.sorted() }
    }

    /// Numbers the signatures of both graphs with one table, in order of first appearance.
    private static func compress(_ first: [[Int]], _ second: [[Int]]) -> Colouring {
        var table: [[Int]: Int] = [:]
        func colour(_ signature: [Int]) -> Int {
            if let known = table[signature] { return known }
            table[signature] = table.count
            return table.count - 1
        }
        let firstColours = first.map(colour), secondColours = second.map(colour)
        return Colouring(first: firstColours, second: secondColours, classCount: table.count)
    }

    /// FNV-1a over the words' bytes, then SplitMix64's finaliser: a fixed function (unlike
    /// `Hasher`, seeded per process), so hashes agree across runs.
    private static func mix(_ words: [UInt64]) -> UInt64 {
        var state: UInt64 = 0xcbf2_9ce4_8422_2325
        for word in words {
            for byte in 0..<8 {
                state ^= (word >> (8 * UInt64(byte))) & 0xff
                state = state &* 0x0000_0100_0000_01b3
            }
        }
        state = (state ^ (state >> 30)) &* 0xbf58_476d_1ce4_e5b9
        state = (state ^ (state >> 27)) &* 0x94d0_49bb_1331_11eb
        return state ^ (state >> 31)
    }
}
