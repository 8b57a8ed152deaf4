#!/usr/bin/env python3
"""The PyTorch/torchdiffeq twin of `tessera-bench ode`.

Same problem, built from the same closed-form weights and initial states: f(u) = W2 tanh(W1 u + b1) + b2
(2 -> 64 -> 2), batch 256, t 0 -> 1, dopri5 with rtol 1e-3, atol 1e-6, float32, one thread. Times
(a) the solve without gradients and (b) odeint_adjoint forward + backward of sum(u(1)^2); prints one
JSON line per variant with the median milliseconds and the NFE.

    taskset -c 0 /opt/peers/bin/python Tests/Benchmarks/ode.py
"""
import json
import math

from twin import closed_form, measure  # first: it pins the math libraries to one thread before torch loads

import torch
import torchdiffeq

HIDDEN, BATCH = 64, 256


class Field(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w1 = torch.nn.Parameter(closed_form([HIDDEN, 2], lambda i: 0.8 * math.sin(1.3 * (i // 2) + 0.7 * (i % 2) + 0.5)))
        self.b1 = torch.nn.Parameter(closed_form([HIDDEN], lambda i: 0.1 * math.cos(i)))
        self.w2 = torch.nn.Parameter(closed_form([2, HIDDEN], lambda i: 0.25 * math.sin(0.9 * (i % HIDDEN) + 1.1 * (i // HIDDEN) + 0.3)))
        self.b2 = torch.nn.Parameter(torch.tensor([0.05, -0.05]))
        self.nfe = 0

    def forward(self, t, u):
        self.nfe += 1
        return torch.nn.functional.linear(torch.tanh(torch.nn.functional.linear(u, self.w1, self.b1)), self.w2, self.b2)


def main():
    field = Field()
    initial = closed_form([BATCH, 2], lambda i: 2 * math.sin(0.37 * (i // 2) + 1.7 * (i % 2)))
    times = torch.tensor([0.0, 1.0])
    tolerances = dict(rtol=1e-3, atol=1e-6, method="dopri5")

    def solve():
        field.nfe = 0
        with torch.no_grad():
            torchdiffeq.odeint(field, initial, times, **tolerances)
        return field.nfe

    median, iterations = measure(solve, warmup=5, minimum_iterations=30)
    print(json.dumps({"benchmark": "ode", "framework": "torchdiffeq", "variant": "dopri5-solve", "batch": BATCH,
                      "nfe": solve(), "median_ms": round(median, 4), "iterations": iterations}))

    counts = {}

    def gradient():
        field.zero_grad()
        field.nfe = 0
        final = torchdiffeq.odeint_adjoint(field, initial, times, adjoint_params=tuple(field.parameters()), **tolerances)[-1]
        counts["forward"] = field.nfe
        (final ** 2).sum().backward()
        counts["backward"] = field.nfe - counts["forward"]

    median, iterations = measure(gradient, warmup=3, minimum_iterations=20)
    print(json.dumps({"benchmark": "ode", "framework": "torchdiffeq", "variant": "dopri5-adjoint-gradient", "batch": BATCH,
                      "nfe_forward": counts["forward"], "nfe_backward": counts["backward"],
                      "median_ms": round(median, 4), "iterations": iterations}))


if __name__ == "__main__":
    main()
