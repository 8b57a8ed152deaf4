"""Golden values for the tensor core (TesseraTensorTests), computed with PyTorch in float32.

Each case `key` stores its inputs `key.x0, key.x1, …`, the forward result `key.out` and, for
differentiable ops, a random upstream weight `key.w` and the gradients `key.grad<i>` of
`(op(x) * w).sum()` with respect to every differentiable input (a random weight rather than ones,
so a backward rule that ignores its upstream gradient fails). Index tensors and masks are inputs
without a gradient key. The Swift tests rebuild the same op from the key and compare.

Higher-order cases store first gradients taken with `create_graph=True` (`key.first<i>`) and the
gradient of `(first * v).sum()` (`key.second<i>`), i.e. a Hessian-vector product.
"""
import torch
import torch.nn.functional as F

from common import FixtureWriter

TARGET = "TesseraTensorTests"


class Constant:
    """An input that takes no gradient (indices, masks)."""

    def __init__(self, tensor):
        self.tensor = tensor


def randn(*shape):
    return torch.randn(shape, dtype=torch.float32)


def rand(*shape, low=0.0, high=1.0):
    return low + (high - low) * torch.rand(shape, dtype=torch.float32)


def whole(*shape, high=4):
    """Small whole numbers, so ties occur."""
    return torch.randint(0, high, shape).float()


def indices(*shape, high):
    return Constant(torch.randint(0, high, shape).float())


def case(writer, key, fn, *inputs, differentiable=True):
    """Stores inputs, forward value and (if differentiable) weighted-sum gradients of `fn`."""
    tensors = []
    for i, item in enumerate(inputs):
        constant = isinstance(item, Constant)
        tensor = (item.tensor if constant else item).detach().clone()
        writer.add(f"{key}.x{i}", tensor)
        if differentiable and not constant:
            tensor.requires_grad_(True)
        tensors.append(tensor)
    out = fn(*tensors)
    writer.add(f"{key}.out", out)
    if not differentiable:
        return
    weight = randn(*out.shape)
    writer.add(f"{key}.w", weight)
    targets = [t for t in tensors if t.requires_grad]
    grads = torch.autograd.grad((out * weight).sum(), targets, allow_unused=True)
    grads = iter(grads)
    for i, tensor in enumerate(tensors):
        if tensor.requires_grad:
            grad = next(grads)
            writer.add(f"{key}.grad{i}", grad if grad is not None else torch.zeros_like(tensor))


def second_order(writer, key, fn, *inputs):
    """First gradients of `fn(*inputs)` (a scalar) with create_graph, then a Hessian-vector product."""
    tensors = []
    for i, tensor in enumerate(inputs):
        tensor = tensor.detach().clone().requires_grad_(True)
        writer.add(f"{key}.x{i}", tensor)
        tensors.append(tensor)
    value = fn(*tensors)
    writer.add(f"{key}.out", value)
    first = torch.autograd.grad(value, tensors, create_graph=True)
    directions = [randn(*t.shape) for t in tensors]
    for i, (grad, direction) in enumerate(zip(first, directions)):
        writer.add(f"{key}.first{i}", grad)
        writer.add(f"{key}.v{i}", direction)
    product = sum((g * v).sum() for g, v in zip(first, directions))
    second = torch.autograd.grad(product, tensors)
    for i, grad in enumerate(second):
        writer.add(f"{key}.second{i}", grad)


# MARK: - Groups


def elementwise():
    w = FixtureWriter(TARGET, "elementwise")
    case(w, "add.same", lambda a, b: a + b, randn(2, 3), randn(2, 3))
    case(w, "add.broadcast", lambda a, b: a + b, randn(2, 3, 4), randn(3, 1))
    case(w, "add.scalarTensor", lambda a, b: a + b, randn(3, 4), randn())
    case(w, "add.float", lambda a: a + 2.5, randn(3, 4))
    case(w, "sub.broadcast", lambda a, b: a - b, randn(3, 1), randn(2, 3, 4))
    case(w, "sub.floatLeft", lambda a: 1.5 - a, randn(3, 4))
    case(w, "mul.outer", lambda a, b: a * b, randn(4, 1), randn(1, 5))
    case(w, "mul.broadcast", lambda a, b: a * b, randn(2, 3, 4), randn(4))
    case(w, "mul.float", lambda a: a * -3.0, randn(2, 3))
    case(w, "div.broadcast", lambda a, b: a / b, randn(2, 3, 4), rand(3, 1, low=0.5, high=2))
    case(w, "div.floatLeft", lambda a: 2.0 / a, rand(2, 3, low=0.5, high=2))
    case(w, "neg", lambda a: -a, randn(2, 3))
    case(w, "pow.tensor", lambda a, b: torch.pow(a, b), rand(2, 3, low=0.5, high=2), randn(3))
    case(w, "pow.two", lambda a: a ** 2, randn(2, 3))
    case(w, "pow.three", lambda a: a ** 3, randn(2, 3))
    case(w, "pow.half", lambda a: a ** 0.5, rand(2, 3, low=0.5, high=2))
    case(w, "pow.negative", lambda a: a ** -1.5, rand(2, 3, low=0.5, high=2))
    case(w, "exp", torch.exp, randn(2, 3, 4))
    case(w, "log", torch.log, rand(2, 3, low=0.1, high=3))
    case(w, "log1p", torch.log1p, rand(2, 3, low=-0.5, high=3))
    case(w, "sqrt", torch.sqrt, rand(2, 3, low=0.1, high=3))
    case(w, "rsqrt", torch.rsqrt, rand(2, 3, low=0.2, high=3))
    case(w, "abs", torch.abs, torch.tensor([[-2.0, -0.5, 0.0], [0.5, 1.0, 3.0]]))
    case(w, "sign", torch.sign, torch.tensor([-2.0, -0.0, 0.0, 0.5, 3.0]), differentiable=False)
    # The bounds are hit exactly: PyTorch 2.x passes no gradient at x == bound.
    case(w, "clamp", lambda a: a.clamp(-0.5, 1.0), torch.tensor([[-2.0, -0.5, 0.0], [0.7, 1.0, 3.0]]))
    case(w, "clamp.lowerOnly", lambda a: a.clamp(min=0.25), randn(3, 4))
    case(w, "maximum.ties", torch.maximum, whole(3, 4), whole(3, 4))
    case(w, "minimum.ties", torch.minimum, whole(3, 4), whole(3, 4))
    case(w, "maximum.broadcast", torch.maximum, randn(2, 3, 4), randn(3, 1))
    case(w, "minimum.scalar", lambda a: torch.minimum(a, torch.tensor(0.3)), randn(3, 4))
    case(w, "tanh", torch.tanh, randn(2, 3, 4) * 2)
    case(w, "sigmoid", torch.sigmoid, torch.cat([randn(10) * 3, torch.tensor([-100.0, 100.0])]))
    case(w, "relu", torch.relu, torch.cat([randn(10), torch.tensor([0.0])]))
    case(w, "leakyRelu", lambda a: F.leaky_relu(a, 0.2), randn(3, 4))
    case(w, "gelu.exact", F.gelu, randn(3, 4) * 2)
    case(w, "gelu.tanh", lambda a: F.gelu(a, approximate="tanh"), randn(3, 4) * 2)
    case(w, "silu", F.silu, randn(3, 4) * 2)
    case(w, "softplus", F.softplus, randn(3, 4) * 3)
    # beta 2, threshold 10: inputs above 5 are in the linear region, some just below it.
    case(w, "softplus.threshold", lambda a: F.softplus(a, beta=2, threshold=10),
         torch.tensor([-30.0, -1.0, 0.0, 4.9, 4.99, 5.01, 6.0, 40.0]))
    case(w, "sin", torch.sin, randn(3, 4) * 3)
    case(w, "cos", torch.cos, randn(3, 4) * 3)
    case(w, "erf", torch.erf, randn(3, 4))
    ties = (whole(3, 4), whole(4))
    case(w, "greater", lambda a, b: (a > b).float(), *ties, differentiable=False)
    case(w, "greaterEqual", lambda a, b: (a >= b).float(), *ties, differentiable=False)
    case(w, "less", lambda a, b: (a < b).float(), *ties, differentiable=False)
    case(w, "lessEqual", lambda a, b: (a <= b).float(), *ties, differentiable=False)
    case(w, "equal", lambda a, b: (a == b).float(), *ties, differentiable=False)
    case(w, "notEqual", lambda a, b: (a != b).float(), *ties, differentiable=False)
    case(w, "where", lambda c, a, b: torch.where(c != 0, a, b),
         Constant(whole(3, 1, high=2)), randn(2, 3, 4), randn(4))
    case(w, "maskedFill", lambda a, m: a.masked_fill(m != 0, -7.0), randn(2, 3, 4), Constant(whole(3, 4, high=2)))
    # Broadcasts that leave no axis mergeable, so the strided row loop runs.
    case(w, "add.middleAxis", lambda a, b: a + b, randn(2, 3, 4), randn(2, 1, 4))
    case(w, "mul.bothExpand", lambda a, b: a * b, randn(5, 1, 3), randn(1, 4, 1))
    case(w, "sub.rankFour", lambda a, b: a - b, randn(2, 1, 3, 1), randn(4, 1, 2))
    w.write()


def reduction():
    w = FixtureWriter(TARGET, "reduction")
    x = randn(2, 3, 4)
    case(w, "sum.all", lambda a: a.sum(), x)
    case(w, "sum.axis", lambda a: a.sum(1), x)
    case(w, "sum.negativeAxisKeep", lambda a: a.sum(-1, keepdim=True), x)
    case(w, "sum.nonAdjacent", lambda a: a.sum((0, 2)), randn(2, 3, 4, 5))
    case(w, "sum.nonAdjacentKeep", lambda a: a.sum((1, 3), keepdim=True), randn(2, 3, 4, 5))
    case(w, "sum.longRows", lambda a: a.sum(-1), randn(3, 37))
    case(w, "mean.longColumns", lambda a: a.mean(0), randn(37, 3))
    case(w, "sum.toShape", lambda a: a.sum_to_size(3, 1), x)
    case(w, "sum.toShapeLeading", lambda a: a.sum_to_size(1, 4), x)
    case(w, "mean.all", lambda a: a.mean(), x)
    case(w, "mean.nonAdjacentKeep", lambda a: a.mean((0, 2), keepdim=True), x)
    ties = whole(3, 4, 5, high=3)
    case(w, "max.all", lambda a: a.amax(), ties)
    case(w, "max.axis", lambda a: a.amax(1), ties)
    case(w, "max.nonAdjacent", lambda a: a.amax((0, 2)), ties)
    case(w, "min.nonAdjacentKeep", lambda a: a.amin((0, -1), keepdim=True), ties)
    case(w, "min.negativeAxis", lambda a: a.amin(-1), ties)
    case(w, "maxAlongAxis.values", lambda a: a.max(1).values, ties)
    case(w, "maxAlongAxis.indices", lambda a: a.max(1).indices.float(), ties, differentiable=False)
    case(w, "minAlongAxis.valuesKeep", lambda a: a.min(-1, keepdim=True).values, ties)
    case(w, "minAlongAxis.indicesKeep", lambda a: a.min(-1, keepdim=True).indices.float(), ties, differentiable=False)
    case(w, "argmax.flat", lambda a: a.argmax().float(), x, differentiable=False)
    case(w, "argmax.axis", lambda a: a.argmax(0).float(), x, differentiable=False)
    case(w, "argmin.axisKeep", lambda a: a.argmin(-1, keepdim=True).float(), x, differentiable=False)
    case(w, "argmin.flat", lambda a: a.argmin().float(), x, differentiable=False)
    case(w, "variance.unbiased", lambda a: a.var(1), x)
    case(w, "variance.biasedNonAdjacent", lambda a: a.var((0, 2), correction=0), x)
    case(w, "variance.all", lambda a: a.var(), x)
    case(w, "standardDeviation.unbiasedKeep", lambda a: a.std(-1, keepdim=True), x)
    case(w, "standardDeviation.biased", lambda a: a.std(0, correction=0), x)
    case(w, "logSumExp.axis", lambda a: a.logsumexp(-1), x * 3)
    case(w, "logSumExp.nonAdjacentKeep", lambda a: a.logsumexp((0, 2), keepdim=True), x * 3)
    case(w, "logSumExp.large", lambda a: a.logsumexp(1), randn(2, 5) + 1000)
    for p in (1, 2, 3):
        case(w, f"norm.p{p}", lambda a, p=p: torch.linalg.vector_norm(a, ord=p, dim=-1), x)
    case(w, "norm.p2all", lambda a: torch.linalg.vector_norm(a), x)
    case(w, "norm.p3nonAdjacentKeep", lambda a: torch.linalg.vector_norm(a, ord=3, dim=(0, 2), keepdim=True), x)
    w.write()


def shape():
    w = FixtureWriter(TARGET, "shape")
    x = randn(2, 3, 4)
    case(w, "reshape.inferred", lambda a: a.reshape(4, -1) * 1.0, x)
    case(w, "flattened", lambda a: a.flatten(1), randn(2, 3, 4, 2))
    case(w, "permuted", lambda a: a.permute(2, 0, 1), x)
    case(w, "permuted.negative", lambda a: a.permute(-1, 1, 0), x)
    case(w, "transposed", lambda a: a.transpose(-2, -1), x)
    case(w, "transposed.outer", lambda a: a.transpose(0, 2), x)
    case(w, "expand", lambda a: a.expand(2, 3, 4), randn(3, 1))
    case(w, "expand.newAxes", lambda a: a.expand(2, 3, 4), randn(4))
    case(w, "squeezed.all", lambda a: a.squeeze() * 1.0, randn(1, 3, 1, 2))
    case(w, "squeezed.axis", lambda a: a.squeeze(-2) * 1.0, randn(1, 3, 1, 2))
    case(w, "unsqueezed", lambda a: a.unsqueeze(-1) * 1.0, randn(2, 3))
    case(w, "slice.step", lambda a: a[:, :, 1::2], x)
    case(w, "slice.negativeBounds", lambda a: a[:, -3:-1], randn(2, 5))
    case(w, "slice.stepNegativeStart", lambda a: a[-5::3], randn(7, 2))
    case(w, "select", lambda a: a.select(1, 2), x)
    case(w, "select.negative", lambda a: a.select(-1, -1), x)
    case(w, "concatenate", lambda a, b, c: torch.cat([a, b, c], 1), randn(2, 1, 4), randn(2, 3, 4), randn(2, 2, 4))
    case(w, "concatenate.negativeAxis", lambda a, b: torch.cat([a, b], -1), randn(2, 3), randn(2, 2))
    case(w, "stack", lambda a, b: torch.stack([a, b], 1), randn(2, 3), randn(2, 3))
    case(w, "stack.last", lambda a, b, c: torch.stack([a, b, c], -1), randn(2, 3), randn(2, 3), randn(2, 3))
    # Splits are checked as the concatenation of the flattened pieces.
    case(w, "split", lambda a: torch.cat([p.flatten() for p in a.split([1, 3, 2], 1)]), randn(2, 6, 2))
    case(w, "chunked", lambda a: torch.cat([p.flatten() for p in a.chunk(4, -1)]), randn(2, 6))
    case(w, "padded", lambda a: F.pad(a, (2, 0, 1, 3)), x)
    case(w, "padded.value", lambda a: F.pad(a, (1, 1), value=-2.0), randn(2, 3))
    case(w, "flipped", lambda a: a.flip(0, 2), x)
    case(w, "flipped.negative", lambda a: a.flip(-2), x)
    case(w, "repeated", lambda a: a.repeat(2, 1, 3), randn(2, 3))
    case(w, "repeated.sameRank", lambda a: a.repeat(3, 2), randn(2, 3))
    w.write()


def indexing():
    w = FixtureWriter(TARGET, "indexing")
    # Repeated indices make the gradient accumulate.
    case(w, "gather.axis1", lambda a, i: a.gather(1, i.long()), randn(3, 4), indices(3, 6, high=4))
    case(w, "gather.axis0Smaller", lambda a, i: a.gather(0, i.long()), randn(4, 3), indices(2, 2, high=4))
    case(w, "gather.negativeAxis", lambda a, i: a.gather(-1, i.long()), randn(2, 3, 4), indices(2, 3, 2, high=4))
    case(w, "scatterAdd.axis1", lambda a, i, s: a.scatter_add(1, i.long(), s),
         randn(3, 4), indices(3, 5, high=4), randn(3, 5))
    case(w, "scatterAdd.axis0", lambda a, i, s: a.scatter_add(0, i.long(), s),
         randn(4, 3), indices(2, 3, high=4), randn(2, 3))
    case(w, "indexSelect.axis0", lambda a, i: a.index_select(0, i.long()), randn(4, 3), indices(6, high=4))
    case(w, "indexSelect.axis1", lambda a, i: a.index_select(1, i.long()), randn(2, 4, 3), indices(5, high=4))
    case(w, "indexAdd.axis0", lambda a, i, s: a.index_add(0, i.long(), s),
         randn(4, 3), Constant(torch.tensor([1.0, 3.0, 1.0, 0.0, 1.0])), randn(5, 3))
    case(w, "indexAdd.negativeAxis", lambda a, i, s: a.index_add(-1, i.long(), s),
         randn(2, 3, 4), Constant(torch.tensor([3.0, 3.0, 0.0])), randn(2, 3, 3))
    case(w, "oneHot", lambda i: F.one_hot(i.long(), 5).float(), Constant(torch.tensor([[0.0, 4.0, 2.0], [2.0, 2.0, 1.0]])),
         differentiable=False)
    case(w, "upperTriangle", lambda a: a.triu(), randn(3, 4))
    case(w, "upperTriangle.diagonal1", lambda a: a.triu(1), randn(2, 4, 3))
    case(w, "lowerTriangle", lambda a: a.tril(), randn(4, 3))
    case(w, "lowerTriangle.diagonalMinus1", lambda a: a.tril(-1), randn(2, 3, 4))
    w.write()


def linear_algebra():
    w = FixtureWriter(TARGET, "linearAlgebra")
    case(w, "matmul.vectorVector", torch.matmul, randn(4), randn(4))
    case(w, "matmul.vectorMatrix", torch.matmul, randn(4), randn(4, 3))
    case(w, "matmul.matrixVector", torch.matmul, randn(3, 4), randn(4))
    case(w, "matmul.matrixMatrix", torch.matmul, randn(3, 4), randn(4, 5))
    case(w, "matmul.batched", torch.matmul, randn(3, 2, 4), randn(3, 4, 5))
    case(w, "matmul.broadcastBatch", torch.matmul, randn(2, 1, 3, 4), randn(5, 4, 2))
    case(w, "matmul.batchedMatrix", torch.matmul, randn(2, 3, 4), randn(4, 5))
    case(w, "matmul.matrixBatched", torch.matmul, randn(3, 4), randn(2, 4, 5))
    case(w, "matmul.vectorBatched", torch.matmul, randn(4), randn(2, 4, 5))
    case(w, "matmul.batchedVector", torch.matmul, randn(2, 3, 4), randn(4))
    for ta in (False, True):
        for tb in (False, True):
            a = randn(2, 4, 3) if ta else randn(2, 3, 4)
            b = randn(5, 4) if tb else randn(4, 5)
            case(w, f"matmul.transpose{'T' if ta else 'N'}{'T' if tb else 'N'}",
                 lambda a, b, ta=ta, tb=tb: torch.matmul(a.transpose(-2, -1) if ta else a, b.transpose(-2, -1) if tb else b),
                 a, b)
    case(w, "matmul.transposedWeight", lambda x, weight: x @ weight.T, randn(2, 3, 4), randn(5, 4))
    case(w, "outer", torch.outer, randn(3), randn(4))
    case(w, "dot", torch.dot, randn(5), randn(5))
    w.write()


def neural():
    w = FixtureWriter(TARGET, "neural")
    x = randn(2, 3, 4) * 2
    case(w, "softmax.last", lambda a: a.softmax(-1), x)
    case(w, "softmax.axis0", lambda a: a.softmax(0), x)
    case(w, "softmax.large", lambda a: a.softmax(-1), torch.tensor([[1000.0, 999.0, 0.0], [-1000.0, -1001.0, -999.5]]))
    case(w, "logSoftmax.last", lambda a: a.log_softmax(-1), x)
    case(w, "logSoftmax.axis1", lambda a: a.log_softmax(1), x)
    case(w, "logSoftmax.large", lambda a: a.log_softmax(-1), torch.tensor([[1000.0, 999.0, 0.0], [-1000.0, -1001.0, -999.5]]))
    case(w, "embeddingLookup", lambda table, i: F.embedding(i.long(), table), randn(5, 3), indices(2, 4, high=5))
    case(w, "embeddingLookup.vector", lambda table, i: F.embedding(i.long(), table), randn(4, 2),
         Constant(torch.tensor([3.0, 0.0, 3.0])))
    w.write()


def higher_order():
    w = FixtureWriter(TARGET, "higherOrder")

    def weighted(fn, shape):
        weight = randn(*shape)
        return lambda x: (fn(x) * weight).sum(), weight

    x = randn(3, 4) * 1.5
    for key, fn in [("tanh", torch.tanh), ("sigmoid", torch.sigmoid), ("geluExact", F.gelu),
                    ("geluTanh", lambda a: F.gelu(a, approximate="tanh")), ("silu", F.silu),
                    ("softplus", F.softplus), ("exp", torch.exp), ("log", torch.log),
                    ("softmax", lambda a: a.softmax(-1)), ("logSoftmax", lambda a: a.log_softmax(-1)),
                    ("sin", torch.sin), ("cos", torch.cos), ("erf", torch.erf), ("sqrt", torch.sqrt),
                    ("rsqrt", torch.rsqrt), ("log1p", torch.log1p), ("division", lambda a: 1.0 / a),
                    ("cube", lambda a: a ** 3), ("leakyRelu", lambda a: F.leaky_relu(a, 0.1) ** 2),
                    ("logSumExp", lambda a: a.logsumexp(-1, keepdim=True)),
                    ("standardize", lambda a: (a - a.mean(-1, keepdim=True)) / (a.var(-1, keepdim=True, correction=0) + 1e-5).sqrt())]:
        positive = key in ("log", "sqrt", "rsqrt", "log1p", "division")
        function, weight = weighted(fn, x.shape)
        w.add(f"{key}.weight", weight)
        second_order(w, key, function, x.abs() + 0.2 if positive else x)

    # A two-layer tanh network; both weights (and the input) are differentiated twice.
    inputs, labels = randn(5, 3), randn(5, 2)
    w.add("mlp.inputs", inputs)
    w.add("mlp.labels", labels)

    def mlp(w1, b1, w2):
        return (torch.tanh(inputs @ w1 + b1) @ w2 - labels).pow(2).mean()

    second_order(w, "mlp", mlp, randn(3, 4), randn(4), randn(4, 2))

    # Gradient penalty (WGAN-GP style): ||∇x f(x)||² differentiated with respect to the parameters.
    def penalty(x, w1, w2):
        output = (F.softplus(x @ w1) @ w2).sum()
        (gradient,) = torch.autograd.grad(output, x, create_graph=True)
        return (gradient ** 2).sum()

    xs, w1, w2 = randn(4, 3), randn(3, 5), randn(5, 1)
    w.add("penalty.x", xs)
    w.add("penalty.w1", w1)
    w.add("penalty.w2", w2)
    xs.requires_grad_(True)
    w1.requires_grad_(True)
    w2.requires_grad_(True)
    value = penalty(xs, w1, w2)
    w.add("penalty.out", value)
    g1, g2 = torch.autograd.grad(value, (w1, w2))
    w.add("penalty.grad.w1", g1)
    w.add("penalty.grad.w2", g2)
    w.write()


def main():
    torch.manual_seed(20240611)
    elementwise()
    reduction()
    shape()
    indexing()
    linear_algebra()
    neural()
    higher_order()


if __name__ == "__main__":
    main()
