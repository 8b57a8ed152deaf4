import TesseraTensor

/// Tensor overloads: they work on `tensor.storage.pointer` in place, outside the autograd graph
/// (a collective is not a recorded operation).
extension Communicator {
    /// Reduces the tensor's values across ranks, in place.
    public func allreduce(_ tensor: Tensor, operation: ReductionOperation = .sum, timeout: Double? = nil) throws {
        try allreduce(tensor.mutableBuffer, operation: operation, timeout: timeout)
    }

    /// Starts reducing the tensor's values in place; keep `tensor` alive until the request completes.
    public func iallreduce(_ tensor: Tensor, operation: ReductionOperation = .sum) throws -> CommunicationRequest {
        try iallreduce(tensor.mutableBuffer, operation: operation)
    }

    /// Overwrites the tensor with `root`'s values (same shape on every rank).
    public func broadcast(_ tensor: Tensor, root: Int, timeout: Double? = nil) throws {
        try broadcast(tensor.mutableBuffer, root: root, timeout: timeout)
    }

    /// Every rank's tensor (same shapes) concatenated along axis 0 in rank order; a scalar
    /// gives a vector of `size` values.
    public func allgather(_ tensor: Tensor, timeout: Double? = nil) throws -> Tensor {
        let shape = tensor.rank == 0 ? [size] : [size * tensor.shape[0]] + tensor.shape.dropFirst()
        let result = Tensor.zeros(shape)
        try allgather(UnsafeBufferPointer(tensor.mutableBuffer), into: result.mutableBuffer, timeout: timeout)
        return result
    }

    /// Every rank's tensor concatenated along axis 0, where the ranks' row counts may differ
    /// (the other axes must agree). As in SimCLR's distributed loss, the result carries no
    /// gradient: concatenate the local, differentiable rows yourself where they belong.
    public func allgatherVariable(_ tensor: Tensor, timeout: Double? = nil) throws -> Tensor {
        guard tensor.rank >= 1 else {
            throw CommunicatorError.invalidArgument("allgatherVariable: needs a tensor with a leading axis, got a scalar")
        }
        let rowShape = Array(tensor.shape.dropFirst())
        let rowSize = rowShape.reduce(1, *)
        let pieces = try allgatherVariable(UnsafeBufferPointer(tensor.mutableBuffer), timeout: timeout)
        let rows = try pieces.enumerated().map { rank, values -> Int in
            guard rowSize > 0 ? values.count % rowSize == 0 : values.isEmpty else {
                throw CommunicatorError.mismatch("allgatherVariable: rank \(rank) sent \(values.count) values, not rows of shape \(rowShape)")
            }
            return rowSize > 0 ? values.count / rowSize : 0
        }
        return Tensor(shape: [rows.reduce(0, +)] + rowShape, scalars: Array(pieces.joined()))
    }

    /// Sends the tensor's values (not its shape) to `destination`; read them with `message.floats`.
    public func send(_ tensor: Tensor, to destination: Int, tag: Int, timeout: Double? = nil) throws {
        try send(UnsafeRawBufferPointer(tensor.mutableBuffer), to: destination, tag: tag, timeout: timeout)
    }
}

extension Tensor {
    /// The values as a buffer the collectives write into.
    var mutableBuffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: storage.pointer, count: count)
    }
}
