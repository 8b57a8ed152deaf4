import Foundation
import Testing

@testable import TesseraCheckpoint

@Suite struct CheckpointRoundTripTests {
    @Test func roundTripRestoresEveryEntryAndMetadataExactly() throws {
        let original = sampleCheckpoint()
        let restored = try Checkpoint(decoding: try original.encoded(), source: sampleSource)
        #expect(restored == original)
        #expect(restored.entries.map(\.name) == original.entries.map(\.name))
        let scalar = try #require(restored["optimizer.step"])
        #expect(scalar.shape == [] && scalar.bytes.count == 8)
        #expect(try scalar.values(as: Int64.self) == [100])
        let empty = try #require(restored.entry(named: "empty.buffer"))
        #expect(empty.shape == [0, 7] && empty.bytes.isEmpty)
        #expect(try restored["encoder.bias"]?.values(as: Double.self) == [1.5, -2.25, 1e300])
    }

    @Test func emptyCheckpointRoundTrips() throws {
        let bytes = try Checkpoint().encoded()
        #expect(bytes.count == CheckpointFormat.preambleSize + 8 + CheckpointFormat.trailerSize)
        #expect(try Checkpoint(decoding: bytes) == Checkpoint())
    }

    @Test func encodingIsDeterministic() throws {
        #expect(try sampleCheckpoint().encoded() == sampleCheckpoint().encoded())
    }

    @Test func fileStartsWithMagicAndVersionAndEndsWithTrailer() throws {
        let bytes = try sampleFileBytes()
        #expect(Array(bytes[0..<8]) == [0x89, 0x54, 0x53, 0x52, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(Array(bytes[8..<12]) == [1, 0, 0, 0])
        #expect(Array(bytes[(bytes.count - 24)..<(bytes.count - 16)]) == Array("\u{89}TSREND\n".unicodeScalars.map { UInt8($0.value) }))
        #expect(Array(bytes.suffix(8)) == littleEndianBytes(UInt64(bytes.count)))
    }

    @Test func writeThenReadFromDisk() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/model.tsr"
        try sampleCheckpoint().write(to: path)
        #expect(try Checkpoint.read(from: path) == sampleCheckpoint())
        let summary = try Checkpoint.verify(path)
        #expect(summary.tensors.count == sampleCheckpoint().entries.count)
        // The atomic write leaves no temporary file behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["model.tsr"])
    }

    @Test func writerRejectsEntriesWhoseBytesDisagreeWithTheirShape() {
        let checkpoint = Checkpoint(entries: [CheckpointEntry(name: "w", dtype: .float32, shape: [2, 3], bytes: [0, 0, 0, 0])])
        #expect { try checkpoint.encoded() } throws: { error in
            (error as? CheckpointError)?.problem.contains("entry 'w' has shape [2, 3] of float32 (6 elements) but holds 4 bytes") == true
        }
    }

    @Test func writerRejectsDuplicateNames() {
        let entry = CheckpointEntry(name: "w", shape: [1], values: [Float(1)])
        #expect { try Checkpoint(entries: [entry, entry]).encoded() } throws: { error in
            (error as? CheckpointError)?.problem.contains("'w' appears twice") == true
        }
    }

    @Test func valuesRefusesTheWrongScalarType() {
        let entry = CheckpointEntry(name: "w", shape: [1], values: [Float(1)])
        #expect(throws: CheckpointError.self) { try entry.values(as: Double.self) }
    }

    @Test func summaryReportsTensorsTotalsAndTruncatedMetadata() throws {
        var checkpoint = sampleCheckpoint()
        checkpoint.metadata["recipe"] = String(repeating: "x", count: 500)
        let summary = try CheckpointSummary(decoding: try checkpoint.encoded(), source: "step-00000100.tsr")
        #expect(summary.totalRawSize == checkpoint.entries.reduce(0) { $0 + $1.bytes.count })
        #expect(summary.totalCompressedSize > 0)
        let report = summary.report(valueLimit: 40)
        #expect(report.contains("encoder.weight"))
        #expect(report.contains("float32"))
        #expect(report.contains("[4, 6]"))
        #expect(report.contains("recipe: " + String(repeating: "x", count: 40) + "… (500 bytes)"))
        #expect(report.contains("total: raw \(grouped(summary.totalRawSize)) bytes"))
    }

    @Test func xxhash64MatchesReferenceVectors() {
        // Reference values computed with libxxhash's XXH64, seed 0.
        #expect(XXHash64.hash([UInt8]()) == 0xEF46_DB37_51D8_E999)
        #expect(XXHash64.hash(Array("a".utf8)) == 0xD24E_C4F1_A98C_6E5B)
        #expect(XXHash64.hash(Array("abc".utf8)) == 0x44BC_2CF5_AD77_0999)
        #expect(XXHash64.hash(Array("Nobody inspects the spammish repetition".utf8)) == 0xFBCE_A83C_8A37_8BF1)
        #expect(XXHash64.hash((0..<200).map { UInt8($0) }) == 0x50DC_1079_B99E_879C)
    }

    @Test(arguments: [1, 2, 4, 8, 3])
    func byteShuffleRoundTripsAndGroupsBytePlanes(width: Int) {
        let count = 37
        let original = (0..<(count * width)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        var shuffled = [UInt8](repeating: 0, count: original.count)
        var restored = [UInt8](repeating: 0, count: original.count)
        original.withUnsafeBytes { source in
            shuffled.withUnsafeMutableBytes { ByteShuffle.shuffle(source, into: $0, width: width) }
        }
        shuffled.withUnsafeBytes { source in
            restored.withUnsafeMutableBytes { ByteShuffle.unshuffle(source, into: $0, width: width) }
        }
        #expect(restored == original)
        // Plane b holds byte b of every element.
        for byte in 0..<width {
            #expect(shuffled[byte * count + 5] == original[5 * width + byte])
        }
    }

    @Test func shufflingMakesSmoothFloat32DataCompressSmaller() throws {
        let values = (0..<100_000).map { Float(sin(Double($0) * 0.001)) * 0.5 }
        let entry = CheckpointEntry(name: "smooth", shape: [values.count], values: values)
        let plain = try Zstd.compress(entry.bytes)
        let summary = try CheckpointSummary(decoding: try Checkpoint(entries: [entry]).encoded(), source: "smooth.tsr")
        let shuffled = summary.tensors[0].compressedSize
        #expect(shuffled < plain.count * 9 / 10, "shuffled \(shuffled) bytes vs plain zstd \(plain.count) bytes")
    }

    @Test func zstdHelpersRoundTripAndCheckTheDeclaredSize() throws {
        let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 / 7) }
        let compressed = try Zstd.compress(bytes, level: 3)
        #expect(compressed.count < bytes.count)
        #expect(try Zstd.decompress(compressed, rawSize: bytes.count) == bytes)
        #expect { try Zstd.decompress(compressed, rawSize: bytes.count + 1) } throws: { error in
            (error as? ZstdError)?.message.contains("declares 10,000 bytes of content, expected 10,001") == true
        }
    }
}
