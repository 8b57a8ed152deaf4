"""Golden values for TesseraNN: layers (forward and gradients from torch's initial weights),
losses, optimizers (5 steps from the same weights), learning-rate schedules, gradient clipping.

Layer state is exported under `<case>.state.<Tessera name>` (torch's `running_var` becomes
`runningVariance` …) so the Swift tests load it with `loadStateDictionary`. Gradients of the
parameters are under `<case>.grad.<Tessera name>`, of the input under `<case>.inputGrad`.
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from common import FixtureWriter

RENAMES = {"running_mean": "runningMean", "running_var": "runningVariance", "num_batches_tracked": "batchesTracked"}


def tessera_name(name, prefix_map=None):
    parts = name.split(".")
    parts[-1] = RENAMES.get(parts[-1], parts[-1])
    name = ".".join(parts)
    for old, new in (prefix_map or {}).items():
        if name.startswith(old):
            name = new + name[len(old):]
    return name


def export_state(w, case, module, prefix_map=None):
    for name, value in module.state_dict().items():
        w.add(f"{case}.state.{tessera_name(name, prefix_map)}", value)


def forward_backward(w, case, module, x, prefix_map=None, export_input_grad=True):
    """Runs module(x), backpropagates a fixed random upstream gradient, stores everything."""
    if export_input_grad:
        x = x.clone().requires_grad_(True)
    y = module(x)
    upstream = torch.randn_like(y)
    (y * upstream).sum().backward()
    w.add(f"{case}.input", x)
    w.add(f"{case}.upstream", upstream)
    w.add(f"{case}.output", y)
    if export_input_grad:
        w.add(f"{case}.inputGrad", x.grad)
    for name, p in module.named_parameters():
        w.add(f"{case}.grad.{tessera_name(name, prefix_map)}", p.grad)
    module.zero_grad()


def randomize_affine(module):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn_like(p) * 0.5 + (1.0 if p.dim() == 1 else 0.0))


class PreActivationBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.shortcut = nn.Conv2d(cin, cout, 1, stride, bias=False) if stride != 1 or cin != cout else None

    def forward(self, x):
        a = F.relu(self.norm1(x))
        skip = self.shortcut(a) if self.shortcut is not None else x
        return self.conv2(F.relu(self.norm2(self.conv1(a)))) + skip


def layers():
    torch.manual_seed(0)
    w = FixtureWriter("TesseraNNTests", "layers")

    linear = nn.Linear(4, 3)
    export_state(w, "linear", linear)
    forward_backward(w, "linear", linear, torch.randn(2, 5, 4))

    layer_norm = nn.LayerNorm([3, 4])
    randomize_affine(layer_norm)
    export_state(w, "layerNorm", layer_norm)
    forward_backward(w, "layerNorm", layer_norm, torch.randn(2, 3, 4) * 2 + 1)

    group_norm = nn.GroupNorm(2, 4)
    randomize_affine(group_norm)
    export_state(w, "groupNorm", group_norm)
    forward_backward(w, "groupNorm", group_norm, torch.randn(2, 4, 3, 3))

    embedding = nn.Embedding(7, 3)
    export_state(w, "embedding", embedding)
    forward_backward(w, "embedding", embedding, torch.tensor([[1.0, 4, 1, 6], [0, 4, 4, 2]]).long(),
                     export_input_grad=False)

    # Batch norm: state before, one training step (output, gradients, running statistics after),
    # then an evaluation-mode forward pass with the updated running statistics.
    for case, norm, shape in [("batchNorm1d", nn.BatchNorm1d(3), (6, 3)),
                              ("batchNorm1dLength", nn.BatchNorm1d(3), (4, 3, 5)),
                              ("batchNorm2d", nn.BatchNorm2d(2), (3, 2, 4, 4))]:
        randomize_affine(norm)
        with torch.no_grad():
            norm.running_mean.copy_(torch.randn(norm.num_features) * 0.1)
            norm.running_var.copy_(torch.rand(norm.num_features) + 0.5)
        export_state(w, case, norm)
        norm.train()
        forward_backward(w, case, norm, torch.randn(*shape) * 1.5 + 0.3)
        w.add(f"{case}.runningMeanAfter", norm.running_mean)
        w.add(f"{case}.runningVarianceAfter", norm.running_var)
        norm.eval()
        forward_backward(w, case + "Eval", norm, torch.randn(*shape))

    conv1d = nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2)
    export_state(w, "conv1d", conv1d)
    forward_backward(w, "conv1d", conv1d, torch.randn(2, 4, 9))

    conv2d = nn.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=1, dilation=(1, 2))
    export_state(w, "conv2d", conv2d)
    forward_backward(w, "conv2d", conv2d, torch.randn(2, 3, 7, 6))

    transposed = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)
    export_state(w, "convTranspose2d", transposed)
    forward_backward(w, "convTranspose2d", transposed, torch.randn(2, 4, 3, 3))

    block = PreActivationBlock(2, 4, 2)
    export_state(w, "preActivationBlock", block)
    forward_backward(w, "preActivationBlock", block, torch.randn(2, 2, 6, 6))

    # Initial-weight distributions of torch's defaults (for comparing moments, not values).
    big = nn.Linear(256, 128)
    w.add("default.linearWeightBound", torch.tensor(1 / math.sqrt(256)))
    w.add("default.linearWeightStd", big.weight.std())
    w.write()


def add_loss(w, case, function, inputs, **extra):
    """Stores inputs, the loss and the gradient of every input that requires one."""
    for name, value in inputs.items():
        w.add(f"{case}.{name}", value)
    for name, value in extra.items():
        w.add(f"{case}.{name}", value)
    loss = function(**inputs)
    w.add(f"{case}.loss", loss)
    differentiable = {k: v for k, v in inputs.items() if v.requires_grad}
    upstream = torch.randn_like(loss) if loss.dim() > 0 else torch.tensor(1.0)
    if loss.dim() > 0:
        w.add(f"{case}.upstream", upstream)
    grads = torch.autograd.grad((loss * upstream).sum(), list(differentiable.values()))
    for (name, _), grad in zip(differentiable.items(), grads):
        w.add(f"{case}.grad.{name}", grad)


def losses():
    torch.manual_seed(1)
    w = FixtureWriter("TesseraNNTests", "losses")
    r = lambda *s: torch.randn(*s).requires_grad_(True)
    t = lambda *s: torch.randn(*s)

    p, y = r(4, 3), t(4, 3)
    add_loss(w, "mse", lambda p, y: F.mse_loss(p, y), {"p": p, "y": y})
    add_loss(w, "mseSum", lambda p, y: F.mse_loss(p, y, reduction="sum"), {"p": p, "y": y})
    add_loss(w, "mseNone", lambda p, y: F.mse_loss(p, y, reduction="none"), {"p": p, "y": y})
    add_loss(w, "l1", lambda p, y: F.l1_loss(p, y), {"p": p, "y": y})
    add_loss(w, "huber", lambda p, y: F.huber_loss(p, y, delta=0.5), {"p": p, "y": y})

    logits = (torch.randn(6, 5) * 2).requires_grad_(True)
    labels = torch.tensor([0.0, 3, 4, 1, 1, 2])
    add_loss(w, "crossEntropy", lambda x, y: F.cross_entropy(x, y.long()), {"x": logits, "y": labels})
    add_loss(w, "crossEntropySmoothing", lambda x, y: F.cross_entropy(x, y.long(), label_smoothing=0.1),
             {"x": logits, "y": labels})
    ignored = torch.tensor([0.0, -100, 4, 1, -100, 2])
    add_loss(w, "crossEntropyIgnore", lambda x, y: F.cross_entropy(x, y.long(), ignore_index=-100, label_smoothing=0.2),
             {"x": logits, "y": ignored})
    add_loss(w, "crossEntropyNone", lambda x, y: F.cross_entropy(x, y.long(), reduction="none"), {"x": logits, "y": labels})
    soft = torch.softmax(torch.randn(6, 5), -1)
    add_loss(w, "crossEntropyProbabilities", lambda x, y: F.cross_entropy(x, y, label_smoothing=0.1),
             {"x": logits, "y": soft})
    log_probabilities = torch.log_softmax(torch.randn(6, 5), -1).requires_grad_(True)
    add_loss(w, "nll", lambda x, y: F.nll_loss(x, y.long(), ignore_index=-100), {"x": log_probabilities, "y": ignored})

    bce_logits = torch.tensor([[-40.0, -3, 0.5], [2, 35, -0.2], [0.1, -1, 4], [25, -25, 1]]).requires_grad_(True)
    bce_targets = torch.tensor([[0.0, 1, 1], [0, 1, 0.3], [1, 0, 1], [0, 1, 0.5]])
    add_loss(w, "bce", lambda x, y: F.binary_cross_entropy_with_logits(x, y), {"x": bce_logits, "y": bce_targets})
    add_loss(w, "bcePositiveWeight",
             lambda x, y, wp: F.binary_cross_entropy_with_logits(x, y, pos_weight=wp),
             {"x": bce_logits, "y": bce_targets, "wp": torch.tensor([2.0, 0.5, 3.0])})

    lp, lq = r(4, 5), r(4, 5)
    add_loss(w, "klCategorical",
             lambda p, q: F.kl_div(F.log_softmax(q, -1), F.log_softmax(p, -1), reduction="batchmean", log_target=True),
             {"p": lp, "q": lq})

    m1, v1, m2, v2 = r(3, 4), r(3, 4), r(3, 4), r(3, 4)
    def gaussian_kl(m1, v1, m2, v2):
        first = torch.distributions.Normal(m1, (0.5 * v1).exp())
        second = torch.distributions.Normal(m2, (0.5 * v2).exp())
        return torch.distributions.kl_divergence(first, second).sum(-1).mean()
    add_loss(w, "klGaussian", gaussian_kl, {"m1": m1, "v1": v1, "m2": m2, "v2": v2})

    a, b = r(3, 2, 4), r(3, 2, 4)
    add_loss(w, "cosine", lambda a, b: F.cosine_similarity(a, b, dim=-1), {"a": a, "b": b})
    w.write()


def optimizer_problem():
    """A 3-4-2 tanh MLP and a fixed regression batch."""
    torch.manual_seed(2)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    x, y = torch.randn(8, 3), torch.randn(8, 2)
    return model, x, y


MLP_NAMES = {"0.": "layers.0.", "2.": "layers.1."}


def run_torch_optimizer(make, steps=5):
    model, x, y = optimizer_problem()
    optimizer = make(model.parameters())
    for _ in range(steps):
        optimizer.zero_grad()
        F.mse_loss(model(x), y).backward()
        optimizer.step()
    return model


def run_lars(learning_rate, momentum, weight_decay, trust, steps=5):
    """A NumPy LARS (SimCLR/BYOL form) on gradients from torch; biases are excluded."""
    model, x, y = optimizer_problem()
    buffers = {name: np.zeros(p.shape, np.float32) for name, p in model.named_parameters()}
    for _ in range(steps):
        model.zero_grad()
        F.mse_loss(model(x), y).backward()
        with torch.no_grad():
            for name, p in model.named_parameters():
                theta, g = p.numpy().astype(np.float64), p.grad.numpy().astype(np.float64)
                if not name.endswith("bias"):
                    g = g + weight_decay * theta
                    weight_norm, update_norm = np.linalg.norm(theta), np.linalg.norm(g)
                    if weight_norm > 0 and update_norm > 0:
                        g = g * trust * weight_norm / update_norm
                buffers[name] = momentum * buffers[name] + g
                p.copy_(torch.from_numpy(theta - learning_rate * buffers[name]))
    return model


def optimizers():
    w = FixtureWriter("TesseraNNTests", "optimizers")
    model, x, y = optimizer_problem()
    export_state(w, "initial", model, MLP_NAMES)
    w.add("problem.x", x)
    w.add("problem.y", y)
    cases = {
        "sgd": lambda p: torch.optim.SGD(p, lr=0.1),
        "sgdMomentum": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1),
        "sgdNesterov": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
        "sgdWeightDecay": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.5, weight_decay=0.1),
        "adam": lambda p: torch.optim.Adam(p, lr=0.05, betas=(0.8, 0.95)),
        "adamWeightDecay": lambda p: torch.optim.Adam(p, lr=0.05, weight_decay=0.1),
        "adamW": lambda p: torch.optim.AdamW(p, lr=0.05, weight_decay=0.5),
        "rmsprop": lambda p: torch.optim.RMSprop(p, lr=0.01),
        "rmspropCenteredMomentum": lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, momentum=0.8, centered=True,
                                                                 weight_decay=0.05),
    }
    for case, make in cases.items():
        export_state(w, f"{case}.final", run_torch_optimizer(make), MLP_NAMES)
    export_state(w, "lars.final", run_lars(0.5, 0.9, 0.01, 0.001), MLP_NAMES)
    export_state(w, "larsBig.final", run_lars(20.0, 0.9, 0.1, 0.02), MLP_NAMES)

    # Gradient clipping: the global norm and the clipped gradients.
    model, x, y = optimizer_problem()
    F.mse_loss(model(x), y).backward()
    for name, p in model.named_parameters():
        w.add(f"clip.grad.{tessera_name(name, MLP_NAMES)}", p.grad)
    norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.1)
    w.add("clip.norm", norm)
    for name, p in model.named_parameters():
        w.add(f"clip.clipped.{tessera_name(name, MLP_NAMES)}", p.grad)
    w.write()


def schedule_values(scheduler_factory, steps):
    parameter = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([parameter], lr=0.1)
    scheduler = scheduler_factory(optimizer)
    values = []
    for _ in range(steps):
        values.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return torch.tensor(values)


def schedules():
    w = FixtureWriter("TesseraNNTests", "schedules")
    sched = torch.optim.lr_scheduler
    w.add("step", schedule_values(lambda o: sched.StepLR(o, step_size=3, gamma=0.5), 10))
    w.add("cosine", schedule_values(lambda o: sched.CosineAnnealingLR(o, T_max=10, eta_min=0.01), 11))
    # Warm-up then decay has no single torch scheduler starting at 0: LambdaLR with the formula.
    def warmup_cosine(step, warmup=4, total=12, final=0.2):
        if step < warmup:
            return step / warmup
        progress = min(step - warmup, total - warmup) / (total - warmup)
        return final + (1 - final) * 0.5 * (1 + math.cos(math.pi * progress))
    def warmup_linear(step, warmup=3, total=9, final=0.1):
        if step < warmup:
            return step / warmup
        progress = min(step - warmup, total - warmup) / (total - warmup)
        return 1 + (final - 1) * progress
    w.add("warmupCosine", schedule_values(lambda o: sched.LambdaLR(o, warmup_cosine), 14))
    w.add("warmupLinear", schedule_values(lambda o: sched.LambdaLR(o, warmup_linear), 11))
    w.write()


def main():
    layers()
    losses()
    optimizers()
    schedules()


if __name__ == "__main__":
    main()
