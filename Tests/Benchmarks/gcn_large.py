#!/usr/bin/env python3
"""The PyTorch twin of `tessera-bench gcn-large`.

The same graph, features, labels and initial weights, built from the same closed forms: 10 000 nodes,
node i linked to i + 1, 7, 31, 211, 1627 (mod n), undirected (10^5 directed edges) plus self-loops;
features sin(0.37 i + 1.3 f), 64 wide; hidden 32; 8 classes (i * 8 // n, contiguous blocks along the
ring); a 2-layer GCN (bias after the propagation), cross-entropy over all nodes, Adam lr 0.01, float32,
one thread. Two propagations are timed: `sparse` (torch.sparse.mm on the COO matrix D^-1/2 (A+I) D^-1/2,
coalesced once) and `scatter` (gather the source rows, scale, index_add_ into the targets, as PyTorch
Geometric does). Prints one JSON line per variant.

    taskset -c 0 /opt/peers/bin/python Tests/Benchmarks/gcn_large.py
"""
import json
import math

from twin import closed_form, measure  # first: it pins the math libraries to one thread before torch loads

import torch
import torch.nn.functional as F

NODES, FEATURES, HIDDEN, CLASSES = 10_000, 64, 32, 8
OFFSETS = [1, 7, 31, 211, 1627]


def graph():
    """Sources, targets and GCN coefficients, self-loops included."""
    forward = [(i, (i + o) % NODES) for i in range(NODES) for o in OFFSETS]
    sources = [u for u, v in forward] + [v for u, v in forward] + list(range(NODES))
    targets = [v for u, v in forward] + [u for u, v in forward] + list(range(NODES))
    sources, targets = torch.tensor(sources), torch.tensor(targets)
    degree = torch.zeros(NODES).index_add_(0, targets, torch.ones(len(targets)))
    coefficients = degree[sources].rsqrt() * degree[targets].rsqrt()
    return sources, targets, coefficients


def main():
    sources, targets, coefficients = graph()
    adjacency = torch.sparse_coo_tensor(torch.stack([targets, sources]), coefficients, (NODES, NODES)).coalesce()
    x = closed_form([NODES, FEATURES], lambda i: math.sin(0.37 * (i // FEATURES) + 1.3 * (i % FEATURES)))
    labels = torch.arange(NODES) * CLASSES // NODES
    column = coefficients[:, None]

    propagations = {
        "sparse": lambda h: torch.sparse.mm(adjacency, h),
        "scatter": lambda h: torch.zeros(NODES, h.shape[1]).index_add_(0, targets, h[sources] * column),
    }
    for name, propagate in propagations.items():
        w1 = torch.nn.Parameter(closed_form([HIDDEN, FEATURES], lambda i: 0.2 * math.sin(0.7 * i + 0.1)))
        w2 = torch.nn.Parameter(closed_form([CLASSES, HIDDEN], lambda i: 0.3 * math.cos(1.1 * i + 0.2)))
        b1, b2 = torch.nn.Parameter(torch.zeros(HIDDEN)), torch.nn.Parameter(torch.zeros(CLASSES))
        optimizer = torch.optim.Adam([w1, b1, w2, b2], lr=0.01)
        last = {}

        def forward():
            hidden = torch.relu(propagate(x @ w1.T) + b1)
            return propagate(hidden @ w2.T) + b2

        def step():
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(forward(), labels)
            loss.backward()
            optimizer.step()
            last["loss"] = float(loss)

        first_loss = float(F.cross_entropy(forward(), labels))
        median, iterations = measure(step, warmup=20, minimum_iterations=50, minimum_seconds=3.0)
        with torch.no_grad():
            accuracy = float((forward().argmax(1) == labels).float().mean())
        print(json.dumps({"benchmark": "gcn-large", "framework": "torch", "variant": name, "torch": torch.__version__,
                          "nodes": NODES, "edges": len(OFFSETS) * NODES, "median_ms": round(median, 4), "iterations": iterations,
                          "first_loss": round(first_loss, 4), "final_loss": round(last["loss"], 4),
                          "train_acc": round(accuracy, 4), "threads": 1}), flush=True)


if __name__ == "__main__":
    main()
