#!/usr/bin/env python3
"""The PyTorch twin of `tessera-bench simclr`: one SimCLR step, eager mode, one thread.

Two views of 256 closed-form 8x8 images (8 + 8 sin(0.37 i + 0.5) and 8 + 8 cos(0.29 i + 0.1)), the
digits CNN encoder (conv 32 -> pool -> conv 64 -> pool -> 128, ReLU), the projection head Linear 128
-> BatchNorm1d -> ReLU -> Linear 64, NT-Xent at temperature 0.5 over the 512 projections, and LARS
(momentum 0.9, weight decay 1e-6, trust coefficient 0.001, the 1-D parameters excluded) written as
in You et al. 2017, since torch has none. Prints one JSON line with the median milliseconds.

    taskset -c 1 /opt/peers/bin/python Tests/Benchmarks/simclr.py
"""
import json
import math

from twin import closed_form, measure  # first: it pins the math libraries to one thread before torch loads

import torch
import torch.nn.functional as F


class LARS(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.9, weight_decay=1e-6, trust_coefficient=0.001):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, eta=trust_coefficient))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                d = p.grad
                if p.ndim > 1:
                    d = d.add(p, alpha=group["weight_decay"])
                    weight_norm, update_norm = torch.norm(p), torch.norm(d)
                    if weight_norm > 0 and update_norm > 0:
                        d = d * (group["eta"] * weight_norm / update_norm)
                state = self.state[p]
                buffer = state.get("momentum_buffer")
                if buffer is None:
                    buffer = state["momentum_buffer"] = torch.zeros_like(p)
                buffer.mul_(group["momentum"]).add_(d)
                p.add_(buffer, alpha=-group["lr"])


def nt_xent(z1, z2, temperature):
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    n = z1.shape[0]
    similarity = (z @ z.T / temperature).masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    positives = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(similarity, positives)


def main():
    torch.manual_seed(11)
    encoder = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(256, 128), torch.nn.ReLU())
    head = torch.nn.Sequential(torch.nn.Linear(128, 128), torch.nn.BatchNorm1d(128), torch.nn.ReLU(), torch.nn.Linear(128, 64))
    model = torch.nn.Sequential(encoder, head).train()
    optimizer = LARS(model.parameters(), lr=0.3)
    batch = 256
    first = closed_form([batch, 1, 8, 8], lambda i: 8 + 8 * math.sin(0.37 * i + 0.5))
    second = closed_form([batch, 1, 8, 8], lambda i: 8 + 8 * math.cos(0.29 * i + 0.1))
    last = {}

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = nt_xent(model(first), model(second), 0.5)
        loss.backward()
        optimizer.step()
        last["loss"] = loss.item()

    median, iterations = measure(step, warmup=5, minimum_iterations=20, minimum_seconds=3.0)
    print(json.dumps({"benchmark": "simclr", "framework": "pytorch", "batch": batch, "views": 2, "median_ms": round(median, 4),
                      "iterations": iterations, "images_per_s": round(2 * batch / median * 1e3, 1),
                      "final_loss": round(last["loss"], 4)}))


if __name__ == "__main__":
    main()
