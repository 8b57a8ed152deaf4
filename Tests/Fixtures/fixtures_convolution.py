"""Golden values for convolution, pooling and upsampling (Tests/TesseraTensorTests/ConvolutionTests.swift,
PoolingTests.swift).

Each case stores its inputs, an `upstream` tensor R, the output y and the gradients of sum(y * R)
(a random R, so every output position gets a different weight). Settings go in `<case>/params` as a
float vector so the Swift tests read one source of truth. Values are computed in float64 from
float32 inputs.
"""
import torch
import torch.nn.functional as F

from common import FixtureWriter


def rand(*shape):
    return torch.randn(*shape).float().double()


# name: (N, C, H, W, O, kh, kw, stride, padding, dilation, groups, bias)
CONV2D = {
    "basic": (2, 3, 5, 6, 4, 3, 3, (1, 1), (0, 0), (1, 1), 1, True),
    "stride2_padding1": (2, 3, 7, 6, 4, 3, 3, (2, 2), (1, 1), (1, 1), 1, True),
    "padding2_dilation2": (1, 2, 9, 8, 3, 3, 3, (1, 1), (2, 2), (2, 2), 1, True),
    "nonsquare": (2, 2, 6, 9, 3, 2, 4, (2, 1), (1, 2), (1, 2), 1, False),
    "groups2": (2, 4, 6, 6, 6, 3, 3, (1, 1), (1, 1), (1, 1), 2, True),
    "groups4_stride2": (1, 8, 7, 7, 8, 3, 3, (2, 2), (1, 1), (1, 1), 4, True),
    "depthwise": (2, 4, 6, 5, 4, 3, 3, (1, 1), (1, 1), (1, 1), 4, True),
    "depthwise_multiplier2": (2, 3, 5, 5, 6, 3, 2, (1, 2), (1, 0), (2, 1), 3, False),
    "pointwise": (3, 5, 4, 4, 2, 1, 1, (1, 1), (0, 0), (1, 1), 1, True),
    "stride_exceeds_kernel": (2, 2, 8, 7, 3, 2, 2, (3, 3), (1, 0), (1, 1), 1, True),
}

# name: (N, C, L, O, k, stride, padding, dilation, groups, bias)
CONV1D = {
    "basic": (2, 3, 10, 4, 3, 1, 0, 1, 1, True),
    "stride2_dilation2_groups": (2, 4, 12, 6, 3, 2, 1, 2, 2, True),
}

# name: (N, C_in, H, W, C_out, kh, kw, stride, padding, output_padding, dilation, groups, bias)
CONV_TRANSPOSE2D = {
    "stride2_output_padding1": (2, 3, 4, 5, 2, 3, 3, (2, 2), (1, 1), (1, 1), (1, 1), 1, True),
    "stride3_output_padding2": (1, 2, 3, 3, 3, 2, 3, (3, 2), (0, 1), (2, 1), (1, 1), 1, True),
    "groups2_dilation2": (2, 4, 4, 4, 6, 3, 3, (2, 1), (1, 2), (1, 0), (2, 2), 2, False),
    "depthwise": (1, 4, 5, 4, 4, 3, 3, (1, 1), (1, 1), (0, 0), (1, 1), 4, True),
}

# name: (N, C_in, L, C_out, k, stride, padding, output_padding, dilation, groups, bias)
CONV_TRANSPOSE1D = {
    "stride2_output_padding1": (2, 3, 6, 4, 3, 2, 1, 1, 1, 1, True),
}

# name: (shape, kernel, stride, padding, dilation, ceil_mode, integer_valued)
MAX_POOL2D = {
    "kernel2_stride2": ((2, 3, 6, 6), (2, 2), (2, 2), (0, 0), (1, 1), False, False),
    "kernel3_stride2_padding1": ((2, 2, 7, 6), (3, 3), (2, 2), (1, 1), (1, 1), False, False),
    "nonsquare_dilation": ((1, 2, 8, 9), (2, 3), (1, 2), (1, 1), (2, 1), False, False),
    "ceil_mode": ((1, 2, 7, 7), (3, 3), (2, 2), (1, 1), (1, 1), True, False),
    "ties_go_to_first": ((1, 2, 6, 6), (3, 3), (1, 1), (1, 1), (1, 1), False, True),
    # Wide rows take the vectorised 2×2 path (an odd output width makes its last step overlap).
    "halving_wide_rows": ((2, 3, 6, 18), (2, 2), (2, 2), (0, 0), (1, 1), False, False),
    "halving_ties": ((1, 2, 5, 11), (2, 2), (2, 2), (0, 0), (1, 1), False, True),
}

# name: (shape, kernel, stride, padding, ceil_mode, count_include_pad)
AVG_POOL2D = {
    "kernel2_stride2": ((2, 3, 6, 6), (2, 2), (2, 2), (0, 0), False, True),
    "padding_counted": ((2, 2, 7, 6), (3, 3), (2, 2), (1, 1), False, True),
    "padding_not_counted": ((2, 2, 7, 6), (3, 3), (2, 2), (1, 1), False, False),
    "ceil_mode_counted": ((1, 2, 7, 8), (3, 2), (2, 3), (1, 1), True, True),
    "ceil_mode_not_counted": ((1, 2, 7, 8), (3, 2), (2, 3), (1, 1), True, False),
}

# name: (shape, output size)
ADAPTIVE_AVG_POOL2D = {
    "uneven": ((2, 3, 7, 5), (3, 2)),
    "larger_output": ((1, 2, 4, 3), (6, 5)),
}

# name: (shape, mode, size or None, scale or None, align_corners)
INTERPOLATE = {
    "nearest_size": ((2, 2, 3, 4), "nearest", (5, 7), None, None),
    "nearest_scale2": ((1, 3, 4, 3), "nearest", None, 2.0, None),
    "nearest_scale1_5": ((1, 2, 4, 5), "nearest", None, 1.5, None),
    "nearest_downsample": ((1, 2, 7, 6), "nearest", (3, 4), None, None),
    "bilinear_size": ((2, 2, 3, 4), "bilinear", (5, 7), None, False),
    "bilinear_size_align_corners": ((2, 2, 3, 4), "bilinear", (5, 7), None, True),
    "bilinear_scale2": ((1, 3, 4, 3), "bilinear", None, 2.0, False),
    "bilinear_scale2_align_corners": ((1, 3, 4, 3), "bilinear", None, 2.0, True),
    "bilinear_downsample": ((1, 2, 7, 6), "bilinear", (3, 4), None, False),
    "bilinear_downsample_align_corners": ((1, 2, 7, 6), "bilinear", (3, 4), None, True),
}


def add_first_order(out, prefix, inputs, output):
    """Stores inputs, output, upstream and the gradients of sum(output * upstream)."""
    upstream = rand(*output.shape)
    grads = torch.autograd.grad((output * upstream).sum(), [t for t in inputs.values()])
    for name, tensor in inputs.items():
        out.add(f"{prefix}/{name}", tensor)
    out.add(f"{prefix}/output", output)
    out.add(f"{prefix}/upstream", upstream)
    for (name, _), grad in zip(inputs.items(), grads):
        out.add(f"{prefix}/grad_{name}", grad)


def leaf(*shape):
    return rand(*shape).requires_grad_()


def add_second_order(out, prefix, inputs, function):
    """For L = sum(tanh(function(**inputs)) * upstream), stores for each input a the gradients of
    sum((dL/da)^2) with respect to every input."""
    output = function(**inputs)
    upstream = rand(*output.shape)
    loss = (output.tanh() * upstream).sum()
    names = list(inputs)
    first = torch.autograd.grad(loss, [inputs[n] for n in names], create_graph=True)
    for name in names:
        out.add(f"{prefix}/{name}", inputs[name])
    out.add(f"{prefix}/upstream", upstream)
    for name, grad in zip(names, first):
        out.add(f"{prefix}/grad_{name}", grad)
        second = torch.autograd.grad((grad ** 2).sum(), [inputs[n] for n in names], retain_graph=True, allow_unused=True)
        for other, value in zip(names, second):
            out.add(f"{prefix}/grad_{name}_squared_wrt_{other}",
                    value if value is not None else torch.zeros_like(inputs[other]))


def main():
    torch.manual_seed(20240611)
    out = FixtureWriter("TesseraTensorTests", "convolution")

    for name, (n, c, h, w, o, kh, kw, stride, padding, dilation, groups, bias) in CONV2D.items():
        inputs = {"input": leaf(n, c, h, w), "weight": leaf(o, c // groups, kh, kw)}
        if bias:
            inputs["bias"] = leaf(o)
        y = F.conv2d(inputs["input"], inputs["weight"], inputs.get("bias"), stride, padding, dilation, groups)
        add_first_order(out, f"conv2d/{name}", inputs, y)
        out.add(f"conv2d/{name}/params", [*stride, *padding, *dilation, groups])

    for name, (n, c, length, o, k, stride, padding, dilation, groups, bias) in CONV1D.items():
        inputs = {"input": leaf(n, c, length), "weight": leaf(o, c // groups, k)}
        if bias:
            inputs["bias"] = leaf(o)
        y = F.conv1d(inputs["input"], inputs["weight"], inputs.get("bias"), stride, padding, dilation, groups)
        add_first_order(out, f"conv1d/{name}", inputs, y)
        out.add(f"conv1d/{name}/params", [stride, padding, dilation, groups])

    for name, (n, c, h, w, o, kh, kw, stride, padding, extra, dilation, groups, bias) in CONV_TRANSPOSE2D.items():
        inputs = {"input": leaf(n, c, h, w), "weight": leaf(c, o // groups, kh, kw)}
        if bias:
            inputs["bias"] = leaf(o)
        y = F.conv_transpose2d(inputs["input"], inputs["weight"], inputs.get("bias"), stride, padding, extra, groups,
                               dilation)
        add_first_order(out, f"convTranspose2d/{name}", inputs, y)
        out.add(f"convTranspose2d/{name}/params", [*stride, *padding, *extra, *dilation, groups])

    for name, (n, c, length, o, k, stride, padding, extra, dilation, groups, bias) in CONV_TRANSPOSE1D.items():
        inputs = {"input": leaf(n, c, length), "weight": leaf(c, o // groups, k)}
        if bias:
            inputs["bias"] = leaf(o)
        y = F.conv_transpose1d(inputs["input"], inputs["weight"], inputs.get("bias"), stride, padding, extra, groups,
                               dilation)
        add_first_order(out, f"convTranspose1d/{name}", inputs, y)
        out.add(f"convTranspose1d/{name}/params", [stride, padding, extra, dilation, groups])

    # Second order: gradients of the squared first-order gradients.
    add_second_order(out, "second_order/conv2d",
                     {"input": leaf(2, 4, 6, 5), "weight": leaf(6, 2, 3, 2), "bias": leaf(6)},
                     lambda input, weight, bias: F.conv2d(input, weight, bias, (2, 1), (1, 1), (1, 2), 2))
    out.add("second_order/conv2d/params", [2, 1, 1, 1, 1, 2, 2])
    add_second_order(out, "second_order/convTranspose2d",
                     {"input": leaf(2, 4, 3, 4), "weight": leaf(4, 3, 3, 3), "bias": leaf(6)},
                     lambda input, weight, bias: F.conv_transpose2d(input, weight, bias, 2, 1, 1, 2, 1))
    out.add("second_order/convTranspose2d/params", [2, 2, 1, 1, 1, 1, 1, 1, 2])

    pools = FixtureWriter("TesseraTensorTests", "pooling")
    for name, (shape, kernel, stride, padding, dilation, ceil_mode, integer_valued) in MAX_POOL2D.items():
        x = torch.randint(0, 3, shape).double() if integer_valued else rand(*shape)
        x.requires_grad_()
        y, indices = F.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode, return_indices=True)
        add_first_order(pools, f"maxPool2d/{name}", {"input": x}, y)
        pools.add(f"maxPool2d/{name}/indices", indices)
        pools.add(f"maxPool2d/{name}/params", [*kernel, *stride, *padding, *dilation, int(ceil_mode)])

    x = leaf(2, 3, 11)
    add_first_order(pools, "maxPool1d/kernel3_stride2_padding1", {"input": x}, F.max_pool1d(x, 3, 2, 1))
    pools.add("maxPool1d/kernel3_stride2_padding1/params", [3, 2, 1])

    for name, (shape, kernel, stride, padding, ceil_mode, count_include_pad) in AVG_POOL2D.items():
        x = leaf(*shape)
        y = F.avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad)
        add_first_order(pools, f"avgPool2d/{name}", {"input": x}, y)
        pools.add(f"avgPool2d/{name}/params", [*kernel, *stride, *padding, int(ceil_mode), int(count_include_pad)])

    x = leaf(2, 3, 11)
    add_first_order(pools, "avgPool1d/kernel4_stride3_padding2", {"input": x}, F.avg_pool1d(x, 4, 3, 2, False, False))
    pools.add("avgPool1d/kernel4_stride3_padding2/params", [4, 3, 2])

    for name, (shape, size) in ADAPTIVE_AVG_POOL2D.items():
        x = leaf(*shape)
        add_first_order(pools, f"adaptiveAvgPool2d/{name}", {"input": x}, F.adaptive_avg_pool2d(x, size))
        pools.add(f"adaptiveAvgPool2d/{name}/params", list(size))

    for name, (shape, mode, size, scale, align_corners) in INTERPOLATE.items():
        x = leaf(*shape)
        y = F.interpolate(x, size=size, scale_factor=scale, mode=mode, align_corners=align_corners)
        add_first_order(pools, f"interpolate/{name}", {"input": x}, y)
        # params: size h, w (0 when a scale is used), scale (0 when a size is used), align_corners
        pools.add(f"interpolate/{name}/params", [*(size or (0, 0)), scale or 0, int(bool(align_corners))])

    for name, function in {
        "maxPool2d": lambda input: F.max_pool2d(input, 3, 2, 1),
        "avgPool2d": lambda input: F.avg_pool2d(input, 3, 2, 1, count_include_pad=False),
        "bilinear": lambda input: F.interpolate(input, size=(7, 9), mode="bilinear", align_corners=False),
    }.items():
        add_second_order(pools, f"second_order/{name}", {"input": leaf(2, 2, 5, 6)}, function)

    out.write()
    pools.write()


if __name__ == "__main__":
    main()
