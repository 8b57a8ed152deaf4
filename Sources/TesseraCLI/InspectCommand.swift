import ArgumentParser
import TesseraCheckpoint

/// `tessera inspect CHECKPOINT [--verify]`: lists a checkpoint's tensors and metadata after checking
/// its structure; `--verify` also decompresses every payload and checks its checksum.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Show a checkpoint's tensors, sizes, compression and metadata (--verify: check every payload).")

    @Argument(help: "The checkpoint file (.tsr).")
    var checkpoint: String

    @Flag(help: "Decompress every entry and check its checksum; the first bad entry is named.")
    var verify = false

    func run() throws {
        if verify {
            let summary = try Checkpoint.verify(checkpoint)
            print(summary.report())
            print("payloads verified: all \(summary.tensors.count) entries decompress and match their checksums")
        } else {
            print(try CheckpointSummary(path: checkpoint).report())
            print("payloads not verified (the header and layout were checked); --verify decompresses and checks every entry")
        }
    }
}
