#!/usr/bin/env python3
"""The PyTorch twin of `tessera-bench pixelcnn`: one gated PixelCNN training step, eager mode, one thread.

The gated PixelCNN of configs/generative-pixelcnn-digits.yaml as TesseraGenerative builds it: a 5x5
vertical and a 1x5 horizontal masked convolution 1 -> 32 (centre row / centre pixel hidden), 4 gated
layers (3x3 vertical and 1x3 horizontal masked convolutions C -> 2C with the centre kept, a 1x1
convolution 2C -> 2C from the vertical features into the horizontal stack, gates tanh(a) * sigmoid(b),
the horizontal stack residual through a 1x1 convolution C -> C), then ReLU -> 1x1 -> ReLU -> 1x1 to
16 logits per pixel. A batch of 64 closed-form images with grey levels k/15, k = (5i + 3 (i // 8)) % 16
at flat index i; loss the batch mean of -log p(x) (log-softmax over the 16 levels, the pixel's own
level picked), backward, Adam at lr 2e-3. Prints one JSON line.

    taskset -c 1 /opt/peers/bin/python Tests/Benchmarks/pixelcnn.py
"""
import json

from twin import closed_form, measure  # first: it pins the math libraries to one thread before torch loads

import torch
import torch.nn.functional as F


def vertical_mask(k, hide_centre):
    """k x k: the rows above the centre, and the centre row unless hidden."""
    mask = torch.zeros(k, k)
    mask[: k // 2] = 1
    if not hide_centre:
        mask[k // 2] = 1
    return mask


def horizontal_mask(k, hide_centre):
    """1 x k: the pixels left of the centre, and the centre unless hidden."""
    mask = torch.zeros(1, k)
    mask[0, : k // 2] = 1
    if not hide_centre:
        mask[0, k // 2] = 1
    return mask


class MaskedConv2d(torch.nn.Conv2d):
    """A convolution whose kernel is multiplied by a fixed 0/1 mask; padding keeps height and width."""

    def __init__(self, inputs, outputs, mask):
        kh, kw = mask.shape
        super().__init__(inputs, outputs, (kh, kw), padding=(kh // 2, kw // 2))
        self.register_buffer("mask", mask.view(1, 1, kh, kw))

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


def gate(features):
    a, b = features.chunk(2, dim=1)
    return torch.tanh(a) * torch.sigmoid(b)


class GatedLayer(torch.nn.Module):
    def __init__(self, channels, k):
        super().__init__()
        self.vertical = MaskedConv2d(channels, 2 * channels, vertical_mask(k, hide_centre=False))
        self.horizontal = MaskedConv2d(channels, 2 * channels, horizontal_mask(k, hide_centre=False))
        self.vertical_to_horizontal = torch.nn.Conv2d(2 * channels, 2 * channels, 1)
        self.horizontal_output = torch.nn.Conv2d(channels, channels, 1)

    def forward(self, v, h):
        vertical_features = self.vertical(v)
        horizontal_features = self.horizontal(h) + self.vertical_to_horizontal(vertical_features)
        return gate(vertical_features), h + self.horizontal_output(gate(horizontal_features))


class GatedPixelCNN(torch.nn.Module):
    def __init__(self, levels=16, hidden=32, layers=4, first_kernel=5, kernel=3):
        super().__init__()
        self.levels = levels
        self.first = MaskedConv2d(1, hidden, vertical_mask(first_kernel, hide_centre=True))
        self.first_horizontal = MaskedConv2d(1, hidden, horizontal_mask(first_kernel, hide_centre=True))
        self.gated = torch.nn.ModuleList([GatedLayer(hidden, kernel) for _ in range(layers)])
        self.output_hidden = torch.nn.Conv2d(hidden, hidden, 1)
        self.output = torch.nn.Conv2d(hidden, levels, 1)

    def log_likelihood(self, images):
        v, h = self.first(images), self.first_horizontal(images)
        for layer in self.gated:
            v, h = layer(v, h)
        logits = self.output(F.relu(self.output_hidden(F.relu(h))))
        indices = (images * (self.levels - 1)).round().long()
        picked = logits.log_softmax(dim=1).gather(1, indices)
        return picked.sum(dim=(1, 2, 3))


def main():
    torch.manual_seed(17)
    levels, hidden, layers, batch = 16, 32, 4, 64
    model = GatedPixelCNN(levels, hidden, layers, first_kernel=5, kernel=3)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    images = closed_form([batch, 1, 8, 8], lambda i: ((5 * i + 3 * (i // 8)) % 16) / 15)
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
    print(json.dumps({"benchmark": "pixelcnn", "framework": "pytorch", "batch": batch, "levels": levels,
                      "hidden_channels": hidden, "layers": layers,
                      "parameters": sum(p.numel() for p in model.parameters()), "median_ms": round(median, 4),
                      "iterations": iterations, "images_per_s": round(batch / median * 1e3, 1),
                      "initial_loss": round(initial_loss, 4), "final_loss": round(last["loss"], 4)}))


if __name__ == "__main__":
    main()
