import Foundation
import Testing

@testable import TesseraCheckpoint

@Suite struct CheckpointDirectoryTests {
    private func checkpoint(step: Int) -> Checkpoint {
        Checkpoint(
            metadata: ["step": String(step)],
            entries: [CheckpointEntry(name: "weight", shape: [64], values: (0..<64).map { Float($0 + step) })])
    }

    @Test func stepFileNamesAreZeroPaddedAndParseBack() {
        #expect(CheckpointDirectory.fileName(step: 100) == "step-00000100.tsr")
        #expect(CheckpointDirectory.fileName(step: 123_456_789) == "step-123456789.tsr")
        #expect(CheckpointDirectory.step(fromFileName: "step-00000100.tsr") == 100)
        #expect(CheckpointDirectory.step(fromFileName: "best.tsr") == nil)
        #expect(CheckpointDirectory.step(fromFileName: "step-12a.tsr") == nil)
        #expect(CheckpointDirectory.step(fromFileName: ".step-00000100.tsr.tmp-1-2") == nil)
    }

    @Test func keepLastLeavesExactlyKStepFilesPlusBest() throws {
        let root = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let directory = CheckpointDirectory(path: root + "/run/checkpoints", keepLast: 2)
        for step in stride(from: 100, through: 500, by: 100) {
            try directory.save(checkpoint(step: step), step: step, isBest: step == 200)
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(names == ["best.tsr", "step-00000400.tsr", "step-00000500.tsr"])
        // best.tsr survives the rotation that deleted step 200 and still holds step 200.
        #expect(try Checkpoint.read(from: directory.bestPath).metadata["step"] == "200")
        #expect(try directory.stepFiles().map(\.step) == [400, 500])
    }

    @Test func latestValidSkipsATruncatedNewestFileAndSaysWhy() throws {
        let root = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let directory = CheckpointDirectory(path: root, keepLast: 3)
        for step in [100, 200, 300] { try directory.save(checkpoint(step: step), step: step) }
        let newest = directory.path(step: 300)
        let bytes = try FileIO.readFile(newest)
        try Data(bytes.dropLast(40)).write(to: URL(fileURLWithPath: newest))  // cut inside the payloads

        let search = try directory.latestValid()
        let latest = try #require(search.latest)
        #expect(latest.step == 200)
        #expect(latest.checkpoint == checkpoint(step: 200))
        #expect(search.skipped.count == 1)
        #expect(search.skipped.first?.fileName == "step-00000300.tsr")
        #expect(search.skipped.first?.error.kind == .truncated)
        #expect(search.skipped.first?.reason == "truncated: the file is \(grouped(bytes.count - 40)) bytes but its header describes \(grouped(bytes.count)) bytes")
    }

    @Test func savingAnEarlierStepNeverDeletesTheFileJustSaved() throws {
        let root = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let directory = CheckpointDirectory(path: root, keepLast: 1)
        try directory.save(checkpoint(step: 300), step: 300)
        try directory.save(checkpoint(step: 150), step: 150)  // resumed from an earlier checkpoint
        try directory.save(checkpoint(step: 160), step: 160)
        #expect(try directory.stepFiles().map(\.step) == [160, 300])
        #expect(try Checkpoint.read(from: directory.path(step: 160)) == checkpoint(step: 160))
    }

    @Test func latestValidOfAMissingDirectoryFindsNothing() throws {
        let search = try CheckpointDirectory(path: "/nonexistent/tessera/checkpoints").latestValid()
        #expect(search.latest == nil && search.skipped.isEmpty)
    }

    @Test func savingTheSameStepAgainReplacesTheFileAtomically() throws {
        let root = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let directory = CheckpointDirectory(path: root, keepLast: 3)
        try directory.save(checkpoint(step: 1), step: 7)
        try directory.save(checkpoint(step: 2), step: 7)
        #expect(try Checkpoint.read(from: directory.path(step: 7)) == checkpoint(step: 2))
        #expect(try FileManager.default.contentsOfDirectory(atPath: root) == ["step-00000007.tsr"])
    }
}
