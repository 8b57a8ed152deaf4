import TesseraTensor

/// Keeping the replicas of a model identical: the same starting values everywhere, and the same
/// averaged gradients after every backward pass (data parallelism).
extension Communicator {
    /// Overwrites every parameter with `root`'s values, in sorted-name order (the order is the
    /// contract: every rank must issue the same broadcasts). Call it once at start and after a
    /// resume. Checks first that all ranks hold the same names and shapes, and throws
    /// `.mismatch` on every rank if not.
    public func broadcastParameters(_ named: [(String, Tensor)], root: Int = 0, timeout: Double? = nil) throws {
        let sorted = try sortedUnique(named, "broadcastParameters")
        try requireSameParameters(sorted, root: root, timeout: timeout)
        for (_, tensor) in sorted { try broadcast(tensor, root: root, timeout: timeout) }
    }

    /// Replaces every parameter's `.grad` by its mean over ranks with one flat allreduce, without
    /// overlapping backward (the simple way, as in CleanRL; `GradientBucketer` overlaps). A
    /// parameter without a gradient contributes zeros and receives the mean like the others.
    public func averageGradients(parameters named: [(String, Tensor)], timeout: Double? = nil) throws {
        let sorted = try sortedUnique(named, "averageGradients")
        // A tensor from the caching allocator (a fresh 1.7 MB array per step cost page faults),
        // written in full: gradients where present, zeros elsewhere.
        let flat = Tensor.uninitialized([sorted.reduce(0) { $0 + $1.1.count }])
        var offset = 0
        for (_, tensor) in sorted {
            if let gradient = tensor.grad {
                (flat.storage.pointer + offset).update(from: gradient.storage.pointer, count: tensor.count)
            } else {
                (flat.storage.pointer + offset).update(repeating: 0, count: tensor.count)
            }
            offset += tensor.count
        }
        try allreduceLarge(UnsafeMutableBufferPointer(start: flat.storage.pointer, count: flat.count), operation: .sum,
                           timeout: timeout)
        // The mean is taken while unpacking: one pass instead of a divide pass and a copy pass.
        // Divided (not multiplied by 1/size) so results equal the bucketed path's `.mean` bit for bit.
        let divisor = Float(size)
        offset = 0
        for (_, tensor) in sorted {
            let gradient = tensor.grad ?? Tensor.uninitialized(tensor.shape)
            let source = flat.storage.pointer + offset, destination = gradient.storage.pointer
            for i in 0..<tensor.count { destination[i] = source[i] / divisor }
            tensor.grad = gradient
            offset += tensor.count
        }
    }

    /// Compares `root`'s list of names and shapes with this rank's, then agrees on the verdict with
    /// an allreduce so that every rank throws, or none does.
    private func requireSameParameters(_ sorted: [(String, Tensor)], root: Int, timeout: Double?) throws {
        let manifest = sorted.map { "\($0.0)\($0.1.shape)" }
        let rootManifest = try broadcast(string: manifest.joined(separator: "\n"), root: root, timeout: timeout)
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let differs = rootManifest != (manifest.isEmpty ? [""] : manifest)
        var anyDiffers: [Float] = [differs ? 1 : 0]
        try allreduce(&anyDiffers, operation: .max, timeout: timeout)
        guard anyDiffers[0] == 0 else {
            let mine = Set(manifest), theirs = Set(rootManifest)
            let detail = differs
                ? "rank \(rank) has \(Array(mine.subtracting(theirs)).sorted().prefix(3)), root has \(Array(theirs.subtracting(mine)).sorted().prefix(3))"
                : "another rank's parameters differ from root's"
            throw CommunicatorError.mismatch("broadcastParameters: \(detail)")
        }
    }
}

private func sortedUnique(_ named: [(String, Tensor)], _ operation: String) throws -> [(String, Tensor)] {
    let sorted = named.sorted { $0.0 < $1.0 }
    for (first, second) in zip(sorted, sorted.dropFirst()) where first.0 == second.0 {
        throw CommunicatorError.invalidArgument("\(operation): parameter name \(first.0) appears twice")
    }
    return sorted
}
