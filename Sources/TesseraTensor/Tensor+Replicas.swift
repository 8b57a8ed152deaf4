extension Tensor {
    /// The element-wise sum of this tensor over the processes of a data-parallel job, where
    /// `sumOverReplicas` sums a buffer in place across them (an allreduce; every process must
    /// call it in the same order). Synchronized batch norm builds its statistics from it.
    ///
    /// Differentiable: the map from every process's `x` to every process's `Σ x` is its own
    /// adjoint, so the gradient on each process is the sum over processes of the output
    /// gradients — one more `sumOverReplicas`, run during backward.
    public func summedOverReplicas(_ sumOverReplicas: @escaping (UnsafeMutableBufferPointer<Float>) -> Void) -> Tensor {
        let total = copy()
        sumOverReplicas(UnsafeMutableBufferPointer(start: total.storage.pointer, count: total.count))
        return total.recorded("summedOverReplicas", inputs: [self]) { g in [g.summedOverReplicas(sumOverReplicas)] }
    }
}
