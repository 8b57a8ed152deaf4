#!/usr/bin/env python3
"""The zennit twin of `tessera-bench explain`.

The digits CNN of configs/cnn-digits.yaml (1x8x8 -> conv 32 -> pool -> conv 64 -> pool -> 128 -> 10,
ReLU), closed-form images 8 + 8 sin(0.37 i + 0.5), batch 1 and 64, the explained output class 3.
Times (a) one LRP explanation with zennit's EpsilonGammaBox(low=0, high=16) through its Gradient
attributor (the rule hooks registered once, outside the timing) and (b) one forward + backward of the same model (the input gradient of the class-3
output); prints one JSON line per batch size with the medians in milliseconds.

    taskset -c 0 /opt/peers/bin/python Tests/Benchmarks/explain.py
"""
import json
import math
import os
import sys

from twin import closed_form, measure  # first: it pins the math libraries to one thread before torch loads

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures"))
from fixtures_explain import stub_torchvision  # noqa: E402  (zennit imports torchvision for canonizers we do not use)

stub_torchvision()
from zennit.attribution import Gradient  # noqa: E402
from zennit.composites import EpsilonGammaBox  # noqa: E402


def main():
    torch.manual_seed(7)
    cnn = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(64 * 2 * 2, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10)).eval()
    composite = EpsilonGammaBox(low=0.0, high=16.0)
    for batch in (1, 64):
        images = closed_form([batch, 1, 8, 8], lambda i: 8 + 8 * math.sin(0.37 * i + 0.5))
        seed = torch.zeros(batch, 10)
        seed[:, 3] = 1

        def forward_backward():
            x = images.clone().requires_grad_(True)
            torch.autograd.grad(cnn(x), x, seed)

        gradient_ms, gradient_runs = measure(forward_backward, warmup=5, minimum_iterations=30)
        # The composite's hooks are registered once, outside the timed calls.
        with Gradient(model=cnn, composite=composite) as attributor:
            lrp_ms, lrp_runs = measure(lambda: attributor(images, seed), warmup=5, minimum_iterations=30)
        print(json.dumps({"benchmark": "explain", "framework": "zennit", "model": "cnn-digits", "batch": batch,
                          "lrp_median_ms": round(lrp_ms, 4), "lrp_iterations": lrp_runs,
                          "forward_backward_median_ms": round(gradient_ms, 4), "forward_backward_iterations": gradient_runs,
                          "lrp_over_forward_backward": round(lrp_ms / gradient_ms, 2)}))


if __name__ == "__main__":
    main()
