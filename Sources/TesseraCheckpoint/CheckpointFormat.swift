/// # The Tessera checkpoint file (`.tsr`), format version 1
///
/// One self-describing file per checkpoint. Little-endian throughout; offsets and sizes in bytes.
///
///     offset       size  field
///     0            8     magic: 0x89 'T' 'S' 'R' 0x0D 0x0A 0x1A 0x0A
///     8            4     format version, u32 = 1
///     12           8     header length H, u64, at most 64 MiB
///     20           H     header (below)
///     20+H         P     payloads, one per entry, in table order, back to back, no gaps
///     20+H+P       8     trailer magic: 0x89 'T' 'S' 'R' 'E' 'N' 'D' 0x0A
///     28+H+P       8     XXH64 (seed 0) of bytes 0 ..< 20+H, i.e. preamble and header
///     36+H+P       8     total file length = 44+H+P, u64
///
/// The magic starts with a non-ASCII byte so tools treat the file as binary, and holds CR LF and
/// Ctrl-Z so a text-mode transfer that rewrites line endings is caught at the first read (the PNG
/// trick). The trailer lets a reader tell a truncated file (interrupted copy, full disk) from a
/// damaged one before decompressing anything.
///
/// Header, H bytes, which must end exactly after the last entry record:
///
///     u32   metadata count M
///     M ×   u32 key length, key (UTF-8), u32 value length, value (UTF-8)   keys unique, sorted
///     u32   entry count E
///     E ×   u16 name length (1 ... 1,024), name (UTF-8)                     names unique
///           u8  dtype code (`CheckpointDType.rawValue`)
///           u8  rank R (0 ... 32; 0 is a scalar)
///           R × u64 dimension
///           u64 payload offset, counted from the start of the payload region (byte 20+H)
///           u64 compressed size
///           u64 raw size = product of dimensions × dtype width
///           u64 XXH64 (seed 0) of the raw bytes (before shuffling and compression)
///
/// Payload of an entry: its raw bytes byte-shuffled with stride = dtype width (`ByteShuffle`),
/// then compressed as exactly one zstd frame that records its content size and carries zstd's
/// frame checksum.
///
/// # What the reader checks, before allocating anything sized by the file
///
/// Magic, version, header length against the 64 MiB cap and the file length; the trailer (magic,
/// recorded length = actual length, header checksum); every count against the bytes left in the
/// header; names (length cap, UTF-8, unique), dtype codes, ranks, dimension products (overflow);
/// raw size = elements × width; raw size at most `maximumExpansion` × compressed size (no valid
/// zstd frame expands further, so a tiny file cannot claim terabytes); payloads contiguous, in
/// order, not overlapping, exactly covering the payload region; then per entry the zstd frame's
/// declared content size, the frame checksum, and the XXH64 of the restored raw bytes.
enum CheckpointFormat {
    static let magic: [UInt8] = [0x89, 0x54, 0x53, 0x52, 0x0D, 0x0A, 0x1A, 0x0A]
    static let trailerMagic: [UInt8] = [0x89, 0x54, 0x53, 0x52, 0x45, 0x4E, 0x44, 0x0A]
    static let version: UInt32 = 1

    /// Magic, version, header length.
    static let preambleSize = 20
    /// Trailer magic, header checksum, file length.
    static let trailerSize = 24

    /// A header holds names, shapes and metadata (recipe text, RNG states, metrics): a few MB at
    /// most. The cap stops a corrupt length field from making the reader allocate gigabytes.
    static let maximumHeaderSize = 64 << 20
    /// Parameter paths are short (`blocks.11.attention.query.weight` is 32 bytes).
    static let maximumNameLength = 1_024
    /// numpy's own limit is 64; nothing we train goes past 6.
    static let maximumRank = 32
    /// zstd's densest encoding is an RLE block: a 3-byte block header plus 1 byte standing for up
    /// to 128 KiB of output, so no frame decompresses to more than 32,768 × its size.
    static let maximumExpansion = 32_768
}

/// One row of the header's entry table.
struct EntryRecord: Equatable {
    var name: String
    var dtype: CheckpointDType
    var shape: [Int]
    /// Counted from the start of the payload region.
    var payloadOffset: Int
    var compressedSize: Int
    var rawSize: Int
    /// XXH64 of the raw bytes.
    var checksum: UInt64

    /// The smallest encoded record: empty-name length, dtype, rank, four u64 fields.
    static let minimumEncodedSize = 2 + 1 + 1 + 4 * 8
}
