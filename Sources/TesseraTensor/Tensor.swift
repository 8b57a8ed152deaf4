import Foundation

/// An n-dimensional, row-major array of `Float` that records the operations applied to it so
/// gradients can flow back through them (define-by-run reverse mode, as in PyTorch).
///
/// Every tensor is contiguous. Integer data (class labels, indices) is held exactly as floats,
/// which is exact up to 2^24; ops that take indices check they are whole numbers in range.
///
/// ```swift
/// let w = Tensor.randomNormal([3, 2], generator: &rng).requiringGradient()
/// let loss = (x.matmul(w)).relu().sum()
/// loss.backward()
/// print(w.grad!)
/// ```
public final class Tensor {
    /// The extent of each axis; `[]` for a scalar.
    public let shape: [Int]
    /// The elements, row-major. Shared between a tensor and its reshaped views.
    public let storage: TensorStorage
    /// Accumulated gradient of a leaf after `backward()`.
    public var grad: Tensor?
    /// The operation that produced this tensor; `nil` for a leaf.
    var gradientNode: GradientNode?
    private var _requiresGrad = false
    /// Called once during `backward()` when this leaf's gradient for that pass is final (all
    /// contributions summed into `grad`). The distributed layer starts allreducing from here.
    public var gradientReadyHook: ((Tensor) -> Void)?

    /// Whether gradients flow to this tensor. Only leaves can be switched on or off.
    public var requiresGrad: Bool {
        get { _requiresGrad }
        set {
            precondition(gradientNode == nil || newValue,
                         "Tessera requiresGrad: cannot switch off gradients of a non-leaf tensor; use detached()")
            _requiresGrad = newValue
        }
    }

    /// Whether this tensor was created by the user (not by a recorded operation).
    public var isLeaf: Bool { gradientNode == nil }

    init(shape: [Int], storage: TensorStorage) {
        assert(storage.count == shape.reduce(1, *))
        self.shape = shape
        self.storage = storage
    }

    /// A tensor of uninitialised memory; kernels fill it.
    static func empty(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, storage: TensorStorage(uninitializedCount: elementCount(shape, op: "empty")))
    }

    // MARK: - Shape facts

    /// Number of axes.
    public var rank: Int { shape.count }
    /// Number of elements.
    public var count: Int { storage.count }
    /// Row-major strides in elements.
    public var strides: [Int] { contiguousStrides(shape) }

    // MARK: - Creation

    /// A tensor holding `scalars` (row-major) in `shape`.
    public convenience init(shape: [Int], scalars: [Float]) {
        let count = elementCount(shape, op: "Tensor(shape:scalars:)")
        check(scalars.count == count, "Tensor(shape:scalars:)",
              "shape \(shape) holds \(count) elements but \(scalars.count) scalars were given")
        let storage = TensorStorage(uninitializedCount: count)
        scalars.withUnsafeBufferPointer { source in
            if count > 0 { storage.pointer.initialize(from: source.baseAddress!, count: count) }
        }
        self.init(shape: shape, storage: storage)
    }

    /// A rank-0 tensor.
    public convenience init(_ scalar: Float) {
        self.init(shape: [], scalars: [scalar])
    }

    /// A rank-1 tensor.
    public convenience init(_ scalars: [Float]) {
        self.init(shape: [scalars.count], scalars: scalars)
    }

    /// A rank-2 tensor from rows of equal length.
    public convenience init(_ rows: [[Float]]) {
        let width = rows.first?.count ?? 0
        check(rows.allSatisfy { $0.count == width }, "Tensor(rows)", "rows have different lengths \(rows.map(\.count))")
        self.init(shape: [rows.count, width], scalars: rows.flatMap { $0 })
    }

    /// A tensor whose element at each flat index is `value(index)`.
    public convenience init(shape: [Int], generator value: (Int) -> Float) {
        let count = elementCount(shape, op: "Tensor(shape:generator:)")
        let storage = TensorStorage(uninitializedCount: count)
        for index in 0..<count { storage.pointer[index] = value(index) }
        self.init(shape: shape, storage: storage)
    }

    /// A tensor whose elements are not initialised, for code that overwrites every element
    /// (packing buffers, kernels outside this module).
    public static func uninitialized(_ shape: [Int]) -> Tensor { empty(shape) }

    public static func zeros(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, storage: TensorStorage(zeroedCount: elementCount(shape, op: "zeros")))
    }

    public static func ones(_ shape: [Int]) -> Tensor { full(shape, 1) }

    public static func full(_ shape: [Int], _ value: Float) -> Tensor {
        let result = empty(shape)
        result.storage.pointer.initialize(repeating: value, count: result.count)
        return result
    }

    public static func zeros(like other: Tensor) -> Tensor { zeros(other.shape) }
    public static func ones(like other: Tensor) -> Tensor { ones(other.shape) }

    /// `start, start + step, …` up to but excluding `end`.
    public static func arange(_ start: Float = 0, _ end: Float, step: Float = 1) -> Tensor {
        check(step != 0, "arange", "step must not be zero")
        let count = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        return Tensor(shape: [count]) { start + Float($0) * step }
    }

    /// `count` evenly spaced values from `start` to `end` inclusive.
    public static func linspace(_ start: Float, _ end: Float, count: Int) -> Tensor {
        check(count >= 0, "linspace", "count must be non-negative, got \(count)")
        if count == 1 { return Tensor([start]) }
        let step = (end - start) / Float(count - 1)
        return Tensor(shape: [count]) { $0 == count - 1 ? end : start + Float($0) * step }
    }

    /// The `n × n` identity matrix.
    public static func eye(_ n: Int) -> Tensor {
        let result = zeros([n, n])
        for i in 0..<n { result.storage.pointer[i * n + i] = 1 }
        return result
    }

    // MARK: - Reading values

    /// The elements, row-major, as a Swift array.
    public var scalars: [Float] {
        Array(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// Whether no element is NaN or infinite; reads the elements in place, without a copy.
    public var allFinite: Bool {
        UnsafeBufferPointer(start: storage.pointer, count: count).allSatisfy(\.isFinite)
    }

    /// The value of a one-element tensor.
    public var item: Float {
        check(count == 1, "item", "needs a tensor with one element, got shape \(shape)")
        return storage.pointer[0]
    }

    /// The element at a full multi-index.
    public subscript(element indices: Int...) -> Float {
        check(indices.count == rank, "subscript", "needs \(rank) indices for shape \(shape), got \(indices.count)")
        var offset = 0
        for (axis, index) in indices.enumerated() {
            check(index >= 0 && index < shape[axis], "subscript",
                  "index \(index) is out of range for axis \(axis) of shape \(shape)")
            offset = offset * shape[axis] + index
        }
        return storage.pointer[offset]
    }

    // MARK: - Gradient bookkeeping

    /// Marks this leaf as requiring gradients and returns it (for chaining).
    @discardableResult
    public func requiringGradient(_ flag: Bool = true) -> Tensor {
        requiresGrad = flag
        return self
    }

    /// The same values, cut off from the graph (shares storage).
    public func detached() -> Tensor {
        Tensor(shape: shape, storage: storage)
    }

    /// An independent copy of the values, cut off from the graph.
    public func copy() -> Tensor {
        let result = Tensor.empty(shape)
        if count > 0 { result.storage.pointer.update(from: storage.pointer, count: count) }
        return result
    }

    /// Overwrites the values with those of `other` (same shape), outside the graph.
    public func assign(_ other: Tensor) {
        check(other.shape == shape, "assign", "shapes \(shape) and \(other.shape) differ")
        if count > 0 { storage.pointer.update(from: other.storage.pointer, count: count) }
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = scalars.prefix(64).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(shown)\(count > 64 ? ", …" : "")])"
    }
}

// MARK: - Shape helpers and checks

/// Stops with a message naming the operation when a precondition on shapes, axes or indices fails.
///
/// Tensor ops are called in expressions (`a + b`), so like PyTorch they do not throw: a mismatch is
/// a programming error. Layers above the tensor core validate user input (files, recipes) and
/// throw before any op is built from it.
@inline(__always)
func check(_ condition: Bool, _ op: @autoclosure () -> String, _ message: @autoclosure () -> String) {
    if !condition { shapeFailure(op(), message()) }
}

@inline(never)
func shapeFailure(_ op: String, _ message: String) -> Never {
    fatalError("Tessera \(op): \(message)")
}

func elementCount(_ shape: [Int], op: String) -> Int {
    var total = 1
    for extent in shape {
        check(extent >= 0, op, "negative extent in shape \(shape)")
        let (product, overflow) = total.multipliedReportingOverflow(by: extent)
        check(!overflow, op, "shape \(shape) has too many elements")
        total = product
    }
    return total
}

func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var running = 1
    for axis in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[axis] = running
        running *= shape[axis]
    }
    return strides
}

/// Resolves a possibly negative axis (`-1` is the last) against `rank`.
func normalizeAxis(_ axis: Int, rank: Int, op: String) -> Int {
    let resolved = axis < 0 ? axis + rank : axis
    check(resolved >= 0 && resolved < rank, op, "axis \(axis) is out of range for a tensor of rank \(rank)")
    return resolved
}

/// The NumPy broadcast of two shapes.
func broadcastShape(_ a: [Int], _ b: [Int], op: String) -> [Int] {
    let rank = max(a.count, b.count)
    var result = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        let x = i < rank - a.count ? 1 : a[i - (rank - a.count)]
        let y = i < rank - b.count ? 1 : b[i - (rank - b.count)]
        check(x == y || x == 1 || y == 1, op, "shapes \(a) and \(b) cannot be broadcast together")
        result[i] = x == 1 ? y : x
    }
    return result
}
