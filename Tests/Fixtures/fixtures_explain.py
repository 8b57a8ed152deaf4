"""Golden layer-wise relevance propagation values from zennit 0.5.1 (Tests/TesseraExplainTests).

zennit (Anders et al., "Software for Dataset-wide XAI: From Local Explanations to Global Insights with
Zennit, CoRelAy, and ViRelAy", 2021) is the reference LRP implementation for PyTorch. Three groups:

- `rule/<rule>/<layer>/…`: one rule on one layer (dense, conv, pooling), a random input and a random
  output relevance, so each rule is pinned on its own (mixed-sign inputs exercise the generalised
  γ and αβ rules);
- `mlp/…`, `cnn/…`: whole networks under zennit's composites `EpsilonGammaBox`, `EpsilonPlus` and
  `EpsilonAlpha2Beta1`, the CNN with a batch norm that zennit's `SequentialMergeBatchNorm` folds into
  the convolution before it. The starting relevance is the target logit (one-hot × output), as in
  Montavon et al. 2019.

Install zennit with `pip install --no-deps zennit pillow`: its requirements pull a CUDA torch over
the CPU one. Its `zennit.torchvision` module imports torchvision for ResNet canonizers we never use,
so two placeholder classes stand in for it here.

Computed in float64 from float32 inputs and weights.
"""
import sys
import types

import torch

from common import FixtureWriter


def stub_torchvision():
    if "torchvision" in sys.modules:
        return
    try:
        import torchvision  # noqa: F401
        return
    except ImportError:
        pass
    resnet = types.ModuleType("torchvision.models.resnet")
    resnet.Bottleneck = type("Bottleneck", (torch.nn.Module,), {})
    resnet.BasicBlock = type("BasicBlock", (torch.nn.Module,), {})
    models = types.ModuleType("torchvision.models")
    models.resnet = resnet
    package = types.ModuleType("torchvision")
    package.models = models
    sys.modules.update({"torchvision": package, "torchvision.models": models, "torchvision.models.resnet": resnet})


stub_torchvision()
from zennit import rules as zrules  # noqa: E402
from zennit.attribution import Gradient  # noqa: E402
from zennit.canonizers import SequentialMergeBatchNorm  # noqa: E402
from zennit.composites import EpsilonAlpha2Beta1, EpsilonGammaBox, EpsilonPlus, NameMapComposite  # noqa: E402
from zennit.rules import ZBox  # noqa: E402


def rand(*shape, low=-1.0, high=1.0):
    return (torch.rand(*shape) * (high - low) + low).float().double()


def add_state(writer, prefix, model):
    for name, tensor in model.state_dict().items():
        if name.endswith("num_batches_tracked"):
            continue
        writer.add(f"{prefix}/{name}", tensor)


def relevance(model, composite, x, output_relevance):
    x = x.clone().requires_grad_()
    with Gradient(model=model, composite=composite) as attributor:
        _, result = attributor(x, output_relevance)
    return result


# Rules on a single layer. Settings the Swift test reads are written under rule/params.
EPSILON, GAMMA, LOW, HIGH, ALPHA, BETA = 0.25, 0.25, -1.0, 1.0, 3.0, 2.0
RULES = {
    "zero": lambda: zrules.Epsilon(epsilon=0),
    "epsilon": lambda: zrules.Epsilon(epsilon=EPSILON),
    "gamma": lambda: zrules.Gamma(gamma=GAMMA),
    "zplus": lambda: zrules.ZPlus(),
    "alpha2beta1": lambda: zrules.AlphaBeta(alpha=2, beta=1),
    "alphabeta": lambda: zrules.AlphaBeta(alpha=ALPHA, beta=BETA),
    "box": lambda: zrules.ZBox(low=LOW, high=HIGH),
    "flat": lambda: zrules.Flat(),
    "wsquare": lambda: zrules.WSquare(),
}


def single_layer_rules(writer):
    writer.add("rule/params", [EPSILON, GAMMA, LOW, HIGH, ALPHA, BETA])
    layers = {
        "dense": (torch.nn.Linear(7, 5), (3, 7), (3, 5)),
        "conv": (torch.nn.Conv2d(2, 3, 3, padding=1), (2, 2, 5, 5), (2, 3, 5, 5)),
    }
    for layer_name, (layer, input_shape, output_shape) in layers.items():
        model = torch.nn.Sequential(layer).double()
        add_state(writer, f"rule/{layer_name}", model)
        x, upstream = rand(*input_shape), rand(*output_shape)
        writer.add(f"rule/{layer_name}/input", x)
        writer.add(f"rule/{layer_name}/upstream", upstream)
        for rule_name, make_rule in RULES.items():
            composite = NameMapComposite(name_map=[(["0"], make_rule())])
            writer.add(f"rule/{rule_name}/{layer_name}", relevance(model, composite, x, upstream))
    # Average pooling takes zennit's Norm rule; max pooling has no rule in zennit's composites, so
    # relevance follows the gradient: all of a window's relevance goes to its (first) maximum.
    x = rand(2, 3, 4, 4, low=0.0, high=1.0)
    writer.add("rule/pool/input", x)
    upstream = rand(2, 3, 2, 2)
    writer.add("rule/pool/upstream", upstream)
    average = torch.nn.Sequential(torch.nn.AvgPool2d(2))
    writer.add("rule/norm/averagePool", relevance(average, NameMapComposite(name_map=[(["0"], zrules.Norm())]), x, upstream))
    writer.add("rule/gradient/maxPool", relevance(torch.nn.Sequential(torch.nn.MaxPool2d(2)), None, x, upstream))


def composites(low, high, epsilon, gamma, canonizers):
    return {
        "epsilonGammaBox": lambda: EpsilonGammaBox(low=low, high=high, epsilon=epsilon, gamma=gamma, canonizers=canonizers()),
        "epsilonPlus": lambda: EpsilonPlus(epsilon=epsilon, canonizers=canonizers()),
        "epsilonAlpha2Beta1": lambda: EpsilonAlpha2Beta1(epsilon=epsilon, canonizers=canonizers()),
    }


def network(writer, prefix, model, x, targets):
    model = model.double().eval()
    add_state(writer, prefix, model)
    writer.add(f"{prefix}/input", x)
    writer.add(f"{prefix}/targets", torch.tensor(targets))
    with torch.no_grad():
        output = model(x)
    writer.add(f"{prefix}/output", output)
    start = torch.nn.functional.one_hot(torch.tensor(targets), output.shape[1]).double() * output
    writer.add(f"{prefix}/params", [0.0, 1.0, 0.1, 0.25])  # low, high, epsilon, gamma
    for name, make in composites(0.0, 1.0, 0.1, 0.25, lambda: [SequentialMergeBatchNorm()]).items():
        writer.add(f"{prefix}/{name}", relevance(model, make(), x, start))
    # zennit's EpsilonGammaBox puts z^B on the first convolution only; its `first_map` argument
    # extends that to a first dense layer (Tessera: `firstLayerKinds: [.convolution, .dense]`).
    dense_first = EpsilonGammaBox(low=0.0, high=1.0, epsilon=0.1, gamma=0.25, canonizers=[SequentialMergeBatchNorm()],
                                  first_map=[(torch.nn.Linear, ZBox(low=0.0, high=1.0))])
    writer.add(f"{prefix}/epsilonGammaBoxDenseFirst", relevance(model, dense_first, x, start))


def mlp(writer):
    model = torch.nn.Sequential(
        torch.nn.Linear(64, 16), torch.nn.ReLU(), torch.nn.Linear(16, 12), torch.nn.ReLU(), torch.nn.Linear(12, 10))
    network(writer, "mlp", model, rand(3, 64, low=0.0, high=1.0), [3, 7, 1])


def cnn(writer):
    """The digits CNN's shape on 1×8×8: conv–bn–relu–maxpool–conv–relu–avgpool–flatten–linear."""
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(4, 6, 3, padding=1), torch.nn.ReLU(), torch.nn.AvgPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(24, 10))
    norm = model[1]
    with torch.no_grad():
        norm.weight.copy_(torch.rand(4) + 0.5)
        norm.bias.copy_(torch.randn(4) * 0.1)
        norm.running_mean.copy_(torch.randn(4) * 0.1)
        norm.running_var.copy_(torch.rand(4) + 0.5)
    network(writer, "cnn", model, rand(3, 1, 8, 8, low=0.0, high=1.0), [0, 4, 9])


def main():
    torch.manual_seed(13)
    writer = FixtureWriter("TesseraExplainTests", "explain")
    single_layer_rules(writer)
    mlp(writer)
    cnn(writer)
    writer.write()


if __name__ == "__main__":
    main()
