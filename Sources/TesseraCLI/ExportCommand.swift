import ArgumentParser
import Foundation
import TesseraCheckpoint

/// `tessera export CHECKPOINT --format safetensors|npz`: the model's weights in a format the
/// Python world reads (names without the `model/` prefix, so they match the module's parameter
/// names, e.g. `layers.0.weight`).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Export a checkpoint's model weights as safetensors or npz.")

    enum Format: String, ExpressibleByArgument, CaseIterable { case safetensors, npz }

    @Argument(help: "The checkpoint file (.tsr).")
    var checkpoint: String

    @Option(help: "safetensors or npz.")
    var format: Format

    @Option(help: "Output file (default: the checkpoint's path with the format's extension).")
    var output: String?

    @Flag(help: "Also export the optimizer state (names prefixed 'optimizer/').")
    var includeOptimizer = false

    func run() throws {
        let stored = try Checkpoint.read(from: checkpoint)
        let entries = stored.entries.compactMap { entry -> CheckpointEntry? in
            if entry.name.hasPrefix("model/") {
                var renamed = entry
                renamed.name = String(entry.name.dropFirst(6))
                return renamed
            }
            return includeOptimizer ? entry : nil
        }
        let exported = Checkpoint(metadata: ["source": checkpoint], entries: entries)
        let destination = output ?? (checkpoint.hasSuffix(".tsr") ? String(checkpoint.dropLast(4)) : checkpoint) + "." + format.rawValue
        switch format {
        case .safetensors: try Safetensors.write(exported, to: destination)
        case .npz: try Numpy.writeArchive(exported, to: destination)
        }
        print("wrote \(entries.count) tensors to \(destination)")
    }
}
