import Foundation
import Testing

@testable import TesseraPicture

/// Reads the PNG back with a parser written from the specification (RFC 2083, RFC 1950/1951
/// stored blocks), so a writer bug cannot hide behind a matching reader bug in the same module.
@Suite struct PNGWriterTests {
    struct Chunk {
        var type: String
        var body: [UInt8]
        var storedCRC: UInt32
        var computedCRC: UInt32
    }

    private func bigEndian(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.reduce(0) { $0 << 8 | UInt32($1) }
    }

    private func chunks(of file: [UInt8]) throws -> [Chunk] {
        var result: [Chunk] = []
        var position = 8
        while position < file.count {
            try #require(position + 12 <= file.count, "truncated chunk at \(position)")
            let length = Int(bigEndian(file[position..<(position + 4)]))
            try #require(position + 12 + length <= file.count, "chunk at \(position) runs past the end")
            let typeAndBody = Array(file[(position + 4)..<(position + 8 + length)])
            result.append(Chunk(type: String(decoding: typeAndBody[0..<4], as: UTF8.self), body: Array(typeAndBody[4...]),
                                storedCRC: bigEndian(file[(position + 8 + length)..<(position + 12 + length)]),
                                computedCRC: crc32(typeAndBody)))
            position += 12 + length
        }
        return result
    }

    /// Inflates a zlib stream made only of stored blocks and checks its header and Adler-32.
    private func inflateStored(_ stream: [UInt8]) throws -> [UInt8] {
        try #require(stream.count >= 6)
        #expect(stream[0] & 0x0F == 8, "compression method must be deflate")
        #expect((UInt16(stream[0]) << 8 | UInt16(stream[1])) % 31 == 0, "zlib header check bits")
        var output: [UInt8] = []
        var position = 2
        var final = false
        while !final {
            try #require(position + 5 <= stream.count)
            final = stream[position] & 1 == 1
            try #require((stream[position] >> 1) & 3 == 0, "only stored blocks are expected")
            let length = Int(stream[position + 1]) | Int(stream[position + 2]) << 8
            let complement = Int(stream[position + 3]) | Int(stream[position + 4]) << 8
            #expect(length ^ complement == 0xFFFF, "NLEN must be the one's complement of LEN")
            position += 5
            try #require(position + length <= stream.count)
            output += stream[position..<(position + length)]
            position += length
        }
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in output { a = (a + UInt32(byte)) % 65_521; b = (b + a) % 65_521 }
        #expect(bigEndian(stream[position..<(position + 4)]) == b << 16 | a, "Adler-32")
        #expect(position + 4 == stream.count)
        return output
    }

    @Test func crc32MatchesTheStandardCheckValue() {
        #expect(crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(crc32(Array("IEND".utf8)) == 0xAE42_6082)
    }

    @Test func pngHasItsSignatureSizeValidChunksAndReproducesThePixels() throws {
        // 200 × 120 × 3 bytes of pixels plus filter bytes exceed one stored block (65,535 bytes).
        var image = RGBImage(width: 200, height: 120, background: (10, 20, 30))
        for y in 0..<image.height {
            for x in 0..<image.width { image.set(x, y, (UInt8(x), UInt8(y), UInt8((x * y) & 0xFF))) }
        }
        let file = [UInt8](image.pngData())
        #expect(Array(file[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let parsed = try chunks(of: file)
        #expect(parsed.map(\.type) == ["IHDR", "IDAT", "IEND"])
        for chunk in parsed {
            #expect(chunk.storedCRC == chunk.computedCRC, "CRC of \(chunk.type)")
        }
        let header = parsed[0].body
        #expect(header.count == 13)
        #expect(bigEndian(header[0..<4]) == 200 && bigEndian(header[4..<8]) == 120)
        #expect(Array(header[8...]) == [8, 2, 0, 0, 0], "8-bit RGB, deflate, no filter, no interlace")

        let raw = try inflateStored(parsed.filter { $0.type == "IDAT" }.flatMap(\.body))
        let stride = 1 + image.width * 3
        try #require(raw.count == image.height * stride)
        var pixels: [UInt8] = []
        for row in 0..<image.height {
            #expect(raw[row * stride] == 0, "row \(row) uses filter type none")
            pixels += raw[(row * stride + 1)..<((row + 1) * stride)]
        }
        #expect(pixels == image.pixels)
    }

    @Test func aOneByOneImageIsStillAValidPNG() throws {
        let file = [UInt8](RGBImage(width: 1, height: 1, background: (1, 2, 3)).pngData())
        let parsed = try chunks(of: file)
        #expect(parsed.allSatisfy { $0.storedCRC == $0.computedCRC })
        #expect(try inflateStored(parsed[1].body) == [0, 1, 2, 3])
    }
}
