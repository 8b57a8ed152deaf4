import Foundation
import Testing

@testable import TesseraCheckpoint

/// A small deterministic generator (SplitMix64) so fuzz and corruption tests replay exactly.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}

/// The path used as the source of in-memory decodes, so messages can be checked for it.
let sampleSource = "runs/sample/checkpoints/step-00000100.tsr"

/// Several dtypes and shapes, including a scalar and a zero-element tensor, plus metadata with
/// newlines, JSON and non-ASCII text.
func sampleCheckpoint() -> Checkpoint {
    let weights = (0..<24).map { Float($0) * 0.25 - 3 }
    return Checkpoint(
        metadata: [
            "step": "100",
            "recipe": "model: mlp\nlearningRate: 0.001\n",
            "rng": "{\"state\": [1, 2, 3, 4]}",
            "note": "κόσμε",
            "empty": "",
        ],
        entries: [
            CheckpointEntry(name: "encoder.weight", shape: [4, 6], values: weights),
            CheckpointEntry(name: "encoder.bias", shape: [3], values: [1.5, -2.25, 1e300] as [Double]),
            CheckpointEntry(name: "optimizer.step", shape: [], values: [Int64(100)]),
            CheckpointEntry(name: "loader.order", shape: [5], values: [4, 0, 3, 1, 2] as [Int32]),
            CheckpointEntry(name: "mask", shape: [2, 2], values: [1, 0, 0, 1] as [UInt8]),
            CheckpointEntry(name: "empty.buffer", shape: [0, 7], values: [Float]()),
            CheckpointEntry(name: "half", dtype: .float16, shape: [2], bytes: [0x00, 0x3C, 0x00, 0xC0]),
        ])
}

func sampleFileBytes() throws -> [UInt8] {
    try sampleCheckpoint().encoded()
}

/// Decodes `bytes` and returns the `CheckpointError` it must throw; records an issue if it
/// succeeds or throws anything else.
func decodingError(_ bytes: [UInt8], source: String = sampleSource, sourceLocation: SourceLocation = #_sourceLocation) -> CheckpointError? {
    do {
        _ = try Checkpoint(decoding: bytes, source: source)
        Issue.record("decoding succeeded but should have failed", sourceLocation: sourceLocation)
    } catch let error as CheckpointError {
        return error
    } catch {
        Issue.record("threw \(type(of: error)) instead of CheckpointError: \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// Rewrites a valid `.tsr` file with an edited header, recomputing header length, header
/// checksum and file length, so only the edit itself is wrong.
func rewritingHeader(of bytes: [UInt8], _ edit: (inout CheckpointHeader) -> Void) throws -> [UInt8] {
    let layout = try bytes.withUnsafeBytes { try CheckpointLayout(validating: $0, source: sampleSource) }
    var header = layout.header
    edit(&header)
    let payloads = bytes[layout.payloadStart..<layout.payloadStart + layout.payloadLength]
    return assembleFile(header: header.encoded(), payloads: Array(payloads))
}

/// Builds a file from raw header bytes and payload bytes with a correct preamble and trailer.
func assembleFile(header: [UInt8], payloads: [UInt8], version: UInt32 = 1) -> [UInt8] {
    var writer = ByteWriter()
    writer.append(contentsOf: CheckpointFormat.magic)
    writer.append(version)
    writer.append(UInt64(header.count))
    writer.append(contentsOf: header)
    let checksum = XXHash64.hash(writer.bytes)
    writer.append(contentsOf: payloads)
    writer.append(contentsOf: CheckpointFormat.trailerMagic)
    writer.append(checksum)
    writer.append(UInt64(writer.bytes.count + 8))
    return writer.bytes
}

/// Little-endian bytes of an integer, for hand-built files.
func littleEndianBytes<Integer: FixedWidthInteger>(_ value: Integer) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

/// A fresh directory under the system temporary directory, removed by the caller.
func makeTemporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-checkpoint-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
