"""Golden values for TesseraGenerative, computed in float64 from float32-rounded inputs and weights
(stored as float32). Model weights are keyed by the Swift modules' dotted parameter names.

  frechet.*   .real [300, 6], .generated [200, 6] (correlated Gaussian features), .distance [1]: the FID
              formula of Heusel et al. 2017 as the reference code computes it, with scipy.linalg.sqrtm of
              Σ1·Σ2 (numpy.cov, n − 1). .wide_real [40, 12], .wide_generated [30, 12], .wide_distance [1]:
              the same with fewer samples per dimension (a worse-conditioned product).
  scores.*    .logits [12, 5], .labels [12], .accuracy [1], .confidence [1] (mean largest softmax probability).
  nice.*      NICE (features 6, 4 additive couplings with alternating even/odd masks, MLP 6→8→6, ReLU;
              diagonal scaling): .input [5, 6], .log_likelihood [5] (standard Gaussian prior);
              weights under nice.model.
  realnvp.*   RealNVP on [1, 4, 4] with 2 scales, 1 checkerboard, 1 channel and 1 final coupling, hidden 4:
              .input [3, 1, 4, 4], .log_likelihood [3]; weights under realnvp.model.
  glow.*      Glow on [1, 4, 4] with 2 levels, 1 step each, hidden 4, initialised actnorms:
              .input [3, 1, 4, 4], .log_likelihood [3]; weights and buffers under glow.model.
  vae_bernoulli.*, vae_gaussian.*, cvae.*
              VAE (Kingma & Welling 2014) with 6 inputs, 3 latents, hidden [5]; .input [4, 6], .noise [4, 3],
              .elbo [4] (one reparameterised sample with that noise, closed-form KL), .kl [4];
              cvae also .labels [4] (3 classes, one-hot appended to encoder and decoder inputs).
"""
import math

import numpy as np
import scipy.linalg
import torch
import torch.nn.functional as F

from common import FixtureWriter

torch.set_default_dtype(torch.float64)


def rounded(t):
    return t.to(torch.float32).to(torch.float64)


class Weights:
    """Draws float32-rounded float64 weights and records them under a prefix."""

    def __init__(self, out, prefix, generator):
        self.out, self.prefix, self.generator, self.store = out, prefix, generator, {}

    def normal(self, name, shape, scale):
        value = rounded(torch.randn(*shape, generator=self.generator) * scale)
        self.put(name, value)
        return value

    def put(self, name, value):
        self.store[name] = value
        self.out.add(f"{self.prefix}.{name}", value)
        return value


def frechet_distance(a, b):
    mu1, mu2 = a.mean(axis=0), b.mean(axis=0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root, _ = scipy.linalg.sqrtm(s1 @ s2, disp=False)
    root = root.real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(root))


def standard_normal(z):
    z = z.reshape(z.shape[0], -1)
    return -0.5 * (z * z).sum(1) - 0.5 * z.shape[1] * math.log(2 * math.pi)


def squeeze(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4).reshape(n, 4 * c, h // 2, w // 2)


def conv(weights, name, x, inputs, outputs, kernel):
    w = weights.normal(f"{name}.weight", (outputs, inputs, kernel, kernel), 0.4)
    b = weights.normal(f"{name}.bias", (outputs,), 0.2)
    return F.conv2d(x, w, b, padding=kernel // 2)


def mlp(weights, name, x, sizes):
    for index, (inputs, outputs) in enumerate(zip(sizes, sizes[1:])):
        w = weights.normal(f"{name}.layers.{index}.weight", (outputs, inputs), 0.5)
        b = weights.normal(f"{name}.layers.{index}.bias", (outputs,), 0.2)
        x = F.linear(x, w, b)
        if index < len(sizes) - 2:
            x = F.relu(x)
    return x


def nice(out, generator):
    weights = Weights(out, "nice.model", generator)
    x = rounded(torch.randn(5, 6, generator=generator))
    out.add("nice.input", x)
    z = x
    for layer in range(4):
        mask = torch.tensor([float((i + layer) % 2) for i in range(6)])
        z = z + (1 - mask) * mlp(weights, f"couplings.{layer}.network", z * mask, [6, 8, 6])
    log_scale = weights.normal("scaling.logScale", (6,), 0.3)
    z = z * log_scale.exp()
    out.add("nice.log_likelihood", standard_normal(z) + log_scale.sum())


def checkerboard(c, h, w, parity):
    return torch.tensor([[[float((i + j + parity) % 2 == 0) for j in range(w)] for i in range(h)]] * c).unsqueeze(0)


def channel_mask(c, h, w, parity):
    keep = [float((k < c // 2) == (parity == 0)) for k in range(c)]
    return torch.tensor(keep).reshape(1, c, 1, 1).expand(1, c, h, w)


def affine_coupling(weights, name, x, keep, hidden):
    c = x.shape[1]
    h = F.relu(conv(weights, f"{name}.first", x * keep, c, hidden, 3))
    h = F.relu(conv(weights, f"{name}.second", h, hidden, hidden, 3))
    raw, shift = conv(weights, f"{name}.last", h, hidden, 2 * c, 3).chunk(2, dim=1)
    scale = weights.put(f"{name}.scale", rounded(1 + 0.5 * torch.randn(c, generator=weights.generator)))
    change = 1 - keep
    s = torch.tanh(raw) * scale.reshape(1, c, 1, 1) * change
    return x * s.exp() + shift * change, s.sum((1, 2, 3))


def realnvp(out, generator):
    weights = Weights(out, "realnvp.model", generator)
    x = rounded(torch.rand(3, 1, 4, 4, generator=generator))
    out.add("realnvp.input", x)
    y, total = affine_coupling(weights, "flow.levels.0.0", x, checkerboard(1, 4, 4, 0), 4)
    y = squeeze(y)
    y, logdet = affine_coupling(weights, "flow.levels.0.2", y, channel_mask(4, 2, 2, 0), 4)
    total = total + logdet
    kept, factored = y.chunk(2, dim=1)
    y, logdet = affine_coupling(weights, "flow.levels.1.0", kept, checkerboard(2, 2, 2, 0), 4)
    total = total + logdet
    out.add("realnvp.log_likelihood", standard_normal(factored) + standard_normal(y) + total)


def glow_step(weights, name, x, hidden, generator):
    n, c, h, w = x.shape
    bias = weights.normal(f"{name}.actnorm.bias", (c,), 0.3)
    logs = weights.normal(f"{name}.actnorm.logScale", (c,), 0.3)
    weights.put(f"{name}.actnorm.initialized", torch.ones(1))
    x = (x + bias.reshape(1, c, 1, 1)) * logs.exp().reshape(1, c, 1, 1)
    total = h * w * logs.sum()
    lower = weights.normal(f"{name}.convolution.lower", (c, c), 0.4)
    upper = weights.normal(f"{name}.convolution.upper", (c, c), 0.4)
    log_scale = weights.normal(f"{name}.convolution.logScale", (c,), 0.3)
    permutation = torch.eye(c)[torch.randperm(c, generator=generator)]
    sign = torch.where(torch.rand(c, generator=generator) < 0.5, -1.0, 1.0)
    weights.put(f"{name}.convolution.permutation", permutation)
    weights.put(f"{name}.convolution.sign", sign)
    matrix = permutation @ (torch.tril(lower, -1) + torch.eye(c)) @ (torch.triu(upper, 1) + torch.diag(sign * log_scale.exp()))
    x = F.conv2d(x, matrix.reshape(c, c, 1, 1))
    total = total + h * w * log_scale.sum()
    xa, xb = x.chunk(2, dim=1)
    hidden_values = F.relu(conv(weights, f"{name}.coupling.first", xa, c // 2, hidden, 3))
    hidden_values = F.relu(conv(weights, f"{name}.coupling.second", hidden_values, hidden, hidden, 1))
    raw, shift = conv(weights, f"{name}.coupling.last", hidden_values, hidden, c, 3).chunk(2, dim=1)
    log_s = F.logsigmoid(raw + 2)
    x = torch.cat([xa, (xb + shift) * log_s.exp()], dim=1)
    return x, total + log_s.sum((1, 2, 3))


def glow(out, generator):
    weights = Weights(out, "glow.model", generator)
    x = rounded(torch.rand(3, 1, 4, 4, generator=generator) - 0.5)
    out.add("glow.input", x)
    y, total = glow_step(weights, "flow.levels.0.1", squeeze(x), 4, generator)
    kept, factored = y.chunk(2, dim=1)
    y, logdet = glow_step(weights, "flow.levels.1.1", squeeze(kept), 4, generator)
    out.add("glow.log_likelihood", standard_normal(factored) + standard_normal(y) + total + logdet)


def vae(out, prefix, generator, decoder, classes=0):
    weights = Weights(out, f"{prefix}.model", generator)
    x = rounded(torch.rand(4, 6, generator=generator))
    if decoder == "bernoulli":
        x = (x > 0.5).to(torch.float64)
    noise = rounded(torch.randn(4, 3, generator=generator))
    out.add(f"{prefix}.input", x)
    out.add(f"{prefix}.noise", noise)
    condition = None
    if classes:
        labels = torch.tensor([0, 2, 1, 2])
        out.add(f"{prefix}.labels", labels)
        condition = F.one_hot(labels, classes).to(torch.float64)
    encoder_input = x if condition is None else torch.cat([x, condition], 1)
    mean, log_variance = mlp(weights, "encoder", encoder_input, [6 + classes, 5, 6]).chunk(2, dim=1)
    z = mean + (0.5 * log_variance).exp() * noise
    decoder_input = z if condition is None else torch.cat([z, condition], 1)
    outputs = 6 if decoder == "bernoulli" else 12
    output = mlp(weights, "decoder", decoder_input, [3 + classes, 5, outputs])
    if decoder == "bernoulli":
        log_likelihood = -F.binary_cross_entropy_with_logits(output, x, reduction="none").sum(1)
    else:
        mu, log_var = output.chunk(2, dim=1)
        log_likelihood = torch.distributions.Normal(mu, (0.5 * log_var).exp()).log_prob(x).sum(1)
    kl = torch.distributions.kl_divergence(
        torch.distributions.Normal(mean, (0.5 * log_variance).exp()), torch.distributions.Normal(0.0, 1.0)).sum(1)
    out.add(f"{prefix}.kl", kl)
    out.add(f"{prefix}.elbo", log_likelihood - kl)


def main():
    out = FixtureWriter("TesseraGenerativeTests", "generative")
    generator = torch.Generator().manual_seed(15)
    rng = np.random.default_rng(15)

    mixing = rng.normal(size=(6, 6))
    real = rng.normal(size=(300, 6)) @ mixing
    generated = rng.normal(size=(200, 6)) @ (mixing + 0.3 * rng.normal(size=(6, 6))) + 0.5
    real, generated = real.astype(np.float32).astype(np.float64), generated.astype(np.float32).astype(np.float64)
    out.add("frechet.real", real)
    out.add("frechet.generated", generated)
    out.add("frechet.distance", [frechet_distance(real, generated)])
    wide_real = (rng.normal(size=(40, 12)) @ rng.normal(size=(12, 12))).astype(np.float32).astype(np.float64)
    wide_generated = (rng.normal(size=(30, 12)) * 1.5).astype(np.float32).astype(np.float64)
    out.add("frechet.wide_real", wide_real)
    out.add("frechet.wide_generated", wide_generated)
    out.add("frechet.wide_distance", [frechet_distance(wide_real, wide_generated)])

    logits = rounded(torch.randn(12, 5, generator=generator) * 2)
    labels = torch.randint(0, 5, (12,), generator=generator)
    out.add("scores.logits", logits)
    out.add("scores.labels", labels)
    out.add("scores.accuracy", [(logits.argmax(1) == labels).double().mean().item()])
    out.add("scores.confidence", [logits.softmax(1).max(1).values.mean().item()])

    nice(out, generator)
    realnvp(out, generator)
    glow(out, generator)
    vae(out, "vae_bernoulli", generator, "bernoulli")
    vae(out, "vae_gaussian", generator, "gaussian")
    vae(out, "cvae", generator, "bernoulli", classes=3)
    out.write()
