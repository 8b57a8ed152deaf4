"""Golden segment reductions (TesseraTensorTests/scatter.json): Tessera's scatterSum, scatterMean
and scatterMax against PyTorch in float32.

Each case `key` stores the source `key.x0` ([E, ...]), the segment of every row `key.x1` ([E]),
the segment count `key.x2` (a scalar), the forward `key.out` ([count, ...]), a random upstream
weight `key.w` and the gradient `key.grad0` of `(out * w).sum()` with respect to the source. The
PyTorch forms, all into zeros:

    sum   zeros.index_add(0, index, src)
    mean  zeros.scatter_reduce(0, index expanded to src's shape, src, "mean", include_self=False)
    max   zeros.scatter_reduce(0, index expanded to src's shape, src, "amax", include_self=False)

Every case repeats indices and leaves at least one segment empty (it stays 0). The max cases with
ties draw whole numbers from 1…3, never 0: where a segment's maximum is exactly 0, PyTorch's
backward counts the zero it started from as one more tie even with include_self=False (two tied
zeros get 1/3 each, not 1/2), a quirk Tessera does not copy.
"""
import torch

from common import FixtureWriter
from fixtures_tensor import Constant, case, randn

TARGET = "TesseraTensorTests"


def expanded(index, src):
    return index.long().view(-1, *[1] * (src.dim() - 1)).expand_as(src)


def scatter_sum(src, index, count):
    return torch.zeros(int(count), *src.shape[1:]).index_add(0, index.long(), src)


def scatter_reduce(reduce):
    def fn(src, index, count):
        zeros = torch.zeros(int(count), *src.shape[1:])
        return zeros.scatter_reduce(0, expanded(index, src), src, reduce=reduce, include_self=False)
    return fn


def ties(*shape):
    """Whole numbers 1…3, so rows of a segment tie for the maximum."""
    return torch.randint(1, 4, shape).float()


def index(*values):
    return Constant(torch.tensor(values, dtype=torch.float32))


def count(value):
    return Constant(torch.tensor(float(value)))


def main():
    torch.manual_seed(20261203)
    w = FixtureWriter(TARGET, "scatter")
    reductions = {"sum": scatter_sum, "mean": scatter_reduce("mean"), "max": scatter_reduce("amax")}
    for name, fn in reductions.items():
        # Segments 1, 3 and 5 receive no row; 0, 2 and 4 several.
        case(w, f"{name}.rank1", fn, randn(7), index(2, 0, 2, 2, 4, 0, 4), count(6))
        # The last segment is empty.
        case(w, f"{name}.rank2", fn, randn(6, 3), index(1, 0, 1, 3, 0, 1), count(5))
        case(w, f"{name}.rank3", fn, randn(5, 2, 3), index(0, 2, 2, 0, 2), count(4))
        # One row per segment but one: the gradient of a single-row segment passes unchanged.
        case(w, f"{name}.singleRows", fn, randn(4, 2), index(3, 1, 0, 1), count(5))
    case(w, "max.ties.rank1", reductions["max"], ties(8), index(0, 0, 0, 2, 2, 3, 3, 3), count(4))
    case(w, "max.ties.rank2", reductions["max"], ties(7, 4), index(1, 1, 0, 1, 0, 1, 3), count(4))
    case(w, "max.ties.rank3", reductions["max"], ties(6, 2, 2), index(2, 0, 2, 2, 0, 2), count(3))
    w.write()


if __name__ == "__main__":
    main()
