import Testing

@testable import TesseraCheckpoint

/// Damaged and hostile files: every one must throw a `CheckpointError` naming the file and the
/// problem, never crash, never allocate what the file cannot hold, never return different data.
@Suite struct CheckpointCorruptionTests {
    @Test func truncationAtEveryByteIsReportedAsTruncation() throws {
        let bytes = try sampleFileBytes()
        #expect(bytes.count > 300)
        for length in 0..<bytes.count {
            guard let error = decodingError(Array(bytes.prefix(length))) else { continue }
            #expect(error.kind == .truncated, "length \(length): \(error)")
            #expect(error.description.hasPrefix(sampleSource + ": truncated"), "length \(length): \(error)")
        }
    }

    @Test func truncationInsidePayloadsSaysHowLongTheFileShouldBe() throws {
        let bytes = try sampleFileBytes()
        let error = try #require(decodingError(Array(bytes.dropLast(30))))
        #expect(error.description == "\(sampleSource): truncated: the file is \(grouped(bytes.count - 30)) bytes but its header describes \(grouped(bytes.count)) bytes")
    }

    @Test func wrongMagicIsNotACheckpoint() throws {
        var bytes = try sampleFileBytes()
        bytes[1] = UInt8(ascii: "X")
        let error = try #require(decodingError(bytes))
        #expect(error.kind == .notThisFormat)
        #expect(error.description.contains("step-00000100.tsr: not a Tessera checkpoint: the first bytes are 89 58 53 52"))
    }

    @Test func newerVersionIsRejected() throws {
        var bytes = try sampleFileBytes()
        bytes[8] = 2
        let error = try #require(decodingError(bytes))
        #expect(error.kind == .unsupportedVersion)
        #expect(error.problem == "checkpoint format version 2 (written by a newer Tessera); this build reads version 1")
    }

    @Test func absurdHeaderLengthIsRejectedBeforeAllocating() throws {
        var bytes = try sampleFileBytes()
        bytes.replaceSubrange(12..<20, with: littleEndianBytes(UInt64.max))
        let error = try #require(decodingError(bytes))
        #expect(error.kind == .corrupt)
        #expect(error.problem.contains("header length 18,446,744,073,709,551,615 bytes exceeds the 67,108,864-byte cap"))
    }

    @Test func headerLengthBeyondTheFileIsTruncation() throws {
        var bytes = try sampleFileBytes()
        bytes.replaceSubrange(12..<20, with: littleEndianBytes(UInt64(1 << 20)))
        let error = try #require(decodingError(bytes))
        #expect(error.kind == .truncated)
        #expect(error.problem.contains("the header declares 1,048,576 bytes but the file holds only"))
    }

    @Test func flippedHeaderBitFailsTheHeaderChecksum() throws {
        var bytes = try sampleFileBytes()
        bytes[40] ^= 0x10
        let error = try #require(decodingError(bytes))
        #expect(error.kind == .checksumMismatch)
        #expect(error.problem.hasPrefix("header checksum mismatch: the trailer records 0x"))
    }

    @Test func flippedPayloadBitFailsAChecksumNamingTheEntry() throws {
        let bytes = try sampleFileBytes()
        let layout = try bytes.withUnsafeBytes { try CheckpointLayout(validating: $0, source: sampleSource) }
        let record = layout.header.records[0]
        var damaged = bytes
        damaged[layout.payloadStart + record.payloadOffset + record.compressedSize / 2] ^= 0x01
        let error = try #require(decodingError(damaged))
        #expect(error.description.contains("step-00000100.tsr: entry 'encoder.weight'"), "\(error)")
        #expect([.checksumMismatch, .corrupt].contains(error.kind))
    }

    @Test func declaredElementCountBeyondWhatThePayloadCanHoldIsRejected() throws {
        let bytes = try rewritingHeader(of: try sampleFileBytes()) { header in
            header.records[0].shape = [1_000_000_000, 1_000]
            header.records[0].rawSize = 4_000_000_000_000
        }
        let error = try #require(decodingError(bytes))
        #expect(error.kind == .corrupt)
        #expect(error.problem.contains("entry 'encoder.weight' declares 1,000,000,000,000 elements of float32 (4,000,000,000,000 bytes) but its"), "\(error)")
        #expect(error.problem.contains("compressed bytes can expand to at most"))
    }

    @Test func overflowingShapeIsRejected() throws {
        let bytes = try rewritingHeader(of: try sampleFileBytes()) { header in
            header.records[0].shape = [Int.max, 3]
        }
        let error = try #require(decodingError(bytes))
        #expect(error.problem == "entry 'encoder.weight' has shape [\(Int.max), 3], whose element count overflows")
    }

    @Test func rawSizeDisagreeingWithShapeIsRejected() throws {
        let bytes = try rewritingHeader(of: try sampleFileBytes()) { header in header.records[0].rawSize = 12 }
        let error = try #require(decodingError(bytes))
        #expect(error.problem == "entry 'encoder.weight' declares shape [4, 6] of float32 (96 bytes) but records a raw size of 12 bytes")
    }

    @Test func overlappingPayloadsAreRejected() throws {
        let bytes = try rewritingHeader(of: try sampleFileBytes()) { header in
            header.records[1].payloadOffset = header.records[0].payloadOffset + 2
        }
        let error = try #require(decodingError(bytes))
        #expect(error.kind == .corrupt)
        #expect(error.problem.contains("entry 'encoder.bias' payload (bytes 2..<"), "\(error)")
        #expect(error.problem.contains("overlaps entry 'encoder.weight' (bytes 0..<"), "\(error)")
    }

    @Test func payloadPastTheEndOfTheFileIsRejected() throws {
        let bytes = try rewritingHeader(of: try sampleFileBytes()) { header in
            let last = header.records.count - 1
            header.records[last].compressedSize += 1_000
        }
        let error = try #require(decodingError(bytes))
        #expect(error.problem.contains("entry 'half' declares a payload of"), "\(error)")
        #expect(error.problem.contains("bytes of payloads after its header"))
    }

    @Test func payloadGapIsRejected() throws {
        var bytes = try rewritingHeader(of: try sampleFileBytes()) { header in
            for index in 1..<header.records.count { header.records[index].payloadOffset += 5 }
        }
        bytes = Array(bytes.prefix(bytes.count - 24)) + Array(repeating: 0, count: 5) + Array(bytes.suffix(24))
        bytes.replaceSubrange((bytes.count - 8)..., with: littleEndianBytes(UInt64(bytes.count)))
        let error = try #require(decodingError(bytes))
        #expect(error.problem.contains("entry 'encoder.bias' payload starts at byte"), "\(error)")
        #expect(error.problem.contains("payloads must be back to back"))
    }

    @Test func hostileCountsAndNamesAreRejectedFromTheHeaderAlone() throws {
        // A header claiming four billion entries must fail before reserving space for them.
        let manyEntries = littleEndianBytes(UInt32(0)) + littleEndianBytes(UInt32.max)
        let error = try #require(decodingError(assembleFile(header: manyEntries, payloads: [])))
        #expect(error.problem.contains("header declares 4,294,967,295 entries but only 0 header bytes remain"))

        let longName = littleEndianBytes(UInt32(0)) + littleEndianBytes(UInt32(1)) + littleEndianBytes(UInt16(60_000)) + Array(repeating: 65, count: 64)
        let nameError = try #require(decodingError(assembleFile(header: longName, payloads: [])))
        #expect(nameError.problem == "entry 0 has a name of 60,000 bytes; names must be 1 to 1,024 bytes")

        let hugeMetadata = littleEndianBytes(UInt32(1)) + littleEndianBytes(UInt32.max) + Array(repeating: 0, count: 8)
        let metadataError = try #require(decodingError(assembleFile(header: hugeMetadata, payloads: [])))
        #expect(metadataError.problem.contains("header ends in the middle of metadata key 0: it needs 4,294,967,295 bytes"))
    }

    @Test func unknownDtypeAndExcessRankAreRejected() throws {
        let base = try sampleFileBytes()
        var header = try base.withUnsafeBytes { try CheckpointLayout(validating: $0, source: sampleSource) }.header
        header.records = [header.records[0]]
        var encoded = header.encoded()
        let dtypeOffset = encoded.count - 4 * 8 - 2 * 8 - 2  // before rank and the two dimensions
        encoded[dtypeOffset] = 200
        let error = try #require(decodingError(assembleFile(header: encoded, payloads: [])))
        #expect(error.problem == "entry 'encoder.weight' has unknown dtype code 200")

        encoded[dtypeOffset] = CheckpointDType.float32.rawValue
        encoded[dtypeOffset + 1] = 40
        let rankError = try #require(decodingError(assembleFile(header: encoded, payloads: [])))
        #expect(rankError.problem == "entry 'encoder.weight' has rank 40; at most 32 dimensions are allowed")
    }

    @Test func appendedBytesAreDetected() throws {
        let bytes = try sampleFileBytes() + [0, 0, 0]
        let error = try #require(decodingError(bytes))
        #expect(error.kind == .corrupt)
        #expect(error.problem.contains("does not end with a checkpoint trailer"), "\(error)")
    }

    /// 2,000 seeded mutations of a valid file: each read must throw a `CheckpointError` or, when
    /// the mutation changed nothing that matters, return exactly the original checkpoint.
    @Test func seededFuzzNeverCrashesNorReturnsDifferentData() throws {
        let original = sampleCheckpoint()
        let bytes = try original.encoded()
        var generator = SeededGenerator(seed: 0x7E55_E4A)
        var rejected = 0
        for iteration in 0..<2_000 {
            var mutated = bytes
            switch iteration % 6 {
            case 0:
                let position = Int.random(in: 0..<mutated.count, using: &generator)
                mutated[position] ^= UInt8(1 << Int.random(in: 0..<8, using: &generator))
            case 1:
                for _ in 0..<Int.random(in: 1...8, using: &generator) {
                    mutated[Int.random(in: 0..<mutated.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
            case 2:
                let position = Int.random(in: 0...(mutated.count - 8), using: &generator)
                let value: UInt64 = Bool.random(using: &generator) ? UInt64.random(in: 0...UInt64.max, using: &generator) : UInt64.random(in: 0...4_096, using: &generator)
                mutated.replaceSubrange(position..<position + 8, with: littleEndianBytes(value))
            case 3:
                let start = Int.random(in: 0..<mutated.count, using: &generator)
                mutated.removeSubrange(start..<min(mutated.count, start + Int.random(in: 1...16, using: &generator)))
            case 4:
                mutated.insert(UInt8.random(in: 0...255, using: &generator), at: Int.random(in: 0...mutated.count, using: &generator))
            default:
                // Header edits with a recomputed checksum: only the structural checks can catch these.
                mutated = try rewritingHeader(of: bytes) { header in
                    let index = Int.random(in: 0..<header.records.count, using: &generator)
                    let delta = Int.random(in: -64...64, using: &generator)
                    switch Int.random(in: 0..<4, using: &generator) {
                    case 0: header.records[index].payloadOffset = max(0, header.records[index].payloadOffset + delta)
                    case 1: header.records[index].compressedSize = max(0, header.records[index].compressedSize + delta)
                    case 2: header.records[index].rawSize = max(0, header.records[index].rawSize + delta)
                    default: header.records[index].checksum ^= UInt64(1) << UInt64.random(in: 0..<64, using: &generator)
                    }
                }
            }
            do {
                let decoded = try Checkpoint(decoding: mutated, source: sampleSource)
                #expect(decoded == original, "iteration \(iteration) decoded different data")
            } catch let error as CheckpointError {
                #expect(error.description.hasPrefix(sampleSource + ": "))
                rejected += 1
            }
        }
        #expect(rejected > 1_900, "only \(rejected) of 2,000 mutations were rejected")
    }
}
