import TesseraTensor

/// Each row divided by its Euclidean length (PyTorch's `F.normalize`: lengths below `epsilon`
/// count as `epsilon`, so a zero row stays zero instead of dividing by zero).
public func l2Normalized(_ rows: Tensor, epsilon: Float = 1e-12) -> Tensor {
    rows / (rows * rows).sum(alongAxes: [rows.rank - 1], keepDims: true).sqrt().maximum(epsilon)
}
