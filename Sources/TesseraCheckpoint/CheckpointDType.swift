/// The element type of a stored tensor.
///
/// The raw value is the code written in the file, so cases must never be renumbered; new types get
/// new codes. All multi-byte types are stored little-endian.
public enum CheckpointDType: UInt8, CaseIterable, Sendable {
    case float32 = 1
    case float64 = 2
    case float16 = 3
    case bfloat16 = 4
    case int8 = 5
    case int16 = 6
    case int32 = 7
    case int64 = 8
    case uint8 = 9
    /// One byte per element, 0 or 1 (the numpy and safetensors convention).
    case bool = 10

    /// Bytes per element; also the byte-shuffle stride.
    public var byteWidth: Int {
        switch self {
        case .int8, .uint8, .bool: return 1
        case .float16, .bfloat16, .int16: return 2
        case .float32, .int32: return 4
        case .float64, .int64: return 8
        }
    }

    /// The name used in messages and in `tessera inspect`.
    public var name: String {
        switch self {
        case .float32: return "float32"
        case .float64: return "float64"
        case .float16: return "float16"
        case .bfloat16: return "bfloat16"
        case .int8: return "int8"
        case .int16: return "int16"
        case .int32: return "int32"
        case .int64: return "int64"
        case .uint8: return "uint8"
        case .bool: return "bool"
        }
    }
}

/// A Swift scalar type that maps to one `CheckpointDType`, so entries can be built from and read
/// back into typed arrays without the caller spelling out byte widths.
public protocol CheckpointScalar {
    static var checkpointDType: CheckpointDType { get }
}

extension Float: CheckpointScalar { public static var checkpointDType: CheckpointDType { .float32 } }
extension Double: CheckpointScalar { public static var checkpointDType: CheckpointDType { .float64 } }
extension Int8: CheckpointScalar { public static var checkpointDType: CheckpointDType { .int8 } }
extension Int16: CheckpointScalar { public static var checkpointDType: CheckpointDType { .int16 } }
extension Int32: CheckpointScalar { public static var checkpointDType: CheckpointDType { .int32 } }
extension Int64: CheckpointScalar { public static var checkpointDType: CheckpointDType { .int64 } }
extension UInt8: CheckpointScalar { public static var checkpointDType: CheckpointDType { .uint8 } }
