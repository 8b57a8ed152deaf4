"""What the PyTorch twins of `tessera-bench` share: one thread, closed-form tensors and the timing loop.

Import it first (`import twin`): it pins every math library to one thread before torch loads.
"""
import os

for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[variable] = "1"

import math  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

torch.set_num_threads(1)


def closed_form(shape, value):
    """A float32 tensor whose element at flat index i is value(i), as Tessera's `Tensor(shape:)` builds it."""
    count = math.prod(shape)
    return torch.tensor([value(index) for index in range(count)], dtype=torch.float32).reshape(shape)


def measure(body, warmup, minimum_iterations, minimum_seconds=2.0):
    """The median milliseconds of `body` and the run count, as `Timing.measure` in tessera-bench."""
    for _ in range(warmup):
        body()
    samples = []
    start = time.perf_counter()
    while len(samples) < minimum_iterations or time.perf_counter() - start < minimum_seconds:
        begin = time.perf_counter()
        body()
        samples.append(time.perf_counter() - begin)
    return statistics.median(samples) * 1e3, len(samples)
