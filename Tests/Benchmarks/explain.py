#!/usr/bin/env python3
"""The zennit twin of `tessera-bench explain`.

The digits CNN of configs/cnn-digits.yaml (1x8x8 -> conv 32 -> pool -> conv 64 -> pool -> 128 -> 10,
ReLU), closed-form images 8 + 8 sin(0.37 i + 0.5), batch 1 and 64, the explained output class 3.
Times (a) one LRP explanation with zennit's EpsilonGammaBox(low=0, high=16) through its Gradient
attributor (the rule hooks registered once, outside the timing) and (b) one forward + backward of the same model (the input gradient of the class-3
output); prints one JSON line per batch size with the medians in milliseconds.

Then the ViT of configs/vit-digits.yaml (2x2 patches, 4 pre-LN layers, 4 heads, d 64, FFN 256, GELU,
[CLS] head) under Ali et al. 2022's rules, in the authors' own formulation: gradient x input through
a forward pass with the attention probabilities and the layer norms' sigma detached (LRP-0 in the
linear layers); beside it one plain forward + backward.

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


class LayerNorm(torch.nn.Module):
    def __init__(self, dimensions):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(dimensions))
        self.bias = torch.nn.Parameter(torch.zeros(dimensions))
        self.detach = False

    def forward(self, x):
        centred = x - x.mean(dim=-1, keepdim=True)
        sigma = torch.sqrt(centred.pow(2).mean(dim=-1, keepdim=True) + 1e-5)
        return centred / (sigma.detach() if self.detach else sigma) * self.weight + self.bias


class Attention(torch.nn.Module):
    def __init__(self, dimensions, heads):
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value, self.output = (torch.nn.Linear(dimensions, dimensions) for _ in range(4))
        self.detach = False

    def forward(self, x):
        batch, tokens, dimensions = x.shape

        def split(t):
            return t.reshape(batch, tokens, self.heads, dimensions // self.heads).transpose(1, 2)
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        p = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dimensions // self.heads), dim=-1)
        mixed = (p.detach() if self.detach else p) @ v
        return self.output(mixed.transpose(1, 2).reshape(batch, tokens, dimensions))


class ViT(torch.nn.Module):
    def __init__(self, dimensions=64, heads=4, layers=4, patch=2):
        super().__init__()
        self.patch = patch
        self.projection = torch.nn.Linear(patch * patch, dimensions)
        self.cls = torch.nn.Parameter(torch.zeros(1, 1, dimensions))
        self.positions = torch.nn.Parameter(0.02 * torch.randn(1, 1 + (8 // patch) ** 2, dimensions))
        self.blocks = torch.nn.ModuleList()
        for _ in range(layers):
            self.blocks.append(torch.nn.ModuleDict(dict(
                norm1=LayerNorm(dimensions), attention=Attention(dimensions, heads), norm2=LayerNorm(dimensions),
                mlp=torch.nn.Sequential(torch.nn.Linear(dimensions, 4 * dimensions), torch.nn.GELU(),
                                        torch.nn.Linear(4 * dimensions, dimensions)))))
        self.norm = LayerNorm(dimensions)
        self.head = torch.nn.Linear(dimensions, 10)

    def detached(self, flag):
        for module in self.modules():
            if isinstance(module, (LayerNorm, Attention)):
                module.detach = flag

    def forward(self, images):
        batch, p = images.shape[0], self.patch
        patches = images.reshape(batch, 1, 8 // p, p, 8 // p, p).permute(0, 2, 4, 1, 3, 5).reshape(batch, -1, p * p)
        x = torch.cat([self.cls.expand(batch, 1, -1), self.projection(patches)], dim=1) + self.positions
        for block in self.blocks:
            x = x + block["attention"](block["norm1"](x))
            x = x + block["mlp"](block["norm2"](x))
        return self.head(self.norm(x)[:, 0])


def time_vit():
    torch.manual_seed(7)
    vit = ViT().eval()
    for batch in (1, 64):
        images = closed_form([batch, 1, 8, 8], lambda i: 8 + 8 * math.sin(0.37 * i + 0.5))
        seed = torch.zeros(batch, 10)
        seed[:, 3] = 1

        def forward_backward(detach):
            vit.detached(detach)
            x = images.clone().requires_grad_(True)
            gradient, = torch.autograd.grad(vit(x), x, seed)
            return x.detach() * gradient

        lrp_ms, lrp_runs = measure(lambda: forward_backward(True), warmup=5, minimum_iterations=30)
        gradient_ms, gradient_runs = measure(lambda: forward_backward(False), warmup=5, minimum_iterations=30)
        print(json.dumps({"benchmark": "explain", "framework": "pytorch-detached", "model": "vit-digits", "batch": batch,
                          "lrp_median_ms": round(lrp_ms, 4), "lrp_iterations": lrp_runs,
                          "forward_backward_median_ms": round(gradient_ms, 4), "forward_backward_iterations": gradient_runs,
                          "lrp_over_forward_backward": round(lrp_ms / gradient_ms, 2)}))


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
    time_vit()
