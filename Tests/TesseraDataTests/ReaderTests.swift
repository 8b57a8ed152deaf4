import Foundation
import Testing
import TesseraTensor
@testable import TesseraData

@Suite("File readers")
struct ReaderTests {
    static func bigEndian(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }

    /// Writes bytes to a fresh temporary file named `name`.
    static func temporaryFile(_ name: String, _ bytes: [UInt8]) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    static func error(_ body: () throws -> Any) -> DataError? {
        do { _ = try body(); return nil } catch { return error as? DataError }
    }

    // MARK: - IDX

    @Test func idxRoundTripsUnsignedBytesAndBigEndianFloatsAndShorts() throws {
        let bytes: [UInt8] = [0, 0, 0x08, 2] + Self.bigEndian(2) + Self.bigEndian(3) + [0, 1, 2, 253, 254, 255]
        let tensor = try IDXReader.parse(bytes, fileName: "tiny-idx3-ubyte")
        #expect(tensor.shape == [2, 3])
        #expect(tensor.scalars == [0, 1, 2, 253, 254, 255])

        let floats: [UInt8] = [0, 0, 0x0D, 1] + Self.bigEndian(2) + Self.bigEndian(Float(1.5).bitPattern) + Self.bigEndian(Float(-0.25).bitPattern)
        #expect(try IDXReader.parse(floats, fileName: "f").scalars == [1.5, -0.25])
        let shorts: [UInt8] = [0, 0, 0x0B, 1] + Self.bigEndian(2) + [0xFF, 0xFE, 0x01, 0x00]
        #expect(try IDXReader.parse(shorts, fileName: "s").scalars == [-2, 256])
    }

    @Test func idxFilesMakeAnImageDataSet() throws {
        let images = try Self.temporaryFile("images-idx3-ubyte", [0, 0, 0x08, 3] + Self.bigEndian(2) + Self.bigEndian(2) + Self.bigEndian(2)
                                               + [0, 255, 51, 102, 255, 255, 0, 0])
        let labels = try Self.temporaryFile("labels-idx1-ubyte", [0, 0, 0x08, 1] + Self.bigEndian(2) + [7, 3])
        let data = try IDXReader.dataset(images: images, labels: labels)
        #expect(data.inputs.shape == [2, 1, 2, 2])
        #expect(data.labels.scalars == [7, 3])
        #expect(abs(data.inputs[element: 0, 0, 1, 0] - 0.2) < 1e-6)
    }

    @Test func idxRejectsTruncatedFilesAndWrongMagicNamingTheFile() throws {
        let truncated = try Self.temporaryFile("train-images-idx3-ubyte", [0, 0, 0x08, 2] + Self.bigEndian(2) + Self.bigEndian(3) + [1, 2, 3])
        let shortError = try #require(Self.error { try IDXReader.read(contentsOf: truncated) })
        #expect(shortError.kind == .sizeMismatch)
        #expect(shortError.description.contains("train-images-idx3-ubyte"))
        #expect(shortError.description.contains("truncated"))

        let wrongMagic = try #require(Self.error { try IDXReader.parse([0x50, 0x4B, 0x08, 1, 0, 0, 0, 0], fileName: "labels.idx") })
        #expect(wrongMagic.kind == .badMagic)
        #expect(wrongMagic.description.hasPrefix("labels.idx: "))
        let unknownType = try #require(Self.error { try IDXReader.parse([0, 0, 0x07, 0], fileName: "x.idx") })
        #expect(unknownType.kind == .unsupportedType)
        let missing = try #require(Self.error { try IDXReader.read(contentsOf: URL(fileURLWithPath: "/nonexistent/nothing.idx")) })
        #expect(missing.kind == .unreadable && missing.file == "nothing.idx")
    }

    // MARK: - CSV

    @Test func csvReadsHeaderLabelColumnAndLineEndings() throws {
        let text = "x, y ,label\r\n1,2.5,0\r\n\r\n-3,\"4e-1\",1\n"
        let table = try CSVReader.parse(Array(text.utf8), fileName: "points.csv", hasHeader: true, labelColumn: -1)
        #expect(table.header == ["x", "y", "label"])
        #expect(table.features.shape == [2, 2])
        #expect(table.features.scalars == [1, 2.5, -3, 0.4])
        #expect(table.labels?.scalars == [0, 1])
        let middle = try CSVReader.parse(Array("1,9,2\n3,8,4".utf8), fileName: "m.csv", labelColumn: 1)
        #expect(middle.features.scalars == [1, 2, 3, 4] && middle.labels?.scalars == [9, 8])
        #expect(middle.dataset.count == 2)
    }

    @Test func csvRaggedRowNamesFileAndLine() throws {
        let url = try Self.temporaryFile("ragged.csv", Array("a,b,c\n1,2,3\n4,5\n".utf8))
        let error = try #require(Self.error { try CSVReader.read(contentsOf: url, hasHeader: true) })
        #expect(error.kind == .raggedRow)
        #expect(error.line == 3)
        #expect(error.description.hasPrefix("ragged.csv line 3: "))
    }

    @Test func csvNonNumericCellNamesFileLineAndColumn() throws {
        let error = try #require(Self.error {
            try CSVReader.parse(Array("1,2\n3,abc\n".utf8), fileName: "values.csv")
        })
        #expect(error.kind == .notNumeric)
        #expect(error.line == 2 && error.column == 2)
        #expect(error.description == "values.csv line 2, column 2: expected a number, found \"abc\"")
        let empty = try #require(Self.error { try CSVReader.parse(Array("1,,3\n".utf8), fileName: "e.csv") })
        #expect(empty.column == 2 && empty.kind == .notNumeric)
        let badColumn = try #require(Self.error { try CSVReader.parse(Array("1,2\n".utf8), fileName: "c.csv", labelColumn: 2) })
        #expect(badColumn.kind == .invalidArgument)
    }

    // MARK: - NPY

    /// Files written by `numpy.save` (numpy 2.x), base64.
    static let numpyFloat32 = "k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAMA/AAAQwAAAQEAAAAAAAADkQG8Sg7o="
    static let numpyInt64 = "k05VTVBZAQB2AHsnZGVzY3InOiAnPGk4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAr9/////////wAAAAAAAAAA1HjpJjEIAAA="
    static let numpyUInt8 = "k05VTVBZAQB2AHsnZGVzY3InOiAnfHUxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMsIDEpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAr6+/z9/v8="

    static func decode(_ base64: String) -> [UInt8] { [UInt8](Data(base64Encoded: base64)!) }

    /// A version-`major` .npy file with the given header dictionary and data bytes.
    static func npy(_ header: String, _ data: [UInt8], major: UInt8 = 1) -> [UInt8] {
        let text = Array((header + "\n").utf8)
        let length: [UInt8] = major == 1 ? [UInt8(text.count & 0xFF), UInt8(text.count >> 8)]
                                         : [UInt8(text.count & 0xFF), UInt8(text.count >> 8), 0, 0]
        return [0x93] + Array("NUMPY".utf8) + [major, 0] + length + text + data
    }

    static func littleEndian<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        values.flatMap { value in (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
    }

    @Test func npyReadsFilesWrittenByNumpy() throws {
        let floats = try NumpyReader.parse(Self.decode(Self.numpyFloat32), fileName: "a.npy")
        #expect(floats.shape == [2, 3])
        #expect(floats.scalars == [1.5, -2.25, 3, 0, 7.125, -1e-3])
        let longs = try NumpyReader.parse(Self.decode(Self.numpyInt64), fileName: "b.npy")
        #expect(longs.shape == [3] && longs.scalars == [-3, 0, Float(9_007_199_254_740 as Int64)])
        let bytes = try NumpyReader.parse(Self.decode(Self.numpyUInt8), fileName: "c.npy")
        #expect(bytes.shape == [2, 3, 1] && bytes.scalars == [250, 251, 252, 253, 254, 255])
    }

    @Test func npyRoundTripsHandBuiltFilesOfEachType() throws {
        let doubles = Self.npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }",
                               Self.littleEndian([(0.5 as Double).bitPattern, (-8 as Double).bitPattern]), major: 2)
        #expect(try NumpyReader.parse(doubles, fileName: "d.npy").scalars == [0.5, -8])
        let ints = Self.npy("{'shape': (1, 2), 'fortran_order': False, 'descr': '<i4'}", Self.littleEndian([Int32(-7), 40000]))
        let intTensor = try NumpyReader.parse(ints, fileName: "i.npy")
        #expect(intTensor.shape == [1, 2] && intTensor.scalars == [-7, 40000])
        let scalar = Self.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", Self.littleEndian([Float(2.5).bitPattern]))
        let scalarTensor = try NumpyReader.parse(scalar, fileName: "s.npy")
        #expect(scalarTensor.shape == [] && scalarTensor.item == 2.5)
    }

    @Test func npyRejectsWrongTypeOrderSizeAndMagicNamingFileAndField() throws {
        let bigEndian = Self.npy("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", [0, 0, 0, 0])
        let typeError = try #require(Self.error { try NumpyReader.parse(bigEndian, fileName: "weights.npy") })
        #expect(typeError.kind == .unsupportedType)
        #expect(typeError.description.hasPrefix("weights.npy: "))
        #expect(typeError.description.contains("'descr'") && typeError.description.contains(">f4"))

        let fortran = Self.npy("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", [0, 0, 0, 0])
        let orderError = try #require(Self.error { try NumpyReader.parse(fortran, fileName: "f.npy") })
        #expect(orderError.kind == .badHeader && orderError.description.contains("fortran_order"))

        let url = try Self.temporaryFile("short.npy", Array(Self.decode(Self.numpyFloat32).dropLast(3)))
        let sizeError = try #require(Self.error { try NumpyReader.read(contentsOf: url) })
        #expect(sizeError.kind == .sizeMismatch)
        #expect(sizeError.description.contains("short.npy") && sizeError.description.contains("truncated"))

        let magicError = try #require(Self.error { try NumpyReader.parse(Array("PK\u{3}\u{4}not numpy".utf8), fileName: "z.npy") })
        #expect(magicError.kind == .badMagic)
        let garbled = Self.npy("{'descr': '<f4', 'shape': [1]}", [0, 0, 0, 0])
        #expect(Self.error { try NumpyReader.parse(garbled, fileName: "g.npy") }?.kind == .badHeader)
    }
}
