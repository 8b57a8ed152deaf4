/// A minimal zip writer for `.npz` export: stored (uncompressed) members only, no ZIP64.
///
/// Stored members keep the writer tiny and let numpy memory-map arrays straight out of the
/// archive; callers who want a smaller file use the `.tsr` format itself. Layout per APPNOTE.TXT
/// 6.3: local file header + data for each member, then the central directory, then the
/// end-of-central-directory record. Timestamps are fixed at 1980-01-01 00:00 so the same
/// checkpoint always exports to the same bytes.
struct ZipArchiveWriter {
    private var writer = ByteWriter()
    private var centralDirectory = ByteWriter()
    private var memberCount = 0

    /// 1980-01-01 in MS-DOS date format (years since 1980 << 9 | month << 5 | day).
    private static let dosDate: UInt16 = (0 << 9) | (1 << 5) | 1
    /// ZIP64 starts where the 32-bit size and offset fields end.
    private static let maximumSize = Int(UInt32.max) - 1

    mutating func addStoredMember(name: String, contents: [UInt8]) throws {
        let nameBytes = Array(name.utf8)
        let offset = writer.bytes.count
        guard nameBytes.count <= Int(UInt16.max), contents.count <= Self.maximumSize, offset <= Self.maximumSize, memberCount < Int(UInt16.max) else {
            throw CheckpointError(path: "<npz>", kind: .unsupported, problem: "member \(quoted(name)) needs ZIP64 (over 4 GiB or 65,535 members), which this writer does not produce")
        }
        let checksum = CRC32.checksum(contents)
        // Bit 11 declares UTF-8 names, needed only when a name is not plain ASCII.
        let flags: UInt16 = nameBytes.allSatisfy { $0 < 0x80 } ? 0 : 0x0800

        writer.append(UInt32(0x0403_4B50))  // local file header signature
        writer.append(UInt16(20))  // version needed to extract: 2.0
        writer.append(flags)
        writer.append(UInt16(0))  // compression method: stored
        writer.append(UInt16(0))  // modification time 00:00
        writer.append(Self.dosDate)
        writer.append(checksum)
        writer.append(UInt32(contents.count))  // compressed size
        writer.append(UInt32(contents.count))  // uncompressed size
        writer.append(UInt16(nameBytes.count))
        writer.append(UInt16(0))  // extra field length
        writer.append(contentsOf: nameBytes)
        writer.append(contentsOf: contents)

        centralDirectory.append(UInt32(0x0201_4B50))  // central directory header signature
        centralDirectory.append(UInt16(20))  // version made by
        centralDirectory.append(UInt16(20))  // version needed to extract
        centralDirectory.append(flags)
        centralDirectory.append(UInt16(0))
        centralDirectory.append(UInt16(0))
        centralDirectory.append(Self.dosDate)
        centralDirectory.append(checksum)
        centralDirectory.append(UInt32(contents.count))
        centralDirectory.append(UInt32(contents.count))
        centralDirectory.append(UInt16(nameBytes.count))
        centralDirectory.append(UInt16(0))  // extra field length
        centralDirectory.append(UInt16(0))  // comment length
        centralDirectory.append(UInt16(0))  // disk number start
        centralDirectory.append(UInt16(0))  // internal attributes
        centralDirectory.append(UInt32(0))  // external attributes
        centralDirectory.append(UInt32(offset))  // offset of the local header
        centralDirectory.append(contentsOf: nameBytes)
        memberCount += 1
    }

    /// The finished archive.
    func finished() throws -> [UInt8] {
        var archive = writer
        let directoryOffset = archive.bytes.count
        guard directoryOffset <= Self.maximumSize, centralDirectory.bytes.count <= Self.maximumSize else {
            throw CheckpointError(path: "<npz>", kind: .unsupported, problem: "the archive exceeds 4 GiB and would need ZIP64, which this writer does not produce")
        }
        archive.append(contentsOf: centralDirectory.bytes)
        archive.append(UInt32(0x0605_4B50))  // end of central directory signature
        archive.append(UInt16(0))  // this disk
        archive.append(UInt16(0))  // disk with the central directory
        archive.append(UInt16(memberCount))
        archive.append(UInt16(memberCount))
        archive.append(UInt32(centralDirectory.bytes.count))
        archive.append(UInt32(directoryOffset))
        archive.append(UInt16(0))  // comment length
        return archive.bytes
    }
}

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum zip requires per member.
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        table.withUnsafeBufferPointer { table in
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
            return crc ^ 0xFFFF_FFFF
        }
    }
}
