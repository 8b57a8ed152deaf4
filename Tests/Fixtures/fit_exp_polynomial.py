"""Fits the cubic q in exp(r) ≈ 1 + r + r²·q(r) on [−ln2/2, ln2/2] for the AVX-512 exp kernel
(Sources/CVectorKernels/vector_kernels.c), minimising the maximum relative error by iteratively
reweighted least squares (weights grow where the error is largest, which converges towards the
equioscillating minimax solution). Prints the float32 coefficients q0…q3 and the maximum
relative error of the fit in units of 2⁻²³.

    python Tests/Fixtures/fit_exp_polynomial.py
"""
import numpy as np

half_width = np.log(2) / 2 + 1e-4          # a little margin: n·ln2 is rounded
nodes = np.cos(np.linspace(0, np.pi, 4000)) * half_width
exact = np.exp(nodes)
basis = np.stack([nodes ** (k + 2) for k in range(4)], axis=1) / exact[:, None]
target = (exact - 1 - nodes) / exact
weights = np.ones_like(nodes)
for _ in range(200):
    coefficients = np.linalg.lstsq(basis * weights[:, None], target * weights, rcond=None)[0]
    error = basis @ coefficients - target
    weights *= 1 + 5 * np.abs(error) / np.abs(error).max()
    weights /= weights.mean()
print("q0…q3 =", [float(c) for c in coefficients.astype(np.float32)])
print("max relative error = %.3f × 2^-23" % (np.abs(error).max() / 2.0 ** -23))
