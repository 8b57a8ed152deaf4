import Foundation
import TesseraTensor

/// A reader of IDX files, the format of MNIST and Fashion-MNIST
/// (LeCun et al., http://yann.lecun.com/exdb/mnist/, "FILE FORMATS FOR THE MNIST DATABASE").
///
/// Layout, all big-endian: two zero bytes; one type byte (`0x08` u8, `0x09` i8, `0x0B` i16,
/// `0x0C` i32, `0x0D` f32, `0x0E` f64); one byte giving the number of dimensions; one u32 per
/// dimension; then the elements row-major. The file length must equal header plus
/// `product(dimensions) × element size` exactly: a short file is truncated and a long one is not
/// the file its header describes, and both throw a `DataError` naming the file.
///
/// ```swift
/// let images = try IDXReader.read(contentsOf: trainImagesURL)          // [60000, 28, 28], 0…255
/// let train = try IDXReader.dataset(images: trainImagesURL, labels: trainLabelsURL)
/// ```
public enum IDXReader {
    /// The tensor stored in the file at `url`, values converted to `Float` unchanged.
    public static func read(contentsOf url: URL) throws -> Tensor {
        try parse(readFileBytes(url), fileName: url.lastPathComponent)
    }

    /// An image data set from a pair of MNIST-style files: images `[N, H, W]` become
    /// `[N, 1, H, W]` multiplied by `scale` (default maps 0…255 to 0…1), labels `[N]`.
    public static func dataset(images imagesURL: URL, labels labelsURL: URL, scale: Float = 1.0 / 255) throws -> TensorDataset {
        let images = try read(contentsOf: imagesURL)
        let labels = try read(contentsOf: labelsURL)
        guard images.rank == 3 else {
            throw DataError(.badHeader, file: imagesURL.lastPathComponent,
                            reason: "expected images of 3 dimensions [count, height, width], found shape \(images.shape)")
        }
        guard labels.rank == 1, labels.shape[0] == images.shape[0] else {
            throw DataError(.badHeader, file: labelsURL.lastPathComponent,
                            reason: "expected \(images.shape[0]) labels in one dimension to match the images, found shape \(labels.shape)")
        }
        let scaled = images * scale
        return TensorDataset(inputs: scaled.reshape([images.shape[0], 1, images.shape[1], images.shape[2]]), labels: labels)
    }

    /// Parses IDX bytes; `fileName` names them in errors.
    public static func parse(_ bytes: [UInt8], fileName: String) throws -> Tensor {
        guard bytes.count >= 4 else {
            throw DataError(.sizeMismatch, file: fileName, reason: "expected a 4-byte IDX header, the file has \(bytes.count) bytes")
        }
        guard bytes[0] == 0, bytes[1] == 0 else {
            throw DataError(.badMagic, file: fileName,
                            reason: String(format: "expected an IDX file starting with bytes 00 00, found %02x %02x", bytes[0], bytes[1]))
        }
        guard let elementType = ElementType(rawValue: bytes[2]) else {
            throw DataError(.unsupportedType, file: fileName,
                            reason: String(format: "unknown IDX element type 0x%02x (expected 08, 09, 0B, 0C, 0D or 0E)", bytes[2]))
        }
        let rank = Int(bytes[3])
        let headerSize = 4 + 4 * rank
        guard bytes.count >= headerSize else {
            throw DataError(.sizeMismatch, file: fileName,
                            reason: "header promises \(rank) dimensions (\(headerSize) header bytes), the file has \(bytes.count) bytes")
        }
        var shape: [Int] = []
        var elementCount = 1
        for axis in 0..<rank {
            let extent = Int(readBigEndian(bytes, at: 4 + 4 * axis, size: 4))
            shape.append(extent)
            let (product, overflow) = elementCount.multipliedReportingOverflow(by: extent)
            guard !overflow else {
                throw DataError(.badHeader, file: fileName, reason: "dimensions \(shape) overflow the element count")
            }
            elementCount = product
        }
        let expectedSize = elementCount.multipliedReportingOverflow(by: elementType.size)
        guard !expectedSize.overflow, headerSize + expectedSize.partialValue == bytes.count else {
            throw DataError(.sizeMismatch, file: fileName,
                            reason: "dimensions \(shape) of \(elementType.name) need \(headerSize) + \(elementCount) × \(elementType.size) bytes, "
                                + "the file has \(bytes.count) bytes\(bytes.count < headerSize + expectedSize.partialValue ? " (truncated)" : "")")
        }
        let output = Tensor.zeros(shape)
        let pointer = output.storage.pointer
        for index in 0..<elementCount {
            let raw = readBigEndian(bytes, at: headerSize + index * elementType.size, size: elementType.size)
            pointer[index] = elementType.value(raw)
        }
        return output
    }

    /// The element types of the IDX format, by their type byte.
    enum ElementType: UInt8 {
        case uint8 = 0x08, int8 = 0x09, int16 = 0x0B, int32 = 0x0C, float32 = 0x0D, float64 = 0x0E

        var size: Int {
            switch self {
            case .uint8, .int8: return 1
            case .int16: return 2
            case .int32, .float32: return 4
            case .float64: return 8
            }
        }

        var name: String { "\(self)" }

        /// The element whose big-endian bytes, read as an unsigned integer, are `raw`.
        func value(_ raw: UInt64) -> Float {
            switch self {
            case .uint8: return Float(raw)
            case .int8: return Float(Int8(truncatingIfNeeded: raw))
            case .int16: return Float(Int16(truncatingIfNeeded: raw))
            case .int32: return Float(Int32(truncatingIfNeeded: raw))
            case .float32: return Float(bitPattern: UInt32(truncatingIfNeeded: raw))
            case .float64: return Float(Double(bitPattern: raw))
            }
        }
    }

    private static func readBigEndian(_ bytes: [UInt8], at offset: Int, size: Int) -> UInt64 {
        var value: UInt64 = 0
        for index in 0..<size { value = value << 8 | UInt64(bytes[offset + index]) }
        return value
    }
}
