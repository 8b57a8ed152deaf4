import Foundation
import TesseraCheckpoint
import TesseraNN
import TesseraTensor

/// What every data-parallel trainer does to keep its replicas identical: rank 0 decides where the
/// run starts and hands its state to the others, and all ranks agree on when to stop.
extension TrainingCollective {
    /// Rank 0's `progress` on every rank (the others pass `nil`). Only rank 0 logs, so the others
    /// receive it without the metrics history.
    func broadcastProgress(_ progress: TrainingProgress?) throws -> TrainingProgress {
        if rank == 0 {
            guard let progress else { throw TrainingError("rank 0 has no training progress to send") }
            _ = try broadcastBytes(Array(try JSONEncoder.sorted.encode(progress)))
            return progress
        }
        var received = try JSONDecoder().decode(TrainingProgress.self, from: Data(try broadcastBytes([])))
        received.metrics = []
        return received
    }

    /// Rank 0's parameters and buffers (in sorted-name order) and optimizer slots on every rank.
    /// Workers have no slots yet (they are created at a parameter's first update) while a resumed
    /// rank 0 has them all, so the slots travel as one encoded checkpoint rather than tensor by tensor.
    func broadcastReplicaState(model: any Module, optimizer: any Optimizer) throws {
        try broadcast(model.stateDictionary().sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        let slots = optimizer.stateDictionary().sorted { $0.key < $1.key }.map { TrainingCheckpoint.entry($0.key, $0.value) }
        let bytes = try broadcastBytes(rank == 0 ? Checkpoint(entries: slots).encoded() : [])
        guard rank != 0 else { return }
        let source = "optimizer state from rank 0"
        var state: [String: Tensor] = [:]
        for entry in try Checkpoint(decoding: bytes, source: source).entries {
            state[entry.name] = try TrainingCheckpoint.tensor(entry, path: source)
        }
        try optimizer.loadStateDictionary(state)
    }

    /// The pending SIGINT/SIGTERM of any rank. Every rank must stop at the same step, so they
    /// agree once per step (a one-number allreduce): a signal to one rank stops them all.
    func agreedInterruption() throws -> String? {
        let local = InterruptSignal.pending != nil
        let votes = try sum([local ? 1 : 0])[0]
        return votes > 0 ? (local ? InterruptSignal.pendingName : "a signal to another rank") : nil
    }
}
