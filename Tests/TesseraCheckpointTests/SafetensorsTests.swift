import Testing

@testable import TesseraCheckpoint

@Suite struct SafetensorsTests {
    /// A safetensors file written byte by byte from the specification: header length, JSON, data.
    private func handBuiltFile(json: String, data: [UInt8]) -> [UInt8] {
        littleEndianBytes(UInt64(json.utf8.count)) + Array(json.utf8) + data
    }

    private func decodeError(_ bytes: [UInt8]) -> CheckpointError? {
        do {
            _ = try Safetensors.decode(bytes, source: "model.safetensors")
            Issue.record("decoding succeeded but should have failed")
        } catch let error as CheckpointError {
            #expect(error.description.hasPrefix("model.safetensors: "))
            return error
        } catch {
            Issue.record("threw \(error) instead of CheckpointError")
        }
        return nil
    }

    @Test func exportThenImportRestoresEntriesAndMetadata() throws {
        var original = sampleCheckpoint()
        original.entries.removeAll { $0.name == "empty.buffer" }
        original.entries.append(CheckpointEntry(name: "weird \"name\"\n", shape: [1], values: [Float(7)]))
        let bytes = try Safetensors.encode(original)
        // The data starts 8-byte aligned, as the reference writer guarantees.
        let headerLength = Int(bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        #expect(headerLength % 8 == 0)
        let restored = try Safetensors.decode(bytes)
        #expect(restored.metadata == original.metadata)
        #expect(restored.entries == original.entries)
    }

    @Test func zeroElementTensorsRoundTrip() throws {
        let checkpoint = Checkpoint(entries: [
            CheckpointEntry(name: "a", shape: [0], values: [Float]()),
            CheckpointEntry(name: "b", shape: [2], values: [Float(1), 2]),
        ])
        let restored = try Safetensors.decode(try Safetensors.encode(checkpoint))
        #expect(Set(restored.entries.map(\.name)) == ["a", "b"])
        #expect(restored["b"] == checkpoint["b"])
        #expect(restored["a"]?.shape == [0])
    }

    @Test func handBuiltFileParsesToExpectedValues() throws {
        let json = #"{"__metadata__":{"format":"pt"},"b":{"dtype":"I64","shape":[],"data_offsets":[8,16]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        let data: [UInt8] = [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0x40] + littleEndianBytes(Int64(-3))
        let checkpoint = try Safetensors.decode(handBuiltFile(json: json, data: data))
        #expect(checkpoint.metadata == ["format": "pt"])
        #expect(checkpoint.entries.map(\.name) == ["a", "b"])  // in data order
        #expect(try checkpoint["a"]?.values(as: Float.self) == [1, 2])
        #expect(try checkpoint["b"]?.values(as: Int64.self) == [-3])
        #expect(checkpoint["b"]?.shape == [])
    }

    @Test func absurdHeaderLengthIsRejected() throws {
        let error = try #require(decodeError(littleEndianBytes(UInt64(1) << 40) + Array("{}".utf8)))
        #expect(error.problem == "safetensors header length 1,099,511,627,776 bytes exceeds the 100,000,000-byte cap")
    }

    @Test func headerLongerThanTheFileIsTruncation() throws {
        let error = try #require(decodeError(littleEndianBytes(UInt64(100)) + Array("{}".utf8)))
        #expect(error.kind == .truncated)
        #expect(error.problem.contains("declares 100 bytes but only 2 follow"))
    }

    @Test(arguments: [
        (#"{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, "tensor 'a' has shape[0] = 1.5, not a non-negative integer"),
        (#"{"a":{"dtype":"F32","shape":[true],"data_offsets":[0,4]}}"#, "tensor 'a' has shape[0] = true, not a non-negative integer"),
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,-4]}}"#, "tensor 'a' has data_offsets[1] = -4, not a non-negative integer"),
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4e0]}}"#, "tensor 'a' has data_offsets[1] = 4e0, not a non-negative integer"),
        (#"{"a":{"dtype":"F32","shape":[1]}}"#, "tensor 'a' lacks data_offsets"),
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}}"#, "tensor 'a' has the unknown field 'extra'"),
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, "the key 'a' appears twice in one object"),
        (#"{"__metadata__":{"step":100}}"#, "'__metadata__' value 'step' is 100, not a string"),
        (#"{"a": {"dtype": "F32", "shape": "#, "not valid JSON: unexpected end of JSON at byte 32"),
        (#"{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}"#, "JSON nested deeper than 16 levels"),
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}} x"#, "unexpected text after the JSON value"),
        (#"{"a\u00":{}}"#, "expected four hex digits"),
    ])
    func malformedHeadersAreRejectedWithTheReason(json: String, reason: String) throws {
        let error = try #require(decodeError(handBuiltFile(json: json, data: [0, 0, 0, 0])))
        #expect(error.kind == .corrupt)
        #expect(error.problem.contains(reason), "\(error)")
    }

    @Test func jsonEscapesInNamesAndMetadataAreDecoded() throws {
        let json = #"{"__metadata__":{"note":"tab\tquote\" \u00e9 \ud83d\ude00"},"w\u002e1":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#
        let checkpoint = try Safetensors.decode(handBuiltFile(json: json, data: [5]))
        #expect(checkpoint.metadata["note"] == "tab\tquote\" é 😀")
        #expect(checkpoint.entries.map(\.name) == ["w.1"])
    }

    @Test func offsetsDisagreeingWithShapeAreRejected() throws {
        let json = #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#
        let error = try #require(decodeError(handBuiltFile(json: json, data: Array(repeating: 0, count: 8))))
        #expect(error.problem == "tensor 'a' declares 3 elements of float32 (12 bytes) but its data_offsets span 8 bytes")
    }

    @Test func offsetsPastTheEndAreRejected() throws {
        let json = #"{"a":{"dtype":"F32","shape":[1000000],"data_offsets":[0,4000000]}}"#
        let error = try #require(decodeError(handBuiltFile(json: json, data: Array(repeating: 0, count: 16))))
        #expect(error.problem == "tensor 'a' declares bytes 0..<4,000,000 but the file holds 16 bytes after its header")
    }

    @Test func overlappingTensorsAreRejected() throws {
        let json = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        let error = try #require(decodeError(handBuiltFile(json: json, data: Array(repeating: 0, count: 8))))
        #expect(error.problem == "tensor 'b' (bytes 4..<8) overlaps tensor 'a', which ends at byte 8")
    }

    @Test func holesInTheDataRegionAreRejected() throws {
        let json = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        let error = try #require(decodeError(handBuiltFile(json: json, data: Array(repeating: 0, count: 8))))
        #expect(error.problem == "the data region has a hole: bytes 0..<4 belong to no tensor")

        let trailing = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        let trailingError = try #require(decodeError(handBuiltFile(json: trailing, data: Array(repeating: 0, count: 8))))
        #expect(trailingError.problem == "the tensors cover 4 bytes but the data region holds 8 bytes")
    }

    @Test func unknownDtypeIsRejected() throws {
        let json = #"{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#
        let error = try #require(decodeError(handBuiltFile(json: json, data: Array(repeating: 0, count: 8))))
        #expect(error.kind == .unsupported)
        #expect(error.problem == "tensor 'a' has dtype 'C64', which Tessera does not read")
    }

    @Test func headerMustBeAJSONObject() throws {
        let error = try #require(decodeError(handBuiltFile(json: "[1, 2]", data: [])))
        #expect(error.problem.contains("does not start with '{'"))
    }
}
