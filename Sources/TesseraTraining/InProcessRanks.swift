import Foundation
import TesseraDistributed

/// `training.batchShards` S in one process for a task whose shards meet inside the step (gathered
/// projections, batch statistics, an all-reduced centre): S ranks of one run on S threads of this
/// process, joined by in-memory collectives (`LocalCommunicator`). They reduce in rank order, as
/// MPI's allreduce of two processes adds the same two numbers, so `--np 1` trains bit for bit
/// like `--np 2` with two shards. Rank 0 alone logs and writes the run directory, as under MPI;
/// a rank that stops with an error releases the others at once instead of leaving them waiting.
enum InProcessRanks {
    /// Trains `count` ranks, each with the trainer `makeTrainer` builds on its collective (the
    /// flag: whether that rank shows progress), and returns rank 0's result, or the error that
    /// stopped the first rank to fail.
    static func train(count: Int, distributed: DistributedSection, resume: ResumeRequest, showProgress: Bool,
                      makeTrainer: @escaping (_ collective: any TrainingCollective, _ showProgress: Bool) throws -> StepTrainer) throws -> TrainingResult {
        let group = LocalCommunicator.group(size: count)
        let results = RankThreads.run(count) { rank -> TrainingResult in
            do {
                let collective = CommunicatorCollective(communicator: group[rank], settings: distributed)
                let trainer = try makeTrainer(collective, showProgress && rank == 0)
                return try trainer.train(resume: resume)
            } catch {
                group[rank].abandonGroup(because: "\(error)")
                throw error
            }
        }
        let failures = results.compactMap { outcome -> Error? in if case .failure(let error) = outcome { return error } else { return nil } }
        // The error that started it, not another rank's "another rank stopped".
        if let failure = failures.first(where: { !isAbandonment($0) }) ?? failures.first { throw failure }
        return try results[0].get()
    }

    private static func isAbandonment(_ error: Error) -> Bool {
        if case CommunicatorError.abandoned = error { return true }
        return "\(error)".contains(CommunicatorError.abandoned("").description)
    }
}
