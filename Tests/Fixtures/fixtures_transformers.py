"""Golden values for TesseraTransformers: torch.nn.MultiheadAttention (self-attention with causal
and key-padding masks, cross-attention with another key width) and torch.nn.TransformerEncoderLayer
(pre-LN and post-LN, ReLU and GELU), forward and gradients from the same weights.

Weights are exported under `<case>.state.<Tessera name>`: torch's fused `in_proj_weight` is split
into `query.weight`, `key.weight`, `value.weight` (rows 0..d, d..2d, 2d..3d), `out_proj` is
`output`, `linear1/2` are `feedForward.expand/contract`, `norm1/2` are `attentionNorm` and
`feedForwardNorm`. Gradients of the parameters are under `<case>.grad.<Tessera name>`, of each
input under `<case>.<input>Grad`. The loss is `sum(output * upstream)` with a fixed random upstream.
"""
import torch
import torch.nn as nn

from common import FixtureWriter


def attention_names(prefix, module, tensors):
    """Maps an nn.MultiheadAttention's tensors (parameters or their grads) to Tessera names."""
    d = module.embed_dim
    names = {}
    if module._qkv_same_embed_dim:
        weight = tensors(module.in_proj_weight)
        names.update({"query.weight": weight[:d], "key.weight": weight[d:2 * d], "value.weight": weight[2 * d:]})
    else:
        names.update({"query.weight": tensors(module.q_proj_weight), "key.weight": tensors(module.k_proj_weight),
                      "value.weight": tensors(module.v_proj_weight)})
    bias = tensors(module.in_proj_bias)
    names.update({"query.bias": bias[:d], "key.bias": bias[d:2 * d], "value.bias": bias[2 * d:],
                  "output.weight": tensors(module.out_proj.weight), "output.bias": tensors(module.out_proj.bias)})
    return {prefix + k: v for k, v in names.items()}


def encoder_layer_names(layer, tensors):
    names = attention_names("attention.", layer.self_attn, tensors)
    for torch_name, tessera in (("linear1", "feedForward.expand"), ("linear2", "feedForward.contract"),
                                ("norm1", "attentionNorm"), ("norm2", "feedForwardNorm")):
        module = getattr(layer, torch_name)
        names[tessera + ".weight"] = tensors(module.weight)
        names[tessera + ".bias"] = tensors(module.bias)
    return names


def export(w, case, names):
    for name, value in names.items():
        w.add(f"{case}.{name}", value)


def attention_case(w, case, module, query, memory=None, attn_mask=None, key_padding_mask=None):
    """Self-attention when `memory` is None (query, key and value are one leaf), else cross-attention
    with `memory` as both keys and values."""
    leaves = {"query": query.clone().requires_grad_(True)}
    if memory is not None:
        leaves["memory"] = memory.clone().requires_grad_(True)
    q = leaves["query"]
    kv = leaves.get("memory", q)
    output, weights = module(q, kv, kv, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                             need_weights=True, average_attn_weights=False)
    upstream = torch.randn_like(output)
    (output * upstream).sum().backward()
    export(w, case + ".state", attention_names("", module, lambda t: t.detach()))
    export(w, case + ".grad", attention_names("", module, lambda t: t.grad))
    for name, leaf in leaves.items():
        w.add(f"{case}.{name}", leaf)
        w.add(f"{case}.{name}Grad", leaf.grad)
    w.add(f"{case}.upstream", upstream)
    w.add(f"{case}.output", output)
    w.add(f"{case}.probabilities", weights)


def encoder_case(w, case, seed, norm_first, activation, padding):
    torch.manual_seed(seed)
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, activation=activation,
                                       batch_first=True, norm_first=norm_first)
    with torch.no_grad():
        for norm in (layer.norm1, layer.norm2):
            norm.weight.copy_(1 + 0.3 * torch.randn(8))
            norm.bias.copy_(0.3 * torch.randn(8))
    layer.train()  # dropout is 0; training mode keeps torch off its fused fast path
    x = torch.randn(2, 5, 8, requires_grad=True)
    padding_mask = torch.tensor([[False] * 5, [False, False, False, True, True]]) if padding else None
    y = layer(x, src_key_padding_mask=padding_mask)
    upstream = torch.randn_like(y)
    (y * upstream).sum().backward()
    export(w, case + ".state", encoder_layer_names(layer, lambda t: t.detach()))
    export(w, case + ".grad", encoder_layer_names(layer, lambda t: t.grad))
    w.add(f"{case}.input", x)
    w.add(f"{case}.inputGrad", x.grad)
    w.add(f"{case}.upstream", upstream)
    w.add(f"{case}.output", y)
    if padding:
        w.add(f"{case}.isToken", (~padding_mask).float())


def main():
    torch.manual_seed(0)
    w = FixtureWriter("TesseraTransformersTests", "attention")
    batch, length, d, heads = 2, 5, 8, 2

    plain = nn.MultiheadAttention(d, heads, batch_first=True)
    attention_case(w, "self", plain, torch.randn(batch, length, d))

    causal = nn.MultiheadAttention(d, heads, batch_first=True)
    mask = torch.triu(torch.ones(length, length, dtype=torch.bool), diagonal=1)  # True = blocked
    x = torch.randn(batch, length, d)
    attention_case(w, "causal", causal, x, attn_mask=mask)

    padded = nn.MultiheadAttention(d, heads, batch_first=True)
    key_padding = torch.tensor([[False] * length, [False, False, True, True, True]])
    x = torch.randn(batch, length, d)
    attention_case(w, "padding", padded, x, key_padding_mask=key_padding)
    w.add("padding.isToken", (~key_padding).float())

    cross = nn.MultiheadAttention(d, heads, batch_first=True, kdim=6, vdim=6)
    memory = torch.randn(batch, 7, 6)
    memory_padding = torch.tensor([[False] * 7, [False] * 4 + [True] * 3])
    attention_case(w, "cross", cross, torch.randn(batch, 3, d), memory, key_padding_mask=memory_padding)
    w.add("cross.isToken", (~memory_padding).float())
    w.write()

    w = FixtureWriter("TesseraTransformersTests", "encoder_layer")
    seed = 1
    for norm_first in (True, False):
        for activation in ("relu", "gelu"):
            case = f"{'pre' if norm_first else 'post'}_{activation}"
            encoder_case(w, case, seed, norm_first, activation, padding=False)
            seed += 1
    encoder_case(w, "post_relu_padding", seed, False, "relu", padding=True)
    w.write()


if __name__ == "__main__":
    main()
