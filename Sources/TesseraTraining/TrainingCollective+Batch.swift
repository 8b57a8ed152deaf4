import TesseraNN
import TesseraTensor

/// Where a closure that cannot throw — one that runs a collective inside the forward or backward
/// pass (a batch norm's sums, a gather's gradient) — leaves its first error for the training step
/// to throw after backward.
public final class CollectiveFailure {
    public private(set) var error: Error?
    public init() {}

    func record(_ error: Error) {
        if self.error == nil { self.error = error }
    }

    /// Throws the recorded error, if any.
    public func check() throws {
        if let error { throw error }
    }
}

/// Collectives that act on a batch spread over the processes: what makes a data-parallel step see
/// the global batch, not its shard.
extension TrainingCollective {
    /// Makes every batch norm of `model` normalise with the statistics of the global batch: its
    /// per-channel sums and counts are added up over the ranks in the forward pass, and their
    /// gradients in the backward pass (PyTorch's `SyncBatchNorm`). Errors go to `failure`.
    public func synchronizeBatchNorms(in model: any Module, failure: CollectiveFailure) {
        for (_, module) in model.namedModules() {
            guard let batchNorm = module as? BatchNorm else { continue }
            batchNorm.sumOverReplicas = { buffer in
                guard failure.error == nil else { return }
                do {
                    let sums = try self.sum(buffer.map(Double.init))
                    for index in buffer.indices { buffer[index] = Float(sums[index]) }
                } catch {
                    failure.record(error)
                }
            }
        }
    }

    /// Every rank's `rows` (`[n_r, …]`, the same trailing shape everywhere) stacked in rank order,
    /// differentiably: the gradient with respect to the stacked rows is summed over the ranks (every
    /// rank's loss may read every row) and each rank keeps the part of its own rows. So a loss that
    /// compares each sample with the global batch — SimCLR's negatives — gets the gradient it would
    /// get in one process, on the rank that owns each row.
    public func gatheredRows(_ rows: Tensor, failure: CollectiveFailure) throws -> Tensor {
        let trailing = Array(rows.shape.dropFirst()), width = trailing.reduce(1, *)
        let parts = try allgatherBytes(rows.scalars.withUnsafeBytes { Array($0) })
        var scalars: [Float] = [], counts: [Int] = []
        for part in parts {
            let values = part.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            guard width > 0, values.count % width == 0 else {
                throw TrainingError("gathering rows of shape \(trailing): a rank sent \(values.count) values, not a whole number of rows")
            }
            counts.append(values.count / width)
            scalars += values
        }
        let offset = counts.prefix(rank).reduce(0, +), own = counts[rank]
        let gathered = Tensor(shape: [counts.reduce(0, +)] + trailing, scalars: scalars)
        return Tensor.customOperation("gatheredRows", output: gathered, inputs: [rows]) { gradient in
            guard failure.error == nil else { return [Tensor.zeros(rows.shape)] }
            do {
                let total = try self.sum(gradient.scalars.map(Double.init))
                let mine = total[(offset * width)..<((offset + own) * width)].map(Float.init)
                return [Tensor(shape: rows.shape, scalars: mine)]
            } catch {
                failure.record(error)
                return [Tensor.zeros(rows.shape)]
            }
        }
    }
}
