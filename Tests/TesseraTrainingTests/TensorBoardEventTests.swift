import Foundation
import Testing

@testable import TesseraTraining

/// The event encoder against the bytes tensorboard's protobuf classes and record writer produce
/// (`Tests/Fixtures/fixtures_tensorboard.py` → `Tests/Fixtures/tensorboard.json`).
@Suite struct TensorBoardEventTests {
    static let fixture: [String: Any] = {
        let url = CommandLineTool.repositoryRoot.appendingPathComponent("Tests/Fixtures/tensorboard.json")
        let data = (try? Data(contentsOf: url)) ?? Data("{}".utf8)
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }()

    static func bytes(_ hex: Any?) -> [UInt8] {
        let text = Array((hex as? String ?? "").utf8)
        return stride(from: 0, to: text.count - 1, by: 2).map { UInt8(String(decoding: text[$0...$0 + 1], as: UTF8.self), radix: 16)! }
    }

    static func float(_ value: Any?) -> Float {
        switch value {
        case let text as String: return text == "nan" ? .nan : text == "inf" ? .infinity : -.infinity
        case let number as NSNumber: return Float(number.doubleValue)
        default: return 12345
        }
    }

    @Test func crc32cAndItsMaskMatchTensorboard() throws {
        let vectors = try #require(Self.fixture["crc32c"] as? [[String: Any]])
        #expect(vectors.count == 6)
        for vector in vectors {
            let input = Self.bytes(vector["input"])
            #expect(CRC32C.checksum(input) == (vector["crc32c"] as? NSNumber)?.uint32Value, "\(input.count) bytes")
            #expect(CRC32C.masked(input) == (vector["masked"] as? NSNumber)?.uint32Value, "\(input.count) bytes")
        }
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test func eventsAndTheirRecordsMatchTensorboardByteForByte() throws {
        let events = try #require(Self.fixture["events"] as? [[String: Any]])
        #expect(events.count == 8)
        for expected in events {
            let name = expected["name"] as? String ?? "?"
            let content: TensorBoardEvent.Content
            if let version = expected["file_version"] as? String {
                content = .fileVersion(version)
            } else if expected["session_start"] != nil {
                content = .sessionStart
            } else if let scalars = expected["scalars"] as? [[String: Any]] {
                content = .scalars(scalars.map { (tag: $0["tag"] as? String ?? "", value: Self.float($0["value"])) })
            } else {
                let image = try #require(expected["image"] as? [String: Any])
                content = .image(tag: image["tag"] as? String ?? "", height: image["height"] as? Int ?? 0, width: image["width"] as? Int ?? 0,
                                 colorspace: image["colorspace"] as? Int ?? 0, encoded: Self.bytes(image["encoded"]))
            }
            let event = TensorBoardEvent(wallTime: try #require(expected["wall_time"] as? Double),
                                         step: Int64(try #require(expected["step"] as? Int)), content: content)
            #expect(event.serialized == Self.bytes(expected["event"]), "\(name)")
            #expect(event.record == Self.bytes(expected["record"]), "\(name)")
        }
    }
}
