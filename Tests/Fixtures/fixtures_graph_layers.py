"""Golden values for TesseraGraph's message passing layers and readouts, from dense torch formulas
(no torch_geometric): forward outputs and gradients w.r.t. the node features and every weight.

The graph: 10 nodes, 14 random undirected edges among nodes 0..8, node 9 isolated, no self-loops,
stored under `graph.edges` ([14, 2], each undirected edge once) and `graph.weights` ([14]). Node
features `graph.features` [10, 5]. Each case `<case>` stores `<case>.upstream` (the gradient the
Swift test seeds backward with: loss = Σ output · upstream), `<case>.output`, `<case>.inputGrad`,
and `<case>.weight.<Tessera name>` / `<case>.grad.<Tessera name>` for every parameter.
"""
import numpy as np
import torch
import torch.nn.functional as F

from common import FixtureWriter

NODES = 10
FEATURES = 5


def random_graph(generator):
    pairs = set()
    while len(pairs) < 14:
        u, v = np.sort(generator.choice(NODES - 1, size=2, replace=False))  # node 9 stays isolated
        pairs.add((int(u), int(v)))
    edges = sorted(pairs)
    weights = generator.uniform(0.5, 2.0, size=len(edges))
    return edges, weights


def dense_adjacency(edges, weights=None):
    """A[target, source] = weight, both directions."""
    a = torch.zeros(NODES, NODES, dtype=torch.float64)
    for k, (u, v) in enumerate(edges):
        w = 1.0 if weights is None else float(weights[k])
        a[u, v] = w
        a[v, u] = w
    return a


def run_case(w, case, x, parameters, forward):
    """forward(x, parameters) on leaves requiring grad; stores output, upstream and gradients."""
    x = x.clone().requires_grad_(True)
    leaves = {name: p.clone().requires_grad_(True) for name, p in parameters.items()}
    y = forward(x, leaves)
    upstream = torch.randn(y.shape, dtype=torch.float64)
    (y * upstream).sum().backward()
    w.add(f"{case}.upstream", upstream)
    w.add(f"{case}.output", y)
    w.add(f"{case}.inputGrad", x.grad)
    for name, leaf in leaves.items():
        w.add(f"{case}.weight.{name}", parameters[name])
        w.add(f"{case}.grad.{name}", leaf.grad)


def gcn(w, x, adjacency, case):
    a_tilde = adjacency + torch.eye(NODES, dtype=torch.float64)
    d = a_tilde.sum(1)
    a_hat = a_tilde / torch.sqrt(d[:, None] * d[None, :])
    w.add(f"{case}.normalizedAdjacency", a_hat)
    parameters = {"weight": torch.randn(4, FEATURES, dtype=torch.float64) * 0.5,
                  "bias": torch.randn(4, dtype=torch.float64) * 0.5}
    run_case(w, case, x, parameters, lambda x, p: a_hat @ (x @ p["weight"].T) + p["bias"])


def gin(w, x, adjacency):
    parameters = {"epsilon": torch.tensor([0.3], dtype=torch.float64),
                  "network.layers.0.weight": torch.randn(8, FEATURES, dtype=torch.float64) * 0.5,
                  "network.layers.0.bias": torch.randn(8, dtype=torch.float64) * 0.5,
                  "network.layers.1.weight": torch.randn(3, 8, dtype=torch.float64) * 0.5,
                  "network.layers.1.bias": torch.randn(3, dtype=torch.float64) * 0.5}

    def forward(x, p):
        h = (1 + p["epsilon"]) * x + adjacency @ x
        h = F.relu(h @ p["network.layers.0.weight"].T + p["network.layers.0.bias"])
        return h @ p["network.layers.1.weight"].T + p["network.layers.1.bias"]

    run_case(w, "gin", x, parameters, forward)


def gat(w, x, adjacency, concatenate):
    heads, channels = 2, 3
    case = "gatConcat" if concatenate else "gatMean"
    mask = (adjacency + torch.eye(NODES, dtype=torch.float64)) > 0   # mask[i, j]: edge j → i or i = j
    parameters = {"weight": torch.randn(heads * channels, FEATURES, dtype=torch.float64) * 0.5,
                  "attentionSource": torch.randn(heads, channels, dtype=torch.float64),
                  "attentionTarget": torch.randn(heads, channels, dtype=torch.float64),
                  "bias": torch.randn(heads * channels if concatenate else channels, dtype=torch.float64) * 0.5}
    attention = {}

    def forward(x, p):
        h = (x @ p["weight"].T).reshape(NODES, heads, channels)
        source_scores = (h * p["attentionSource"]).sum(-1)        # [N, H]: a_src · W x_j
        target_scores = (h * p["attentionTarget"]).sum(-1)        # [N, H]: a_dst · W x_i
        e = F.leaky_relu(target_scores.T[:, :, None] + source_scores.T[:, None, :], 0.2)   # [H, i, j]
        e = e.masked_fill(~mask, float("-inf"))
        alpha = torch.softmax(e, dim=-1)
        attention["alpha"] = alpha
        out = torch.einsum("hij,jhc->ihc", alpha, h)
        out = out.reshape(NODES, heads * channels) if concatenate else out.mean(1)
        return out + p["bias"]

    run_case(w, case, x, parameters, forward)
    w.add(f"{case}.attention", attention["alpha"])   # [heads, target, source], 0 off the edges


def readouts(w, generator):
    sizes = [3, 4, 2]
    x = torch.tensor(generator.normal(size=(sum(sizes), 4)))
    w.add("readout.sizes", torch.tensor(sizes))
    w.add("readout.features", x)
    index = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
    for name in ("sum", "mean", "max"):
        leaf = x.clone().requires_grad_(True)
        rows = [leaf[index == g] for g in range(len(sizes))]
        if name == "sum":
            y = torch.stack([r.sum(0) for r in rows])
        elif name == "mean":
            y = torch.stack([r.mean(0) for r in rows])
        else:
            y = torch.stack([r.amax(0) for r in rows])
        upstream = torch.randn(y.shape, dtype=torch.float64)
        (y * upstream).sum().backward()
        w.add(f"readout.{name}.upstream", upstream)
        w.add(f"readout.{name}.output", y)
        w.add(f"readout.{name}.inputGrad", leaf.grad)


def main():
    torch.manual_seed(0)
    generator = np.random.default_rng(0)
    w = FixtureWriter("TesseraGraphTests", "graph_layers")
    edges, weights = random_graph(generator)
    w.add("graph.edges", torch.tensor(edges))
    w.add("graph.weights", torch.tensor(weights))
    x = torch.tensor(generator.normal(size=(NODES, FEATURES)))
    w.add("graph.features", x)
    unweighted = dense_adjacency(edges)
    gcn(w, x, unweighted, "gcn")
    gcn(w, x, dense_adjacency(edges, weights), "gcnWeighted")
    gin(w, x, unweighted)
    gat(w, x, unweighted, concatenate=True)
    gat(w, x, unweighted, concatenate=False)
    readouts(w, generator)
    w.write()


if __name__ == "__main__":
    main()
