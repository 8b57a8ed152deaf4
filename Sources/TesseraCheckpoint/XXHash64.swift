/// XXH64 (https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md), the checksum of the
/// header and of every entry's raw bytes.
///
/// Written here because libzstd does not export its internal copy. XXH64 runs at several GB/s, so
/// checking every byte on load costs little next to decompression; a 64-bit hash makes an
/// accidental match after corruption practically impossible, unlike CRC-32 on multi-GB files.
public enum XXHash64 {
    private static let prime1: UInt64 = 0x9E37_79B1_85EB_CA87
    private static let prime2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    private static let prime3: UInt64 = 0x1656_67B1_9E37_79F9
    private static let prime4: UInt64 = 0x85EB_CA77_C2B2_AE63
    private static let prime5: UInt64 = 0x27D4_EB2F_1656_67C5

    public static func hash(_ buffer: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        let length = buffer.count
        guard let input = buffer.baseAddress else { return finish(seed &+ prime5, input: nil, from: 0, length: 0) }
        var offset = 0
        var accumulator: UInt64
        if length >= 32 {
            var lane1 = seed &+ prime1 &+ prime2
            var lane2 = seed &+ prime2
            var lane3 = seed
            var lane4 = seed &- prime1
            let stripeEnd = length - 32
            while offset <= stripeEnd {
                lane1 = round(lane1, word(input, offset))
                lane2 = round(lane2, word(input, offset + 8))
                lane3 = round(lane3, word(input, offset + 16))
                lane4 = round(lane4, word(input, offset + 24))
                offset += 32
            }
            accumulator = rotate(lane1, 1) &+ rotate(lane2, 7) &+ rotate(lane3, 12) &+ rotate(lane4, 18)
            accumulator = merge(accumulator, lane1)
            accumulator = merge(accumulator, lane2)
            accumulator = merge(accumulator, lane3)
            accumulator = merge(accumulator, lane4)
        } else {
            accumulator = seed &+ prime5
        }
        accumulator &+= UInt64(length)
        return finish(accumulator, input: input, from: offset, length: length)
    }

    public static func hash(_ bytes: [UInt8], seed: UInt64 = 0) -> UInt64 {
        bytes.withUnsafeBytes { hash($0, seed: seed) }
    }

    /// Consumes the last 0–31 bytes and mixes the result.
    private static func finish(_ start: UInt64, input: UnsafeRawPointer?, from tailStart: Int, length: Int) -> UInt64 {
        var accumulator = start
        var offset = tailStart
        if let input {
            while offset + 8 <= length {
                accumulator ^= round(0, word(input, offset))
                accumulator = rotate(accumulator, 27) &* prime1 &+ prime4
                offset += 8
            }
            if offset + 4 <= length {
                let half = UInt64(UInt32(littleEndian: input.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                accumulator ^= half &* prime1
                accumulator = rotate(accumulator, 23) &* prime2 &+ prime3
                offset += 4
            }
            while offset < length {
                accumulator ^= UInt64(input.load(fromByteOffset: offset, as: UInt8.self)) &* prime5
                accumulator = rotate(accumulator, 11) &* prime1
                offset += 1
            }
        }
        accumulator ^= accumulator >> 33
        accumulator &*= prime2
        accumulator ^= accumulator >> 29
        accumulator &*= prime3
        accumulator ^= accumulator >> 32
        return accumulator
    }

    @inline(__always)
    private static func word(_ input: UnsafeRawPointer, _ offset: Int) -> UInt64 {
        UInt64(littleEndian: input.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    @inline(__always)
    private static func rotate(_ value: UInt64, _ count: UInt64) -> UInt64 {
        (value << count) | (value >> (64 - count))
    }

    @inline(__always)
    private static func round(_ accumulator: UInt64, _ input: UInt64) -> UInt64 {
        rotate(accumulator &+ input &* prime2, 31) &* prime1
    }

    @inline(__always)
    private static func merge(_ accumulator: UInt64, _ lane: UInt64) -> UInt64 {
        (accumulator ^ round(0, lane)) &* prime1 &+ prime4
    }
}
