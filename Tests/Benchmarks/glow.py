#!/usr/bin/env python3
"""The PyTorch twin of `tessera-bench flow`: one Glow training step, eager mode, one thread.

The Glow of configs/generative-glow-digits.yaml, layer for layer as TesseraGenerative builds it:
2 levels, each a squeeze (channel 4c + 2i + j holds patch position (i, j) of channel c) and 8 steps of
actnorm, the LU-parameterised invertible 1x1 convolution W = P L (U + diag(sign exp(log s))) and the
affine coupling (3x3 conv -> ReLU -> 1x1 conv -> ReLU -> 3x3 conv, 64 hidden channels, the last
convolution zero-initialised; scale sigmoid(raw + 2), y_b = (x_b + t) * scale); half the channels
are split off after level 1; every latent gets the standard Gaussian. A batch of 64 closed-form
dequantised images (k + u) / 16 - 0.5 in [-0.5, 0.5), k = (5i + 3 (i // 8)) % 16 and
u = ((1103515245 i + 12345) % 2^31) / 2^31 at flat index i, the actnorms initialised once from it before timing,
loss -mean log-likelihood in nats, backward, Adam at lr 1e-3. Prints one JSON line.

    taskset -c 1 /opt/peers/bin/python Tests/Benchmarks/glow.py
"""
import json
import math

from twin import closed_form, measure  # first: it pins the math libraries to one thread before torch loads

import torch
import torch.nn.functional as F


def squeeze(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4).reshape(n, 4 * c, h // 2, w // 2)


class ActNorm(torch.nn.Module):
    """y = (x + bias) * exp(log_scale) per channel; bias and log_scale set from the first batch."""

    def __init__(self, channels):
        super().__init__()
        self.bias = torch.nn.Parameter(torch.zeros(channels))
        self.log_scale = torch.nn.Parameter(torch.zeros(channels))

    @torch.no_grad()
    def initialize(self, x):
        x64 = x.double()
        mean = x64.mean(dim=(0, 2, 3))
        std = x64.var(dim=(0, 2, 3), correction=0).sqrt()
        self.bias.copy_(-mean)
        self.log_scale.copy_(-torch.log(std + 1e-6))

    def forward(self, x):
        y = (x + self.bias.view(1, -1, 1, 1)) * self.log_scale.exp().view(1, -1, 1, 1)
        pixels = x.shape[2] * x.shape[3]
        return y, (self.log_scale.sum() * pixels).expand(x.shape[0])


class InvertibleConvolution1x1(torch.nn.Module):
    """Glow's 1x1 convolution in the LU form, starting from a random rotation."""

    def __init__(self, channels):
        super().__init__()
        rotation = torch.linalg.qr(torch.randn(channels, channels, dtype=torch.float64))[0]
        p, lower, upper = torch.linalg.lu(rotation)
        diagonal = torch.diagonal(upper)
        self.lower = torch.nn.Parameter(lower.float())
        self.upper = torch.nn.Parameter(upper.float())
        self.log_scale = torch.nn.Parameter(diagonal.abs().log().float())
        self.register_buffer("permutation", p.float())
        self.register_buffer("sign", torch.sign(diagonal).float())
        self.register_buffer("eye", torch.eye(channels))

    def weight(self):
        unit_lower = torch.tril(self.lower, diagonal=-1) + self.eye
        diagonal = self.eye * (self.sign * self.log_scale.exp()).view(1, -1)
        return self.permutation @ (unit_lower @ (torch.triu(self.upper, diagonal=1) + diagonal))

    def forward(self, x):
        c = x.shape[1]
        y = F.conv2d(x, self.weight().view(c, c, 1, 1))
        pixels = x.shape[2] * x.shape[3]
        return y, (self.log_scale.sum() * pixels).expand(x.shape[0])


class Coupling(torch.nn.Module):
    def __init__(self, channels, hidden):
        super().__init__()
        self.first = torch.nn.Conv2d(channels // 2, hidden, 3, padding=1)
        self.second = torch.nn.Conv2d(hidden, hidden, 1)
        self.last = torch.nn.Conv2d(hidden, channels, 3, padding=1)
        torch.nn.init.zeros_(self.last.weight)
        torch.nn.init.zeros_(self.last.bias)

    def forward(self, x):
        kept, changed = x.chunk(2, dim=1)
        raw, shift = self.last(F.relu(self.second(F.relu(self.first(kept))))).chunk(2, dim=1)
        log_scale = -F.softplus(-(raw + 2))  # log sigmoid(raw + 2)
        y = torch.cat([kept, (changed + shift) * log_scale.exp()], dim=1)
        return y, log_scale.sum(dim=(1, 2, 3))


class Step(torch.nn.Module):
    def __init__(self, channels, hidden):
        super().__init__()
        self.actnorm = ActNorm(channels)
        self.convolution = InvertibleConvolution1x1(channels)
        self.coupling = Coupling(channels, hidden)

    def forward(self, x):
        total = 0
        for layer in (self.actnorm, self.convolution, self.coupling):
            x, log_det = layer(x)
            total = total + log_det
        return x, total


def standard_normal_log_density(z):
    flat = z.reshape(z.shape[0], -1)
    return -0.5 * (flat * flat).sum(dim=1) - 0.5 * flat.shape[1] * math.log(2 * math.pi)


class Glow(torch.nn.Module):
    def __init__(self, channels=1, levels=2, steps_per_level=8, hidden=64):
        super().__init__()
        self.levels = torch.nn.ModuleList()
        for level in range(levels):
            channels *= 4
            self.levels.append(torch.nn.ModuleList([Step(channels, hidden) for _ in range(steps_per_level)]))
            if level < levels - 1:
                channels //= 2

    @torch.no_grad()
    def initialize_actnorms(self, x):
        for index, level in enumerate(self.levels):
            x = squeeze(x)
            for step in level:
                step.actnorm.initialize(x)
                x, _ = step(x)
            if index < len(self.levels) - 1:
                x = x.chunk(2, dim=1)[0]

    def log_likelihood(self, x):
        total = torch.zeros(x.shape[0])
        for index, level in enumerate(self.levels):
            x = squeeze(x)
            for step in level:
                x, log_det = step(x)
                total = total + log_det
            if index < len(self.levels) - 1:
                x, factored = x.chunk(2, dim=1)
                total = total + standard_normal_log_density(factored)
        return total + standard_normal_log_density(x)


def main():
    torch.manual_seed(13)
    levels, steps_per_level, hidden, batch = 2, 8, 64, 64
    model = Glow(1, levels, steps_per_level, hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    images = closed_form([batch, 1, 8, 8], lambda i: (((5 * i + 3 * (i // 8)) % 16) + ((1103515245 * i + 12345) % 2147483648) / 2147483648) / 16 - 0.5)
    model.initialize_actnorms(images)
    with torch.no_grad():
        initial_loss = -model.log_likelihood(images).mean().item()
    last = {}

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = -model.log_likelihood(images).mean()
        loss.backward()
        optimizer.step()
        last["loss"] = loss.item()

    median, iterations = measure(step, warmup=5, minimum_iterations=20, minimum_seconds=3.0)
    print(json.dumps({"benchmark": "flow", "framework": "pytorch", "batch": batch, "levels": levels,
                      "steps_per_level": steps_per_level, "hidden_channels": hidden,
                      "parameters": sum(p.numel() for p in model.parameters()), "median_ms": round(median, 4),
                      "iterations": iterations, "images_per_s": round(batch / median * 1e3, 1),
                      "initial_loss": round(initial_loss, 4), "final_loss": round(last["loss"], 4)}))


if __name__ == "__main__":
    main()
