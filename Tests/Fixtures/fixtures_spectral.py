"""Golden values for the spectral graph layers (TesseraGraph) and the symmetric eigensolver
(TesseraTensor), computed with numpy, networkx and PyTorch in float64, stored as float32.

symmetricEigen.json (TesseraTensorTests):
  matrix [6, 6] symmetric; eigenvalues [6] ascending and eigenvectors [6, 6] (columns) from
  numpy.linalg.eigh of that float32 matrix.

spectral.json (TesseraGraphTests), one weighted undirected graph of 7 nodes in three components
({0, 1, 2, 3}, {4, 5} and the isolated node 6):
  graph.edges [E, 2], graph.weights [E]   each undirected edge once
  laplacian [7, 7]                        networkx.normalized_laplacian_matrix (zero row for node 6)
  laplacian.eigenvalues [7]               numpy.linalg.eigvalsh of it
  cheb.x [7, 3], cheb.weight [3, 3, 4], cheb.bias [4], cheb.seed [7, 4]
  cheb.<scaling>.y [7, 4]                 y = Σ_k T_k(L̃) x W_k + b, K = 3, scaling ∈ {two, exact}
  cheb.<scaling>.grad.x / .weight / .bias gradients of sum(y * seed)
"""
import networkx as nx
import numpy as np
import torch

from common import FixtureWriter

EDGES = [(0, 1), (1, 2), (2, 0), (2, 3), (4, 5)]
WEIGHTS = [1.0, 2.0, 0.5, 1.5, 3.0]
NODES = 7


def eigen():
    w = FixtureWriter("TesseraTensorTests", "symmetricEigen")
    rng = np.random.default_rng(20261203)
    m = rng.standard_normal((6, 6))
    m = ((m + m.T) / 2).astype(np.float32)
    values, vectors = np.linalg.eigh(m.astype(np.float64))
    w.add("matrix", m)
    w.add("eigenvalues", values)
    w.add("eigenvectors", vectors)
    w.write()


def dense_laplacian():
    a = torch.zeros(NODES, NODES, dtype=torch.float64)
    for (u, v), weight in zip(EDGES, WEIGHTS):
        a[u, v] = a[v, u] = weight
    degree = a.sum(1)
    inverse_root = torch.where(degree > 0, degree.clamp(min=1e-30).rsqrt(), torch.zeros_like(degree))
    return torch.diag((degree > 0).double()) - inverse_root[:, None] * a * inverse_root[None, :]


def spectral():
    w = FixtureWriter("TesseraGraphTests", "spectral")
    w.add("graph.edges", np.asarray(EDGES))
    w.add("graph.weights", np.asarray(WEIGHTS))
    g = nx.Graph()
    g.add_nodes_from(range(NODES))
    for (u, v), weight in zip(EDGES, WEIGHTS):
        g.add_edge(u, v, weight=weight)
    reference = nx.normalized_laplacian_matrix(g, nodelist=range(NODES), weight="weight").toarray()
    laplacian = dense_laplacian()
    assert np.allclose(reference, laplacian.numpy()), "the torch Laplacian follows networkx's convention"
    w.add("laplacian", reference)
    w.add("laplacian.eigenvalues", np.linalg.eigvalsh(reference))

    torch.manual_seed(0)
    x = torch.randn(NODES, 3, dtype=torch.float64)
    weight = torch.randn(3, 3, 4, dtype=torch.float64) * 0.5
    bias = torch.randn(4, dtype=torch.float64)
    seed = torch.randn(NODES, 4, dtype=torch.float64)
    # Round to float32 first so Swift reads exactly the inputs used here.
    x, weight, bias, seed = (t.float().double() for t in (x, weight, bias, seed))
    w.add("cheb.x", x)
    w.add("cheb.weight", weight)
    w.add("cheb.bias", bias)
    w.add("cheb.seed", seed)
    for scaling, lambda_max in [("two", 2.0), ("exact", torch.linalg.eigvalsh(laplacian).max().item())]:
        xs, ws, bs = (t.clone().requires_grad_() for t in (x, weight, bias))
        scaled = 2 * laplacian / lambda_max - torch.eye(NODES, dtype=torch.float64)
        terms = [xs, scaled @ xs]
        terms.append(2 * scaled @ terms[1] - terms[0])
        y = sum(t @ ws[k] for k, t in enumerate(terms)) + bs
        (y * seed).sum().backward()
        w.add(f"cheb.{scaling}.y", y)
        w.add(f"cheb.{scaling}.grad.x", xs.grad)
        w.add(f"cheb.{scaling}.grad.weight", ws.grad)
        w.add(f"cheb.{scaling}.grad.bias", bs.grad)
    w.write()


def main():
    eigen()
    spectral()
