#!/usr/bin/env python3
"""The PyTorch twin of `tessera-bench ddpm`: one DDPM training step and one 50-step DDIM sampling,
eager mode, one thread.

The U-Net of configs/generative-ddpm-digits.yaml, layer for layer as TesseraGenerative's DiffusionUNet
builds it: a 3x3 input convolution to 32 channels; on the way down a residual block at 8x8 (32 -> 32),
a stride-2 3x3 convolution, a residual block at 4x4 (32 -> 64); a middle block (64 -> 64); on the way
up a block on [hidden, skip] (128 -> 64), nearest upsampling and a 3x3 convolution (64 -> 32), a block
on [hidden, skip] (64 -> 32); group norm, SiLU and a 3x3 convolution to 1 channel. A residual block is
GroupNorm(8) -> SiLU -> conv3x3, plus Linear(SiLU(embedding)) per channel, GroupNorm(8) -> SiLU ->
conv3x3, added to the input (through a 1x1 convolution when the channels change). The time embedding:
sin and cos of t * 10000^(-i/15), i < 16, then Linear(32, 128) -> SiLU -> Linear(128, 128). Linear
beta schedule 1e-4 ... 0.02 over T = 1000.

The step: 64 closed-form images x0 = 2 k / 15 - 1, k = (5i + 3 (i // 8)) % 16, noise
eps = sqrt(12) (u - 1/2), u = ((1103515245 i + 12345) % 2^31) / 2^31 at flat index i, timesteps
t_b = (37 b + 11) % 1000; loss the eps-MSE, backward, Adam at lr 1e-3. The sampling: DDIM with eta = 0
over 980, 960, ..., 0 from that noise, x0 clipped to [-1, 1], under no_grad. Prints one JSON line.

    taskset -c 1 /opt/peers/bin/python Tests/Benchmarks/ddpm.py
"""
import json
import math

from twin import closed_form, measure  # first: it pins the math libraries to one thread before torch loads

import torch
import torch.nn.functional as F


class ResidualBlock(torch.nn.Module):
    def __init__(self, inputs, outputs, embedding, groups=8):
        super().__init__()
        self.first_norm = torch.nn.GroupNorm(groups, inputs)
        self.first = torch.nn.Conv2d(inputs, outputs, 3, padding=1)
        self.projection = torch.nn.Linear(embedding, outputs)
        self.second_norm = torch.nn.GroupNorm(groups, outputs)
        self.second = torch.nn.Conv2d(outputs, outputs, 3, padding=1)
        self.shortcut = None if inputs == outputs else torch.nn.Conv2d(inputs, outputs, 1)

    def forward(self, x, embedding):
        h = self.first(F.silu(self.first_norm(x)))
        h = h + self.projection(F.silu(embedding))[:, :, None, None]
        h = self.second(F.silu(self.second_norm(h)))
        return (x if self.shortcut is None else self.shortcut(x)) + h


class UNet(torch.nn.Module):
    def __init__(self, base=32):
        super().__init__()
        self.base = base
        embedding = 4 * base
        self.time_hidden = torch.nn.Linear(base, embedding)
        self.time_output = torch.nn.Linear(embedding, embedding)
        self.input = torch.nn.Conv2d(1, base, 3, padding=1)
        self.down0 = ResidualBlock(base, base, embedding)
        self.downsample = torch.nn.Conv2d(base, base, 3, stride=2, padding=1)
        self.down1 = ResidualBlock(base, 2 * base, embedding)
        self.middle = ResidualBlock(2 * base, 2 * base, embedding)
        self.up1 = ResidualBlock(4 * base, 2 * base, embedding)
        self.upsample = torch.nn.Conv2d(2 * base, base, 3, padding=1)
        self.up0 = ResidualBlock(2 * base, base, embedding)
        self.output_norm = torch.nn.GroupNorm(8, base)
        self.output = torch.nn.Conv2d(base, 1, 3, padding=1)

    def embedding(self, t):
        half = self.base // 2
        frequencies = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / (half - 1))
        angles = t[:, None] * frequencies[None, :]
        sinusoid = torch.cat([angles.sin(), angles.cos()], dim=1)
        return self.time_output(F.silu(self.time_hidden(sinusoid)))

    def forward(self, x, t):
        e = self.embedding(t)
        h = self.input(x)
        skip0 = self.down0(h, e)
        skip1 = self.down1(self.downsample(skip0), e)
        h = self.middle(skip1, e)
        h = self.up1(torch.cat([h, skip1], dim=1), e)
        h = self.upsample(F.interpolate(h, scale_factor=2, mode="nearest"))
        h = self.up0(torch.cat([h, skip0], dim=1), e)
        return self.output(F.silu(self.output_norm(h)))


def main():
    torch.manual_seed(19)
    batch, T = 64, 1000
    model = UNet(32)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    betas = torch.linspace(1e-4, 0.02, T, dtype=torch.float64)
    alphas_cumprod = torch.cumprod(1 - betas, dim=0)
    images = closed_form([batch, 1, 8, 8], lambda i: ((5 * i + 3 * (i // 8)) % 16) / 15 * 2 - 1)
    noise = closed_form([batch, 1, 8, 8], lambda i: (((1103515245 * i + 12345) % 2147483648) / 2147483648 - 0.5) * math.sqrt(12))
    timesteps = torch.tensor([(37 * b + 11) % T for b in range(batch)])
    signal = alphas_cumprod[timesteps].sqrt().float().view(-1, 1, 1, 1)
    spread = (1 - alphas_cumprod[timesteps]).sqrt().float().view(-1, 1, 1, 1)

    def loss_value():
        noisy = images * signal + noise * spread
        return ((model(noisy, timesteps.float()) - noise) ** 2).mean()

    with torch.no_grad():
        initial_loss = loss_value().item()
    last = {}

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_value()
        loss.backward()
        optimizer.step()
        last["loss"] = loss.item()

    median, iterations = measure(step, warmup=3, minimum_iterations=20, minimum_seconds=3.0)

    path = [k * (T // 50) for k in reversed(range(50))]

    @torch.no_grad()
    def sample():
        x = noise
        for index, t in enumerate(path):
            current = alphas_cumprod[t].item()
            before = alphas_cumprod[path[index + 1]].item() if index + 1 < len(path) else 1.0
            eps = model(x, torch.full((batch,), float(t)))
            clean = ((x - math.sqrt(1 - current) * eps) / math.sqrt(current)).clamp(-1, 1)
            x = math.sqrt(before) * clean + math.sqrt(1 - before) * eps
        last["sample"] = x

    sampling_median, sampling_iterations = measure(sample, warmup=1, minimum_iterations=5, minimum_seconds=3.0)
    print(json.dumps({"benchmark": "ddpm", "framework": "pytorch", "batch": batch, "base_channels": 32, "levels": 2,
                      "parameters": sum(p.numel() for p in model.parameters()), "median_ms": round(median, 4),
                      "iterations": iterations, "ddim50_median_ms": round(sampling_median, 4),
                      "ddim50_iterations": sampling_iterations, "initial_loss": round(initial_loss, 4),
                      "final_loss": round(last["loss"], 4), "sample_mean": round(last["sample"].mean().item(), 4)}))


if __name__ == "__main__":
    main()
