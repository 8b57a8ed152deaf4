"""Graph pairs with networkx's Weisfeiler-Lehman and isomorphism verdicts (TesseraGraphTests/wl.json).

Per pair <k>: `pair<k>.a.nodes` and `pair<k>.b.nodes` ([1], the node count), `pair<k>.a.edges` and
`pair<k>.b.edges` ([E, 2], undirected edges, each once, no self-loops), and two verdicts ([1], 1 or 0):

    pair<k>.wl_equal    nx.weisfeiler_lehman_graph_hash(a, iterations=n) == ...(b, iterations=n),
                        n the larger node count (enough: 1-WL on n-node graphs ends within n rounds)
    pair<k>.isomorphic  nx.is_isomorphic(a, b), the ground truth

The pairs, in this order:
  - random G(n, p) pairs, n 5-10, with the same n and p, so most differ but not all by their degrees;
  - a G(n, p) graph and a copy with its nodes randomly renumbered (isomorphic);
  - two random d-regular graphs of the same n and d, which 1-WL never separates; the first of
    them is two disjoint triangles against the 6-cycle;
  - a G(n, p) graph and the same graph with one edge added, removed, or moved to a non-edge (a move
    keeps the edge count, and sometimes the graph up to isomorphism);
  - pairs with different node counts (the initial colouring separates them).

`trianglesHexagon.*` repeats the triangles-against-6-cycle pair under a name of its own.

`labelled<k>.*` pairs also carry node labels 0-2 (`labelled<k>.a.labels`, [n]), the initial colours:
their `wl_equal` is networkx's hash with `node_attr="label"` (which refines from the labels, not the
degrees, for `iterations = n` rounds) and `isomorphic` asks for an isomorphism that keeps labels.
Single-digit labels matter: networkx joins label strings without a separator, and only after its
first round are they fixed-length hashes. The pairs: random labellings of one G(n, p) graph, a
labelled graph and a renumbered copy, regular pairs (unseparable unlabelled) with random labels,
and regular pairs with one label on every node.
"""
import random
import warnings

import networkx as nx
import numpy as np

from common import FixtureWriter

TARGET = "TesseraGraphTests"


def gnp(rng, n=None, p=None):
    n = n if n is not None else rng.randint(5, 10)
    p = p if p is not None else rng.uniform(0.2, 0.6)
    return nx.gnp_random_graph(n, p, seed=rng.randrange(2**31))


def relabelled(rng, graph):
    order = list(graph.nodes)
    rng.shuffle(order)
    copy = nx.relabel_nodes(graph, dict(zip(graph.nodes, order)))
    # A fresh graph, so the edge list is also stored in a new order.
    edges = list(copy.edges)
    rng.shuffle(edges)
    result = nx.Graph()
    result.add_nodes_from(sorted(copy.nodes(data=True)))
    result.add_edges_from(edges)
    return result


def one_edge_apart(rng, graph):
    other = graph.copy()
    non_edges = list(nx.non_edges(graph))
    edges = list(graph.edges)
    choice = rng.choice(["add", "remove", "move"])
    if choice == "add" and non_edges or not edges:
        other.add_edge(*rng.choice(non_edges))
    elif choice == "remove" or not non_edges:
        other.remove_edge(*rng.choice(edges))
    else:
        other.remove_edge(*rng.choice(edges))
        other.add_edge(*rng.choice(non_edges))
    return other


def regular_pair(rng):
    n = rng.randint(6, 10)
    degree = rng.choice([d for d in (2, 3, 4) if n * d % 2 == 0])
    return (nx.random_regular_graph(degree, n, seed=rng.randrange(2**31)),
            nx.random_regular_graph(degree, n, seed=rng.randrange(2**31)))


def label_randomly(rng, graph):
    graph = graph.copy()
    nx.set_node_attributes(graph, {node: rng.randint(0, 2) for node in graph}, "label")
    return graph


def add_pair(writer, key, a, b, labelled=False):
    iterations = max(a.number_of_nodes(), b.number_of_nodes())
    node_attr = "label" if labelled else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # networkx 3.5's note that unlabelled hashes changed
        equal = (nx.weisfeiler_lehman_graph_hash(a, node_attr=node_attr, iterations=iterations)
                 == nx.weisfeiler_lehman_graph_hash(b, node_attr=node_attr, iterations=iterations))
    for side, graph in (("a", a), ("b", b)):
        assert sorted(graph.nodes) == list(range(graph.number_of_nodes()))
        assert nx.number_of_selfloops(graph) == 0
        edges = [list(edge) for edge in graph.edges]
        writer.add(f"{key}.{side}.nodes", [graph.number_of_nodes()])
        writer.add(f"{key}.{side}.edges", np.array(edges).reshape(-1, 2))
        if labelled:
            writer.add(f"{key}.{side}.labels", [graph.nodes[node]["label"] for node in range(graph.number_of_nodes())])
    same_label = (lambda x, y: x["label"] == y["label"]) if labelled else None
    writer.add(f"{key}.wl_equal", [1 if equal else 0])
    writer.add(f"{key}.isomorphic", [1 if nx.is_isomorphic(a, b, node_match=same_label) else 0])


def main():
    rng = random.Random(19680101)
    writer = FixtureWriter(TARGET, "wl")
    pairs = []
    for _ in range(100):
        n, p = rng.randint(5, 10), rng.uniform(0.2, 0.6)
        pairs.append((gnp(rng, n, p), gnp(rng, n, p)))
    for _ in range(60):
        graph = gnp(rng)
        pairs.append((graph, relabelled(rng, graph)))
    triangles = nx.disjoint_union(nx.cycle_graph(3), nx.cycle_graph(3))
    pairs.append((triangles, nx.cycle_graph(6)))
    for _ in range(49):
        pairs.append(regular_pair(rng))
    for _ in range(80):
        graph = gnp(rng)
        pairs.append((graph, one_edge_apart(rng, graph)))
    for _ in range(10):
        pairs.append((gnp(rng, n=rng.randint(5, 7)), gnp(rng, n=rng.randint(8, 10))))
    for k, (a, b) in enumerate(pairs):
        add_pair(writer, f"pair{k}", a, b)
    # The classic failure once more under its own name, for the test that pins it.
    add_pair(writer, "trianglesHexagon", triangles, nx.cycle_graph(6))
    labelled = []
    for _ in range(20):
        graph = gnp(rng)
        labelled.append((label_randomly(rng, graph), label_randomly(rng, graph)))
    for _ in range(20):
        graph = label_randomly(rng, gnp(rng))
        labelled.append((graph, relabelled(rng, graph)))
    for _ in range(20):
        a, b = regular_pair(rng)
        labelled.append((label_randomly(rng, a), label_randomly(rng, b)))
    # One label on every node of a regular pair: labels that cannot help, so 1-WL still cannot separate.
    for _ in range(5):
        a, b = regular_pair(rng)
        nx.set_node_attributes(a, 1, "label")
        nx.set_node_attributes(b, 1, "label")
        labelled.append((a, b))
    for k, (a, b) in enumerate(labelled):
        add_pair(writer, f"labelled{k}", a, b, labelled=True)
    writer.write()


if __name__ == "__main__":
    main()
