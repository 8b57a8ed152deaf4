import Testing

@testable import TesseraCheckpoint

@Suite struct NumpyFormatTests {
    /// A `.npy` v1.0 file written byte by byte from the format description.
    private func handBuiltArray(header: String, data: [UInt8], version: UInt8 = 1) -> [UInt8] {
        [0x93] + Array("NUMPY".utf8) + [version, 0] + littleEndianBytes(UInt16(header.utf8.count)) + Array(header.utf8) + data
    }

    private func decodeError(_ bytes: [UInt8]) -> CheckpointError? {
        do {
            _ = try Numpy.decodeArray(bytes, name: "x", source: "data/x.npy")
            Issue.record("decoding succeeded but should have failed")
        } catch let error as CheckpointError {
            #expect(error.description.hasPrefix("data/x.npy: "))
            return error
        } catch {
            Issue.record("threw \(error) instead of CheckpointError")
        }
        return nil
    }

    private func uint32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self) }
    }

    private func uint16(_ bytes: [UInt8], at offset: Int) -> Int {
        Int(bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt16.self) })
    }

    @Test func encodedArrayHasTheNumpyHeaderPaddedTo64Bytes() throws {
        let entry = CheckpointEntry(name: "w", shape: [2, 3], values: (0..<6).map(Float.init))
        let bytes = try Numpy.encodeArray(entry)
        let headerLength = uint16(bytes, at: 8)
        #expect((10 + headerLength) % 64 == 0)
        let header = String(decoding: bytes[10..<10 + headerLength], as: UTF8.self)
        #expect(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"))
        #expect(header.hasSuffix(" \n"))
        #expect(Array(bytes[(10 + headerLength)...]) == entry.bytes)
        #expect(try Numpy.decodeArray(bytes, name: "w") == entry)
    }

    @Test func oneDimensionalAndScalarShapesUsePythonTupleSyntax() throws {
        let vector = try Numpy.encodeArray(CheckpointEntry(name: "v", shape: [5], values: [Int32](repeating: 1, count: 5)))
        #expect(String(decoding: vector, as: UTF8.self).contains("'shape': (5,)"))
        let scalar = try Numpy.encodeArray(CheckpointEntry(name: "s", shape: [], values: [Double(2)]))
        #expect(String(decoding: scalar, as: UTF8.self).contains("'descr': '<f8', 'fortran_order': False, 'shape': ()"))
        #expect(try Numpy.decodeArray(scalar, name: "s").shape == [])
    }

    @Test func handBuiltArrayParsesToExpectedValues() throws {
        let bytes = handBuiltArray(header: "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }      \n", data: littleEndianBytes(Int32(7)) + littleEndianBytes(Int32(-1)) + littleEndianBytes(Int32(42)))
        let entry = try Numpy.decodeArray(bytes, name: "labels")
        #expect(entry.dtype == .int32)
        #expect(entry.shape == [3])
        #expect(try entry.values(as: Int32.self) == [7, -1, 42])
    }

    @Test func keysInAnyOrderAndDoubleQuotesAreAccepted() throws {
        let bytes = handBuiltArray(header: #"{"shape": (2, 1), "fortran_order": False, "descr": "|u1"}"# + "\n", data: [9, 8])
        let entry = try Numpy.decodeArray(bytes, name: "x")
        #expect(entry.dtype == .uint8 && entry.shape == [2, 1] && entry.bytes == [9, 8])
    }

    @Test func fortranOrderIsRejected() throws {
        let bytes = handBuiltArray(header: "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }\n", data: [0, 0, 0, 0])
        let error = try #require(decodeError(bytes))
        #expect(error.kind == .unsupported)
        #expect(error.problem.contains("fortran_order is True"))
    }

    @Test func truncatedDataIsRejected() throws {
        let bytes = handBuiltArray(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }\n", data: Array(repeating: 0, count: 20))
        let error = try #require(decodeError(bytes))
        #expect(error.kind == .truncated)
        #expect(error.problem == "truncated: shape [2, 2] of float64 needs 32 bytes but only 20 follow the header")
    }

    @Test func truncationAtEveryByteThrows() throws {
        let bytes = try Numpy.encodeArray(CheckpointEntry(name: "w", shape: [3], values: [Float(1), 2, 3]))
        for length in 0..<bytes.count {
            let error = decodeError(Array(bytes.prefix(length)))
            #expect(error?.kind == .truncated, "length \(length): \(String(describing: error))")
        }
    }

    @Test(arguments: [
        ("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }\n", "big-endian"),
        ("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }\n", "has descr '<c8'"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (1), }\n", "which is not a tuple"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }\n", "expected a non-negative integer"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}\n", "unexpected key 'extra'"),
        ("{'descr': '<f4', 'fortran_order': False}\n", "lacks the key 'shape'"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", "expected '\\n'"),
        ("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n", "repeats the key 'descr'"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }\n", "too large"),
        ("__import__('os')\n", "expected '{'"),
    ])
    func malformedHeadersAreRejectedWithTheReason(header: String, reason: String) throws {
        let error = try #require(decodeError(handBuiltArray(header: header, data: [0, 0, 0, 0])))
        #expect(error.problem.contains(reason), "\(error)")
    }

    @Test func npzArchiveHasAValidZipStructure() throws {
        let checkpoint = Checkpoint(entries: [
            CheckpointEntry(name: "encoder.weight", shape: [2, 3], values: (0..<6).map(Float.init)),
            CheckpointEntry(name: "step", shape: [], values: [Int64(9)]),
        ])
        let archive = try Numpy.encodeArchive(checkpoint)

        // End-of-central-directory record: the last 22 bytes (no comment).
        let endRecord = archive.count - 22
        #expect(uint32(archive, at: endRecord) == 0x0605_4B50)
        #expect(uint16(archive, at: endRecord + 10) == 2)
        let directorySize = Int(uint32(archive, at: endRecord + 12))
        let directoryOffset = Int(uint32(archive, at: endRecord + 16))
        #expect(directoryOffset + directorySize == endRecord)

        // Walk the central directory and check each member's local header, CRC and .npy header.
        var position = directoryOffset
        var names: [String] = []
        for _ in 0..<2 {
            #expect(uint32(archive, at: position) == 0x0201_4B50)
            let crc = uint32(archive, at: position + 16)
            let size = Int(uint32(archive, at: position + 20))
            #expect(Int(uint32(archive, at: position + 24)) == size)
            let nameLength = uint16(archive, at: position + 28)
            let localOffset = Int(uint32(archive, at: position + 42))
            let name = String(decoding: archive[(position + 46)..<(position + 46 + nameLength)], as: UTF8.self)
            names.append(name)

            #expect(uint32(archive, at: localOffset) == 0x0403_4B50)
            #expect(uint16(archive, at: localOffset + 8) == 0)  // stored
            #expect(uint32(archive, at: localOffset + 14) == crc)
            let dataStart = localOffset + 30 + uint16(archive, at: localOffset + 26)
            let member = Array(archive[dataStart..<dataStart + size])
            #expect(CRC32.checksum(member) == crc)
            let entry = try Numpy.decodeArray(member, name: String(name.dropLast(4)))
            #expect(entry == checkpoint[entry.name])
            position += 46 + nameLength
        }
        #expect(names == ["encoder.weight.npy", "step.npy"])
        let first = String(decoding: archive[30..<200], as: UTF8.self)
        #expect(first.contains("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"))
    }

    @Test func crc32MatchesTheStandardCheckValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    }

    @Test func bfloat16CannotBeExportedToNumpy() {
        let entry = CheckpointEntry(name: "w", dtype: .bfloat16, shape: [1], bytes: [0, 0])
        #expect(throws: CheckpointError.self) { try Numpy.encodeArray(entry) }
    }
}
