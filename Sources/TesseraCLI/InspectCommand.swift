import ArgumentParser
import TesseraCheckpoint

/// `tessera inspect CHECKPOINT`: verifies a checkpoint and lists its tensors and metadata.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Verify a checkpoint and show its tensors, sizes, compression and metadata.")

    @Argument(help: "The checkpoint file (.tsr).")
    var checkpoint: String

    func run() throws {
        print(try CheckpointSummary(path: checkpoint).report())
    }
}
