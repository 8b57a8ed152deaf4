/// Byte shuffling: regroup `count` elements of `width` bytes so that all first bytes come first,
/// then all second bytes, and so on.
///
/// Neighbouring float32 weights share sign and exponent bytes but differ in their low mantissa
/// bytes; interleaved, zstd sees noise everywhere, shuffled it sees two long, highly repetitive
/// streams and two noisy ones. The same trick as HDF5's and Blosc's shuffle filters.
///
/// The loops work on raw pointers with one case per common width, because saving must run at
/// hundreds of MB/s and a generic per-element loop is several times slower.
public enum ByteShuffle {
    /// Shuffles `source` into `destination` (same size, a multiple of `width`).
    public static func shuffle(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, width: Int) {
        precondition(source.count == destination.count && width > 0 && source.count % width == 0)
        guard let input = source.baseAddress, let output = destination.baseAddress else { return }
        let count = source.count / width
        switch width {
        case 1:
            output.copyMemory(from: input, byteCount: source.count)
        case 2:
            let low = output.assumingMemoryBound(to: UInt8.self)
            let high = low + count
            for index in 0..<count {
                let value = UInt16(littleEndian: input.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self))
                low[index] = UInt8(truncatingIfNeeded: value)
                high[index] = UInt8(truncatingIfNeeded: value >> 8)
            }
        case 4:
            let plane0 = output.assumingMemoryBound(to: UInt8.self)
            let plane1 = plane0 + count, plane2 = plane1 + count, plane3 = plane2 + count
            for index in 0..<count {
                let value = UInt32(littleEndian: input.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self))
                plane0[index] = UInt8(truncatingIfNeeded: value)
                plane1[index] = UInt8(truncatingIfNeeded: value >> 8)
                plane2[index] = UInt8(truncatingIfNeeded: value >> 16)
                plane3[index] = UInt8(truncatingIfNeeded: value >> 24)
            }
        case 8:
            let planes = output.assumingMemoryBound(to: UInt8.self)
            for index in 0..<count {
                let value = UInt64(littleEndian: input.loadUnaligned(fromByteOffset: 8 * index, as: UInt64.self))
                for byte in 0..<8 { planes[byte * count + index] = UInt8(truncatingIfNeeded: value >> UInt64(8 * byte)) }
            }
        default:
            let bytes = input.assumingMemoryBound(to: UInt8.self)
            let planes = output.assumingMemoryBound(to: UInt8.self)
            for byte in 0..<width {
                let plane = planes + byte * count
                for index in 0..<count { plane[index] = bytes[index * width + byte] }
            }
        }
    }

    /// Undoes `shuffle`: `source` holds the byte planes, `destination` receives the elements.
    public static func unshuffle(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, width: Int) {
        precondition(source.count == destination.count && width > 0 && source.count % width == 0)
        guard let input = source.baseAddress, let output = destination.baseAddress else { return }
        let count = source.count / width
        switch width {
        case 1:
            output.copyMemory(from: input, byteCount: source.count)
        case 2:
            let low = input.assumingMemoryBound(to: UInt8.self)
            let high = low + count
            for index in 0..<count {
                let value = UInt16(low[index]) | UInt16(high[index]) << 8
                output.storeBytes(of: value.littleEndian, toByteOffset: 2 * index, as: UInt16.self)
            }
        case 4:
            let plane0 = input.assumingMemoryBound(to: UInt8.self)
            let plane1 = plane0 + count, plane2 = plane1 + count, plane3 = plane2 + count
            for index in 0..<count {
                let value = UInt32(plane0[index]) | UInt32(plane1[index]) << 8
                    | UInt32(plane2[index]) << 16 | UInt32(plane3[index]) << 24
                output.storeBytes(of: value.littleEndian, toByteOffset: 4 * index, as: UInt32.self)
            }
        case 8:
            let planes = input.assumingMemoryBound(to: UInt8.self)
            for index in 0..<count {
                var value: UInt64 = 0
                for byte in 0..<8 { value |= UInt64(planes[byte * count + index]) << UInt64(8 * byte) }
                output.storeBytes(of: value.littleEndian, toByteOffset: 8 * index, as: UInt64.self)
            }
        default:
            let planes = input.assumingMemoryBound(to: UInt8.self)
            let bytes = output.assumingMemoryBound(to: UInt8.self)
            for byte in 0..<width {
                let plane = planes + byte * count
                for index in 0..<count { bytes[index * width + byte] = plane[index] }
            }
        }
    }
}
