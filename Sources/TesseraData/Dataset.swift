import TesseraTensor

/// One item of a data set: an input (an image, a point, a feature row) and its label.
///
/// Labels are float tensors holding whole numbers for classes (shape `[]`), like every index in
/// Tessera; unlabelled sets hold a zero label so all sets batch the same way.
public struct Example {
    public let input: Tensor
    public let label: Tensor

    public init(input: Tensor, label: Tensor) {
        self.input = input
        self.label = label
    }
}

/// Several examples stacked along a new leading axis: `inputs` is `[N, …input shape]`, `labels`
/// is `[N, …label shape]`.
public struct Batch {
    public let inputs: Tensor
    public let labels: Tensor

    public init(inputs: Tensor, labels: Tensor) {
        self.inputs = inputs
        self.labels = labels
    }

    /// Number of examples.
    public var count: Int { inputs.shape[0] }
}

/// A finite, indexable collection of examples.
///
/// A data set only answers "what is example i?"; the order, batching, epochs and sharding live in
/// `DataLoader`, so a set never holds random state and any batch can be rebuilt from its indices.
public protocol Dataset {
    /// Number of examples.
    var count: Int { get }
    /// The example at `index` (`0 ..< count`).
    func example(at index: Int) -> Example
    /// The examples at `indices`, stacked. The default stacks `example(at:)`; in-memory sets
    /// override it to copy rows straight into the batch.
    func batch(at indices: [Int]) -> Batch
}

extension Dataset {
    public func batch(at indices: [Int]) -> Batch {
        precondition(!indices.isEmpty || count > 0, "Tessera Dataset.batch: cannot infer shapes of an empty batch from an empty data set")
        let examples = indices.map { example(at: $0) }
        if examples.isEmpty {
            // An empty shard (more ranks than examples in a final partial batch) keeps the shapes.
            let probe = example(at: 0)
            return Batch(inputs: .zeros([0] + probe.input.shape), labels: .zeros([0] + probe.label.shape))
        }
        return Batch(inputs: Tensor.stack(examples.map(\.input)), labels: Tensor.stack(examples.map(\.label)))
    }
}

/// A data set held in two tensors whose first axis indexes examples.
///
/// Batching copies each selected row with one `update(from:count:)` into a preallocated batch
/// tensor — no per-example tensors — so a batch of 128 digit images (128 × 64 floats) takes a
/// few microseconds instead of the ~100 µs of stacking 128 small tensors.
///
/// ```swift
/// let data = TensorDataset(inputs: Tensor([[0, 1], [2, 3], [4, 5]]), labels: Tensor([0, 1, 0]))
/// let batch = data.batch(at: [2, 0])   // inputs [[4, 5], [0, 1]], labels [0, 0]
/// ```
public struct TensorDataset: Dataset {
    /// `[N, …]`.
    public let inputs: Tensor
    /// `[N, …]`; `[N]` for class labels.
    public let labels: Tensor

    public init(inputs: Tensor, labels: Tensor) {
        precondition(inputs.rank >= 1 && labels.rank >= 1,
                     "Tessera TensorDataset: inputs \(inputs.shape) and labels \(labels.shape) need a leading example axis")
        precondition(inputs.shape[0] == labels.shape[0],
                     "Tessera TensorDataset: inputs hold \(inputs.shape[0]) examples but labels hold \(labels.shape[0])")
        self.inputs = inputs
        self.labels = labels
    }

    public var count: Int { inputs.shape[0] }
    /// Shape of one input, without the example axis.
    public var inputShape: [Int] { Array(inputs.shape.dropFirst()) }
    /// Shape of one label, without the example axis.
    public var labelShape: [Int] { Array(labels.shape.dropFirst()) }

    public func example(at index: Int) -> Example {
        precondition(index >= 0 && index < count, "Tessera TensorDataset: index \(index) is out of range 0..<\(count)")
        let batch = batch(at: [index])
        return Example(input: batch.inputs.reshape(inputShape), label: batch.labels.reshape(labelShape))
    }

    public func batch(at indices: [Int]) -> Batch {
        Batch(inputs: Self.gatherRows(of: inputs, at: indices), labels: Self.gatherRows(of: labels, at: indices))
    }

    /// A new data set holding copies of the examples at `indices`, in that order.
    public func subset(_ indices: [Int]) -> TensorDataset {
        let batch = batch(at: indices)
        return TensorDataset(inputs: batch.inputs, labels: batch.labels)
    }

    /// The same examples with each input reshaped to `shape` (for example `[64]` ↔ `[1, 8, 8]`).
    public func reshapingInputs(_ shape: [Int]) -> TensorDataset {
        TensorDataset(inputs: inputs.reshape([count] + shape), labels: labels)
    }

    /// Rows `indices` of `source` (first axis), copied into one new contiguous tensor.
    static func gatherRows(of source: Tensor, at indices: [Int]) -> Tensor {
        let rows = source.shape[0]
        let rowSize = rows == 0 ? 0 : source.count / rows
        let output = Tensor.zeros([indices.count] + source.shape.dropFirst())
        let from = source.storage.pointer, to = output.storage.pointer
        for (position, row) in indices.enumerated() {
            precondition(row >= 0 && row < rows, "Tessera TensorDataset: index \(row) is out of range 0..<\(rows)")
            (to + position * rowSize).update(from: from + row * rowSize, count: rowSize)
        }
        return output
    }
}
