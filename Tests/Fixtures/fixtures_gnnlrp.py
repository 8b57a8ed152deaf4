"""Golden GNN-LRP walk relevances (Tests/TesseraExplainTests/GNNLRPTests.swift), by brute force in torch.

Schnake et al., "Higher-Order Explanations of Graph Neural Networks via Relevant Walks" (IEEE TPAMI
2022): the relevance of a walk (J_0, ..., J_T) is an LRP pass in which, at every layer t, only the
messages from J_{t-1} into J_t carry relevance. Here every walk gets a pass of its own: the linear maps
are rewritten so that gradient x input is the LRP rule (the value stays z, the gradient is that of
z_rule * (z / z_rule) with the ratio held constant), and the node states at depth t are detached
everywhere except at the walk's node J_t. Tessera computes the same relevances with one dynamic
programme over walk suffixes; nothing of it is reused here.

Two networks on one 6-node graph with mixed-sign features and non-zero biases, ReLU throughout:

- gcn/: a node classifier of two GCN layers 3-4-2 (Kipf & Welling's normalisation, self-loops added);
  `gcn/<rule>` is [6, 6], entry [J_0, J_1] the relevance of the walk (J_0, J_1, NODE) for logit CLASS.
- gin/: a graph classifier of two GIN layers (MLPs 3-4-4 and 4-4-4, fixed eps), sum pooling of every
  depth's node states (the input's too), readout MLP 11-4-2; `gin/<rule>` is [6, 6, 6] for logit
  CLASS. The readout's relevance at depth t < T enters the walks that stay at their node from depth t
  on, as GNNLRP.swift documents.

Rules, the same in every linear map: zero (LRP-0), epsilon (EPSILON), gamma (GAMMA, zennit's
generalised form for mixed-sign inputs). Computed in float64 from float32 weights.
"""
import itertools

import torch

from common import FixtureWriter

EDGES = [(0, 1), (1, 2), (2, 3), (3, 0), (1, 3), (3, 4), (4, 5)]
NODES = 6
NODE, CLASS = 3, 1
GIN_EPSILONS = (0.1, 0.3)
EPSILON, GAMMA, STABILIZER = 0.1, 0.25, 1e-6
RULES = ("zero", "epsilon", "gamma")
# Of the seeds 0-199, the one whose ReLUs are most alive (at least 62% of the units on every node
# in every layer): with the first seed tried, the readout's hidden units were all dead and every
# GIN walk had relevance 0.
SEED = 153


def rand(*shape, low=-1.0, high=1.0):
    return (torch.rand(*shape) * (high - low) + low).float().double()


def adjacency():
    """A[target, source] for the undirected edges."""
    a = torch.zeros(NODES, NODES, dtype=torch.float64)
    for u, v in EDGES:
        a[v, u] = a[u, v] = 1.0
    return a


def gcn_coefficients():
    looped = adjacency() + torch.eye(NODES, dtype=torch.float64)
    inverse_root = looped.sum(dim=1).rsqrt()
    return inverse_root[:, None] * looped * inverse_root[None, :]


def stabilized(z, epsilon):
    return z + epsilon * ((z >= 0).double() * 2 - 1)


def rule_map(x, coefficients, weight, bias, rule):
    """z_K = sum_J c_KJ x_J W^T + b (node-wise when `coefficients` is None), its gradient the rule's."""
    aggregate = (lambda h: h) if coefficients is None else (lambda h: coefficients @ h)
    z = aggregate(x) @ weight.T + bias
    if rule == "zero":
        modified, epsilon = z, 0.0
    elif rule == "epsilon":
        modified, epsilon = z, EPSILON
    else:
        up, down = weight + GAMMA * weight.clamp(min=0), weight + GAMMA * weight.clamp(max=0)
        bias_up, bias_down = bias + GAMMA * bias.clamp(min=0), bias + GAMMA * bias.clamp(max=0)
        positive, negative = aggregate(x.clamp(min=0)), aggregate(x.clamp(max=0))
        z_up = positive @ up.T + negative @ down.T + bias_up
        z_down = positive @ down.T + negative @ up.T + bias_down
        modified, epsilon = torch.where(z > 0, z_up, z_down), STABILIZER
    denominator = stabilized(modified, epsilon)
    if rule == "zero":
        denominator = torch.where(z == 0, torch.ones_like(z), z)
    carrier = modified * (z / denominator).detach()
    return z.detach() + carrier - carrier.detach()


def only_at(h, node):
    """Node states that pass gradient at `node` alone."""
    mask = torch.zeros(NODES, 1, dtype=torch.float64)
    mask[node] = 1.0
    return h * mask + h.detach() * (1 - mask)


def gcn_walk(x0, params, walk, rule):
    x = x0.clone().requires_grad_()
    c = gcn_coefficients()
    h = only_at(x, walk[0])
    h = only_at(rule_map(h, c, params["layers.0.weight"], params["layers.0.bias"], rule).relu(), walk[1])
    out = rule_map(h, c, params["layers.1.weight"], params["layers.1.bias"], rule)
    out[walk[2], CLASS].backward()
    return (x * x.grad)[walk[0]].sum()


def gin_forward(x, params, rule, walk=None, active_level=None):
    def keep(h, depth):
        return h if walk is None else only_at(h, walk[depth])

    h = keep(x, 0)
    levels = [h]
    for index, epsilon in enumerate(GIN_EPSILONS):
        c = adjacency() + (1 + epsilon) * torch.eye(NODES, dtype=torch.float64)
        prefix = f"layers.{index}.network.layers"
        h = rule_map(h, c, params[f"{prefix}.0.weight"], params[f"{prefix}.0.bias"], rule).relu()
        h = rule_map(h, None, params[f"{prefix}.1.weight"], params[f"{prefix}.1.bias"], rule).relu()
        h = keep(h, index + 1)
        levels.append(h)
    if active_level is not None:
        levels = [level if depth == active_level else level.detach() for depth, level in enumerate(levels)]
    pooling = torch.ones(1, NODES, dtype=torch.float64)
    hidden = rule_map(torch.cat(levels, dim=1), pooling, params["readoutHead.layers.0.weight"],
                      params["readoutHead.layers.0.bias"], rule).relu()
    return rule_map(hidden, None, params["readoutHead.layers.1.weight"], params["readoutHead.layers.1.bias"], rule)


def gin_walk(x0, params, walk, rule):
    total = torch.zeros((), dtype=torch.float64)
    for level in range(len(walk)):
        if len(set(walk[level:])) != 1:
            continue  # the readout at this depth reaches only walks that stay put from here on
        x = x0.clone().requires_grad_()
        gin_forward(x, params, rule, walk, level)[0, CLASS].backward()
        total = total + (x * x.grad)[walk[0]].sum()
    return total


def main():
    torch.manual_seed(SEED)
    writer = FixtureWriter("TesseraExplainTests", "gnnlrp")
    writer.add("params", [NODE, CLASS, GIN_EPSILONS[0], GIN_EPSILONS[1], EPSILON, GAMMA])
    writer.add("edges", torch.tensor(EDGES, dtype=torch.float64))
    x = rand(NODES, 3)
    writer.add("features", x)

    gcn = {"layers.0.weight": rand(4, 3), "layers.0.bias": rand(4, low=-0.3, high=0.3),
           "layers.1.weight": rand(2, 4), "layers.1.bias": rand(2, low=-0.3, high=0.3)}
    gin = {}
    for index, width in enumerate((3, 4)):
        prefix = f"layers.{index}.network.layers"
        gin.update({f"{prefix}.0.weight": rand(4, width), f"{prefix}.0.bias": rand(4, low=-0.3, high=0.3),
                    f"{prefix}.1.weight": rand(4, 4), f"{prefix}.1.bias": rand(4, low=-0.3, high=0.3)})
    gin.update({"readoutHead.layers.0.weight": rand(4, 11), "readoutHead.layers.0.bias": rand(4, low=-0.3, high=0.3),
                "readoutHead.layers.1.weight": rand(2, 4), "readoutHead.layers.1.bias": rand(2, low=-0.3, high=0.3)})
    for prefix, params in (("gcn", gcn), ("gin", gin)):
        for name, tensor in params.items():
            writer.add(f"{prefix}/{name}", tensor)

    c = gcn_coefficients()
    with torch.no_grad():
        hidden = (c @ x @ gcn["layers.0.weight"].T + gcn["layers.0.bias"]).relu()
        writer.add("gcn/output", c @ hidden @ gcn["layers.1.weight"].T + gcn["layers.1.bias"])
        writer.add("gin/output", gin_forward(x, gin, "zero"))

    for rule in RULES:
        walks = torch.zeros(NODES, NODES, dtype=torch.float64)
        for j0, j1 in itertools.product(range(NODES), repeat=2):
            walks[j0, j1] = gcn_walk(x, gcn, (j0, j1, NODE), rule)
        writer.add(f"gcn/{rule}", walks)
        walks = torch.zeros(NODES, NODES, NODES, dtype=torch.float64)
        for walk in itertools.product(range(NODES), repeat=3):
            walks[walk] = gin_walk(x, gin, walk, rule)
        assert (walks != 0).sum() > 50, f"{rule}: almost every GIN walk is dead"
        writer.add(f"gin/{rule}", walks)
    writer.write()
