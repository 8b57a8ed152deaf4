import CZstd

/// A zstd failure, with zstd's own explanation (`ZSTD_getErrorName`) or the check that failed.
/// The checkpoint reader wraps it in a `CheckpointError` naming the file and the entry.
public struct ZstdError: Error, CustomStringConvertible, Sendable {
    public let message: String
    /// True when the frame's checksum did not match its content, i.e. the bytes were damaged.
    public var isChecksumFailure = false
    public var description: String { "zstd: \(message)" }
}

/// The only Swift file that calls libzstd: one-shot helpers plus reusable contexts.
///
/// Single-threaded on purpose: the trainer saves between steps on a machine whose cores are busy
/// with training, and level 1 on one core already runs at several hundred MB/s.
public enum Zstd {
    /// Level 1. On a trained model's checkpoint (13.5 MB of MLP weights and Adam moments,
    /// `tessera-bench checkpoint`) level 1 saved at 427 MB/s with ratio 1.210, level 3 at 286 MB/s
    /// with ratio 1.206: byte-shuffled float data gains nothing from the slower level.
    public static let defaultLevel = 1

    /// The largest compressed size of `rawSize` bytes, for sizing output buffers.
    public static func compressBound(_ rawSize: Int) -> Int { ZSTD_compressBound(rawSize) }

    /// Compresses `bytes` into one frame with the content size and a checksum in its header,
    /// exactly as the checkpoint writer does; the benchmark's baseline.
    public static func compress(_ bytes: UnsafeRawBufferPointer, level: Int = defaultLevel) throws -> [UInt8] {
        let compressor = try ZstdCompressor(level: level)
        var output: [UInt8] = []
        try compressor.compress(bytes, appendingTo: &output)
        return output
    }

    public static func compress(_ bytes: [UInt8], level: Int = defaultLevel) throws -> [UInt8] {
        try bytes.withUnsafeBytes { try compress($0, level: level) }
    }

    /// Decompresses one frame that must hold exactly `rawSize` bytes.
    public static func decompress(_ bytes: [UInt8], rawSize: Int) throws -> [UInt8] {
        let decompressor = try ZstdDecompressor()
        return try [UInt8](unsafeUninitializedCapacity: rawSize) { buffer, initializedCount in
            try bytes.withUnsafeBytes { try decompressor.decompress($0, into: UnsafeMutableRawBufferPointer(buffer)) }
            initializedCount = rawSize
        }
    }
}

/// A compression context reused across entries: creating one allocates several hundred KiB of
/// tables, which would dominate the cost of saving many small tensors.
final class ZstdCompressor {
    private let context: OpaquePointer

    init(level: Int) throws {
        guard let context = ZSTD_createCCtx() else { throw ZstdError(message: "could not allocate a compression context") }
        self.context = context
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, Int32(clamping: level)))
        // The frame checksum lets zstd itself reject damaged payloads before we unshuffle them.
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1))
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 1))
    }

    deinit { ZSTD_freeCCtx(context) }

    /// Appends one frame to `output` and returns its size.
    @discardableResult
    func compress(_ source: UnsafeRawBufferPointer, appendingTo output: inout [UInt8]) throws -> Int {
        let start = output.count
        let bound = ZSTD_compressBound(source.count)
        output.append(contentsOf: repeatElement(0, count: bound))
        let written = try output.withUnsafeMutableBytes { destination in
            try compress(source, into: UnsafeMutableRawBufferPointer(rebasing: destination[start...]))
        }
        output.removeLast(bound - written)
        return written
    }

    /// Writes one frame into `destination`, which must hold `Zstd.compressBound(source.count)` bytes.
    func compress(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) throws -> Int {
        let result = ZSTD_compress2(context, destination.baseAddress, destination.count, source.baseAddress, source.count)
        try check(result)
        return result
    }
}

/// A decompression context reused across entries.
final class ZstdDecompressor {
    private let context: OpaquePointer

    init() throws {
        guard let context = ZSTD_createDCtx() else { throw ZstdError(message: "could not allocate a decompression context") }
        self.context = context
    }

    deinit { ZSTD_freeDCtx(context) }

    /// The content size a frame declares in its header, checked before anything is allocated.
    static func declaredContentSize(of source: UnsafeRawBufferPointer) throws -> UInt64 {
        let size = ZSTD_getFrameContentSize(source.baseAddress, source.count)
        // ZSTD_CONTENTSIZE_ERROR and ZSTD_CONTENTSIZE_UNKNOWN are (0ULL - 2) and (0ULL - 1).
        if size == UInt64.max - 1 { throw ZstdError(message: "the payload does not start with a valid zstd frame header") }
        if size == UInt64.max { throw ZstdError(message: "the zstd frame does not declare its content size") }
        return size
    }

    /// Decompresses exactly one frame spanning all of `source` into all of `destination`.
    func decompress(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) throws {
        let declared = try Self.declaredContentSize(of: source)
        guard declared == UInt64(destination.count) else {
            throw ZstdError(message: "the frame declares \(grouped(declared)) bytes of content, expected \(grouped(destination.count))")
        }
        let frameSize = ZSTD_findFrameCompressedSize(source.baseAddress, source.count)
        try check(frameSize)
        guard frameSize == source.count else {
            throw ZstdError(message: "the frame is \(grouped(frameSize)) bytes but the payload is \(grouped(source.count)) bytes")
        }
        let written = ZSTD_decompressDCtx(context, destination.baseAddress, destination.count, source.baseAddress, source.count)
        try check(written)
        guard written == destination.count else {
            throw ZstdError(message: "decompressed \(grouped(written)) bytes, expected \(grouped(destination.count))")
        }
    }
}

/// `ZSTD_error_checksum_wrong` from `zstd_errors.h`, which the CZstd shim does not include; codes
/// below 100 are documented as stable, and an error result is the code negated.
private let checksumWrongErrorCode = 22

/// Turns a zstd return code into a thrown error carrying zstd's message.
private func check(_ code: Int) throws {
    if ZSTD_isError(code) != 0 {
        throw ZstdError(
            message: String(cString: ZSTD_getErrorName(code)),
            isChecksumFailure: 0 &- code == checksumWrongErrorCode)
    }
}
