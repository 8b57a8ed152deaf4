import Foundation
import Testing

@testable import TesseraTraining

/// The TensorBoard event file a run directory writes beside `metrics.jsonl`.
@Suite struct RunDirectoryEventsTests {
    /// The records of a TFRecord file, each with both CRCs checked.
    static func records(_ url: URL) throws -> [[UInt8]] {
        let bytes = [UInt8](try Data(contentsOf: url))
        func uint32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[at + $1]) << (8 * $1) } }
        var records: [[UInt8]] = [], offset = 0
        while offset < bytes.count {
            try #require(offset + 12 <= bytes.count, "a truncated header at \(offset)")
            let length = Int((0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * $1) })
            #expect(uint32(offset + 8) == CRC32C.masked(Array(bytes[offset..<offset + 8])), "length CRC at \(offset)")
            try #require(offset + 16 + length <= bytes.count, "a truncated record at \(offset)")
            let data = Array(bytes[offset + 12..<offset + 12 + length])
            #expect(uint32(offset + 12 + length) == CRC32C.masked(data), "data CRC at \(offset)")
            records.append(data)
            offset += 16 + length
        }
        return records
    }

    static func eventFiles(_ directory: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("events.out.tfevents.") }.sorted()
            .map { directory.appendingPathComponent($0) }
    }

    static func scalarRecord(_ record: MetricsRecord, wallTime: Double) -> [UInt8] {
        TensorBoardEvent(wallTime: wallTime, step: Int64(record.step),
                         content: .scalars(record.values.keys.sorted().map { (tag: $0, value: Float(record.values[$0]!)) })).serialized
    }

    /// The wall time of a serialized event (field 1, the first eight bytes after its key).
    static func wallTime(_ event: [UInt8]) -> Double {
        Double(bitPattern: (0..<8).reduce(UInt64(0)) { $0 | UInt64(event[1 + $1]) << (8 * $1) })
    }

    @Test func metricsAndCurvesReachTheEventFileAndAResumeStartsANewFileLeavingTheOldOne() throws {
        let directory = CommandLineTool.temporaryDirectory("events")
        defer { try? FileManager.default.removeItem(at: directory) }
        let history = [MetricsRecord(step: 10, values: ["loss": 0.9, "test_accuracy": 0.5]),
                       MetricsRecord(step: 20, values: ["loss": 0.4]),
                       MetricsRecord(step: 30, values: ["loss": .nan])]
        let run = try RunDirectory(path: directory.path)
        #expect(run.eventsURL.lastPathComponent.hasPrefix("events.out.tfevents."))
        try run.rewriteMetrics([])
        for record in history { try run.appendMetrics(record) }
        try run.writeCurves(history)
        let first = try Self.records(run.eventsURL)
        // file_version, session start, three scalar events, the curves image.
        #expect(first.count == 6)
        #expect(first[0] == TensorBoardEvent(wallTime: Self.wallTime(first[0]), step: 0, content: .fileVersion("brain.Event:2")).serialized)
        #expect(first[1] == TensorBoardEvent(wallTime: Self.wallTime(first[1]), step: 0, content: .sessionStart).serialized)
        for (index, record) in history.enumerated() {
            #expect(first[2 + index] == Self.scalarRecord(record, wallTime: Self.wallTime(first[2 + index])))
        }
        let png = [UInt8](try Data(contentsOf: run.curvesURL))
        #expect(first[5].count > png.count && Array(first[5].suffix(png.count)) == png)
        let firstBytes = try Data(contentsOf: run.eventsURL)

        // A resume from step 20: a new file (the same second gets a suffix) with the kept history.
        let resumed = try RunDirectory(path: directory.path)
        #expect(resumed.eventsURL != run.eventsURL)
        try resumed.rewriteMetrics(Array(history.prefix(2)))
        try resumed.appendMetrics(MetricsRecord(step: 30, values: ["loss": 0.3]))
        #expect(try Self.eventFiles(directory) == [run.eventsURL, resumed.eventsURL].sorted { $0.lastPathComponent < $1.lastPathComponent })
        #expect(try Data(contentsOf: run.eventsURL) == firstBytes)
        let second = try Self.records(resumed.eventsURL)
        #expect(second.count == 5)
        #expect(second[4] == Self.scalarRecord(MetricsRecord(step: 30, values: ["loss": 0.3]), wallTime: Self.wallTime(second[4])))
    }

    @Test func aProcessThatLogsNothingWritesNoEventFile() throws {
        let directory = CommandLineTool.temporaryDirectory("no-events")
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try RunDirectory(path: directory.path)
        #expect(try Self.eventFiles(directory).isEmpty)
    }
}
