import TesseraTensor

/// Averages gradients across ranks while `backward()` is still running, by packing them into
/// flat buckets of about `bucketBytes` and allreducing each bucket as soon as all of its
/// gradients are final: communication of late layers overlaps the backward pass of early ones
/// (PyTorch DDP: Li et al., "PyTorch Distributed: Experiences on Accelerating Data Parallel
/// Training", VLDB 2020, §3.2).
///
/// The training step stays visible:
///
/// ```swift
/// let bucketer = GradientBucketer(parameters: model.namedParameters, communicator: communicator)
/// loss.backward()           // hooks copy final gradients into buckets and start allreduces
/// try bucketer.finish()     // wait, divide by world size, copy back into .grad
/// optimizer.step()
/// ```
///
/// Determinism: parameters are packed in sorted-name order, so every rank builds the same
/// buckets whatever order it lists them in. Buckets are started strictly in index order (a ready
/// bucket waits for the ones before it), because every rank must start its collectives in the
/// same order even when its backward pass makes gradients ready in a different one. A parameter
/// that got no gradient in this pass contributes zeros (its bucket starts in `finish()`), and
/// after `finish()` every parameter has a `.grad` holding the average, identical on every rank.
///
/// Call `finish()` after every `backward()`; for gradient accumulation over micro-batches,
/// accumulate without a bucketer (`detach()`) and use `Communicator.averageGradients` once.
public final class GradientBucketer {
    /// One bucket: the parameters it packs, in order, and its size in floats.
    public struct Bucket: Equatable {
        public let parameterNames: [String]
        public let elementCount: Int
    }

    /// The buckets in the order their allreduces start.
    public let buckets: [Bucket]
    /// The bucket indices in the order their allreduces started during the last completed step
    /// (always `0, 1, …`; kept so tests and logs can check it).
    public private(set) var lastLaunchOrder: [Int] = []
    /// How many buckets of the current step have started their allreduce so far.
    public var launchedBucketCount: Int { nextLaunch }

    private let communicator: Communicator
    private let parameters: [(name: String, tensor: Tensor)]
    /// For each parameter (sorted order): its bucket and its offset in the bucket, in floats.
    private let placements: [(bucket: Int, offset: Int)]
    private let buffers: [UnsafeMutableBufferPointer<Float>]
    private var pendingCounts: [Int]
    private var isReady: [Bool]
    private var requests: [CommunicationRequest?]
    private var nextLaunch = 0
    private var launchOrder: [Int] = []
    /// An error met inside a hook (hooks cannot throw); `finish()` throws it.
    private var deferredError: Error?

    /// - Parameters:
    ///   - parameters: named parameters (dotted paths); names must be unique.
    ///   - communicator: the group to average over; every rank must build its bucketer with the
    ///     same parameter names and `bucketBytes`, since the buckets' allreduces are matched by order.
    ///   - bucketBytes: target bucket size. 2 MiB: large enough that per-message latency is small
    ///     next to transfer time, small enough that the first bucket starts early (DDP uses
    ///     25 MB on GPUs; our models and CPUs are smaller). A larger parameter gets its own bucket.
    public init(parameters: [(String, Tensor)], communicator: Communicator, bucketBytes: Int = 2 << 20) {
        let sorted = parameters.sorted { $0.0 < $1.0 }.map { (name: $0.0, tensor: $0.1) }
        precondition(Set(sorted.map(\.name)).count == sorted.count, "GradientBucketer: parameter names must be unique")
        let bucketElements = max(1, bucketBytes / MemoryLayout<Float>.size)
        var placements: [(bucket: Int, offset: Int)] = []
        var buckets: [Bucket] = []
        var names: [String] = []
        var filled = 0
        for (name, tensor) in sorted {
            if filled > 0 && filled + tensor.count > bucketElements {
                buckets.append(Bucket(parameterNames: names, elementCount: filled))
                names = []
                filled = 0
            }
            placements.append((buckets.count, filled))
            names.append(name)
            filled += tensor.count
        }
        if !names.isEmpty { buckets.append(Bucket(parameterNames: names, elementCount: filled)) }

        self.communicator = communicator
        self.parameters = sorted
        self.placements = placements
        self.buckets = buckets
        buffers = buckets.map { .allocate(capacity: $0.elementCount) }
        pendingCounts = buckets.map(\.parameterNames.count)
        isReady = Array(repeating: false, count: sorted.count)
        requests = Array(repeating: nil, count: buckets.count)
        for (index, parameter) in sorted.enumerated() {
            parameter.tensor.gradientReadyHook = { [weak self] _ in self?.gradientReady(parameterIndex: index) }
        }
    }

    deinit {
        detach()
        for buffer in buffers { buffer.deallocate() }
    }

    /// Removes the hooks: later `backward()` calls no longer start allreduces.
    public func detach() {
        for parameter in parameters { parameter.tensor.gradientReadyHook = nil }
    }

    /// Waits for every bucket (starting those whose gradients never all became ready, with zeros
    /// for the missing ones), and writes the averages into each parameter's `.grad`.
    public func finish(timeout: Double? = nil) throws {
        defer { resetForNextStep() }
        for (index, parameter) in parameters.enumerated() where !isReady[index] {
            let (bucket, offset) = placements[index]
            buffers[bucket].baseAddress!.advanced(by: offset).update(repeating: 0, count: parameter.tensor.count)
        }
        while nextLaunch < buckets.count { launch(nextLaunch) }
        for request in requests { try request?.wait(timeout: timeout) }
        if let deferredError { throw deferredError }
        for (index, parameter) in parameters.enumerated() {
            let (bucket, offset) = placements[index]
            let gradient = parameter.tensor.grad ?? Tensor.zeros(parameter.tensor.shape)
            gradient.storage.pointer.update(from: buffers[bucket].baseAddress!.advanced(by: offset), count: gradient.count)
            parameter.tensor.grad = gradient
        }
        lastLaunchOrder = launchOrder
    }

    // MARK: During backward

    private func gradientReady(parameterIndex index: Int) {
        let parameter = parameters[index]
        guard !isReady[index] else {
            deferredError = deferredError ?? CommunicatorError.invalidArgument(
                "GradientBucketer: gradient of \(parameter.name) became ready twice; call finish() after every backward()")
            return
        }
        let (bucket, offset) = placements[index]
        let destination = buffers[bucket].baseAddress!.advanced(by: offset)
        if let gradient = parameter.tensor.grad {
            destination.update(from: gradient.storage.pointer, count: parameter.tensor.count)
        } else {
            destination.update(repeating: 0, count: parameter.tensor.count)
        }
        isReady[index] = true
        pendingCounts[bucket] -= 1
        while nextLaunch < buckets.count && pendingCounts[nextLaunch] == 0 { launch(nextLaunch) }
    }

    private func launch(_ bucket: Int) {
        nextLaunch += 1
        launchOrder.append(bucket)
        do {
            requests[bucket] = try communicator.iallreduce(buffers[bucket], operation: .mean)
        } catch {
            deferredError = deferredError ?? error
        }
    }

    private func resetForNextStep() {
        pendingCounts = buckets.map(\.parameterNames.count)
        isReady = Array(repeating: false, count: parameters.count)
        requests = Array(repeating: nil, count: buckets.count)
        nextLaunch = 0
        launchOrder = []
        deferredError = nil
    }
}
