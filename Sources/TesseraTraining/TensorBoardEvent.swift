import Foundation

/// One record of a TensorBoard event file: a protobuf `Event` (tensorboard/compat/proto/event.proto)
/// holding the file version, a session start, scalars or an image, framed as TensorFlow's TFRecord.
///
/// A small hand-written encoder instead of swift-protobuf: a run writes five message types with
/// twelve fields between them. It encodes as proto3 does (python's `SerializeToString`): fields in
/// number order, a scalar field at its default value left out unless it sits in a `oneof`
/// (`Event.what`, `Summary.Value.value`). `Tests/Fixtures/fixtures_tensorboard.py` records
/// tensorboard's own bytes for the tests to compare against.
struct TensorBoardEvent {
    enum Content {
        /// `Event.file_version` (field 3): the first record of every file, `brain.Event:2`.
        case fileVersion(String)
        /// `Event.session_log` (field 7) with `status` START (1): readers drop the points they
        /// hold at and after this event's step (a restarted run's history comes again).
        case sessionStart
        /// `Event.summary` (field 5) with one `Summary.Value` of `simple_value` (field 2) a scalar.
        case scalars([(tag: String, value: Float)])
        /// `Event.summary` with one `Summary.Value` of `image` (field 4): an encoded PNG.
        case image(tag: String, height: Int, width: Int, colorspace: Int, encoded: [UInt8])
    }

    /// Seconds since 1970 (`Event.wall_time`, field 1, a double).
    var wallTime: Double
    /// `Event.step` (field 2, int64).
    var step: Int64
    var content: Content

    /// The serialized `Event` message.
    var serialized: [UInt8] {
        var event = ProtobufEncoder()
        event.double(1, wallTime)
        event.int64(2, step)
        switch content {
        case .fileVersion(let version):
            event.bytes(3, Array(version.utf8), keepEmpty: true)
        case .sessionStart:
            var sessionLog = ProtobufEncoder()
            sessionLog.int64(1, 1)
            event.bytes(7, sessionLog.bytes, keepEmpty: true)
        case .scalars(let scalars):
            var summary = ProtobufEncoder()
            for scalar in scalars {
                var value = ProtobufEncoder()
                value.bytes(1, Array(scalar.tag.utf8))
                value.float(2, scalar.value)
                summary.bytes(1, value.bytes, keepEmpty: true)
            }
            event.bytes(5, summary.bytes, keepEmpty: true)
        case .image(let tag, let height, let width, let colorspace, let encoded):
            var image = ProtobufEncoder()
            image.int64(1, Int64(height))
            image.int64(2, Int64(width))
            image.int64(3, Int64(colorspace))
            image.bytes(4, encoded)
            var value = ProtobufEncoder()
            value.bytes(1, Array(tag.utf8))
            value.bytes(4, image.bytes, keepEmpty: true)
            var summary = ProtobufEncoder()
            summary.bytes(1, value.bytes, keepEmpty: true)
            event.bytes(5, summary.bytes, keepEmpty: true)
        }
        return event.bytes
    }

    /// The TFRecord framing: the length as a little-endian uint64, the masked CRC-32C of those
    /// eight bytes, the data, the masked CRC-32C of the data.
    var record: [UInt8] {
        let data = serialized
        let length = littleEndian(UInt64(data.count))
        return length + littleEndian(CRC32C.masked(length)) + data + littleEndian(CRC32C.masked(data))
    }
}

/// Protobuf's wire format for the field types the events need.
struct ProtobufEncoder {
    private(set) var bytes: [UInt8] = []

    private mutating func varint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(rest & 0x7f) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    /// The key: field number and wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32).
    private mutating func key(_ field: Int, _ wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }

    /// An int64 or int32 field (negative values take ten bytes, as protobuf's do).
    mutating func int64(_ field: Int, _ value: Int64) {
        guard value != 0 else { return }
        key(field, 0)
        varint(UInt64(bitPattern: value))
    }

    mutating func double(_ field: Int, _ value: Double) {
        guard value.bitPattern != 0 else { return }
        key(field, 1)
        bytes += littleEndian(value.bitPattern)
    }

    /// A float field; always written, because the only float the events have sits in a `oneof`.
    mutating func float(_ field: Int, _ value: Float) {
        key(field, 5)
        bytes += littleEndian(value.bitPattern)
    }

    /// A string, bytes or embedded message field; `keepEmpty` for members of a `oneof` and
    /// repeated messages, which are written even when empty.
    mutating func bytes(_ field: Int, _ value: [UInt8], keepEmpty: Bool = false) {
        guard keepEmpty || !value.isEmpty else { return }
        key(field, 2)
        varint(UInt64(value.count))
        bytes += value
    }
}

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as TFRecord frames use it.
enum CRC32C {
    private static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xff)] ^ (crc >> 8) }
        return ~crc
    }

    /// TFRecord's masking (rotate right by 15, add a constant), so that a CRC of data that holds
    /// CRCs stays a good check.
    static func masked(_ bytes: [UInt8]) -> UInt32 {
        let crc = checksum(bytes)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}

private func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}
