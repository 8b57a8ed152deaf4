import Foundation

/// The record of one differentiable operation: its inputs and the rule that turns the gradient of
/// its output into gradients of its inputs.
///
/// Backward rules are written with ordinary tensor ops, so when they run with gradient recording
/// on (`createGraph: true`) the gradients are themselves differentiable: grad-of-grad for gradient
/// penalties, TRPO's Fisher–vector products and FFJORD comes for free.
final class GradientNode {
    let operation: String
    let inputs: [Tensor]
    /// Maps the output gradient to one gradient per input (`nil` where an input gets none).
    let backward: (Tensor) -> [Tensor?]

    init(operation: String, inputs: [Tensor], backward: @escaping (Tensor) -> [Tensor?]) {
        self.operation = operation
        self.inputs = inputs
        self.backward = backward
    }
}

// MARK: - Gradient mode

/// Whether operations are recorded for differentiation, per thread.
public enum GradientMode {
    /// A per-thread flag: `nil` (the default) means recording is on.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    public static var isEnabled: Bool {
        get { pthread_getspecific(key) == nil }
        set { pthread_setspecific(key, newValue ? nil : UnsafeRawPointer(bitPattern: 1)) }
    }
}

/// Runs `body` without recording operations (evaluation, optimizer updates, target networks).
public func withoutGradients<Result>(_ body: () throws -> Result) rethrows -> Result {
    let previous = GradientMode.isEnabled
    GradientMode.isEnabled = false
    defer { GradientMode.isEnabled = previous }
    return try body()
}

/// Runs `body` with gradient recording set to `enabled`.
public func withGradientMode<Result>(_ enabled: Bool, _ body: () throws -> Result) rethrows -> Result {
    let previous = GradientMode.isEnabled
    GradientMode.isEnabled = enabled
    defer { GradientMode.isEnabled = previous }
    return try body()
}

extension Tensor {
    /// Attaches a backward rule to `output` when any input requires gradients and recording is on.
    ///
    /// A rule that needs the output's own values (exp, sqrt, tanh, sigmoid, …) must capture it
    /// `[unowned y]`: the node hangs off the output, so a strong capture is a retain cycle that keeps
    /// the whole graph, and every buffer in it, alive forever. That leak grew the reference MLP
    /// benchmark to 1.5 GB and made every step fault in fresh pages (16% of its time in the
    /// kernel's page clearing). `unowned` is safe because the engine only runs a rule while it
    /// holds the output.
    @discardableResult
    func recorded(_ operation: String, inputs: [Tensor], backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        guard GradientMode.isEnabled, inputs.contains(where: \.requiresGrad) else { return self }
        gradientNode = GradientNode(operation: operation, inputs: inputs, backward: backward)
        requiresGrad = true
        return self
    }

    /// The name of the operation that produced this tensor (`nil` for leaves).
    public var operationName: String? { gradientNode?.operation }

    /// A differentiable operation defined outside the tensor core: a fresh tensor that shares
    /// `output`'s storage and whose gradient rule is `backward`.
    ///
    /// Use it when an op's gradient is cheaper or more exact to compute by hand than through the
    /// graph of its forward pass — the adjoint method of neural ODEs, implicit layers. Compute
    /// `output` however you like (usually under ``withoutGradients(_:)``); `backward` receives the
    /// gradient with respect to the output and returns one gradient per input, shaped like it
    /// (`nil` where an input gets none). The rule runs with recording set as the backward pass asks
    /// (`createGraph`); a rule built from tensor ops is then differentiable again. Nothing is
    /// recorded when recording is off or no input requires gradients.
    ///
    /// ```swift
    /// // y = x³ with a hand-written rule.
    /// let y = Tensor.customOperation("cube", output: withoutGradients { x * x * x }, inputs: [x]) { g in
    ///     [g * 3 * x * x]
    /// }
    /// ```
    public static func customOperation(_ name: String, output: Tensor, inputs: [Tensor],
                                       backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        Tensor(shape: output.shape, storage: output.storage).recorded(name, inputs: inputs) { gradient in
            let gradients = backward(gradient)
            check(gradients.count == inputs.count, name, "backward returned \(gradients.count) gradients for \(inputs.count) inputs")
            for (input, gradient) in zip(inputs, gradients) {
                if let gradient {
                    check(gradient.shape == input.shape, name, "gradient shape \(gradient.shape) differs from input shape \(input.shape)")
                }
            }
            return gradients
        }
    }

    /// The recorded graph behind this tensor: how many operations it holds and how many elements
    /// their inputs keep alive (each tensor counted once). Deterministic, so tests can pin how a
    /// computation's memory grows (the adjoint method's stays flat).
    public var recordedGraphSize: (operations: Int, retainedElements: Int) {
        var operations = 0, elements = 0
        var seen: Set<ObjectIdentifier> = [ObjectIdentifier(self)]
        var stack: [Tensor] = [self]
        while let tensor = stack.popLast() {
            guard let node = tensor.gradientNode else { continue }
            operations += 1
            for input in node.inputs where seen.insert(ObjectIdentifier(input)).inserted {
                elements += input.count
                stack.append(input)
            }
        }
        return (operations, elements)
    }
}

// MARK: - Backward

extension Tensor {
    /// Accumulates d(self)/d(leaf) into `grad` of every leaf that requires gradients.
    ///
    /// - Parameters:
    ///   - seed: the gradient of some scalar with respect to `self`; defaults to 1 for a scalar.
    ///   - createGraph: record the backward computation so the gradients can be differentiated again.
    public func backward(seed: Tensor? = nil, createGraph: Bool = false) {
        _ = runBackward(seed: seed, createGraph: createGraph, targets: nil)
    }

    /// The gradients of `output` with respect to each of `inputs`, without touching `.grad`.
    ///
    /// With `createGraph: true` the results are differentiable (higher-order gradients). An input
    /// that `output` does not depend on gets zeros.
    public static func gradients(of output: Tensor, withRespectTo inputs: [Tensor],
                                 seed: Tensor? = nil, createGraph: Bool = false) -> [Tensor] {
        let found = output.runBackward(seed: seed, createGraph: createGraph, targets: inputs)
        return inputs.map { found[ObjectIdentifier($0)] ?? Tensor.zeros($0.shape) }
    }

    /// The reverse sweep. With `targets == nil` it accumulates into `.grad` of leaves and fires
    /// their hooks; otherwise it returns the gradients of the `targets` (leaves or not).
    private func runBackward(seed: Tensor?, createGraph: Bool, targets: [Tensor]?) -> [ObjectIdentifier: Tensor] {
        check(requiresGrad, "backward", "the tensor does not require gradients (no input requires them, or it was made without recording)")
        let seedGradient: Tensor
        if let seed {
            check(seed.shape == shape, "backward", "seed shape \(seed.shape) differs from output shape \(shape)")
            seedGradient = seed
        } else {
            check(count == 1, "backward", "a seed gradient is needed for a non-scalar output of shape \(shape)")
            seedGradient = Tensor.ones(shape)
        }
        let targetIDs = targets.map { Set($0.map(ObjectIdentifier.init)) }

        // Topological order of the recorded tensors reachable from self, and how many edges reach
        // each leaf (a leaf's gradient is final once all of them have been processed).
        var order: [Tensor] = []
        var visited: Set<ObjectIdentifier> = []
        var pendingLeafEdges: [ObjectIdentifier: Int] = [:]
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (tensor, expanded) = stack.popLast() {
            if expanded { order.append(tensor); continue }
            let id = ObjectIdentifier(tensor)
            if visited.contains(id) { continue }
            visited.insert(id)
            guard let node = tensor.gradientNode else { continue }
            stack.append((tensor, true))
            for input in node.inputs where input.requiresGrad {
                if input.gradientNode == nil {
                    pendingLeafEdges[ObjectIdentifier(input), default: 0] += 1
                } else if !visited.contains(ObjectIdentifier(input)) {
                    stack.append((input, false))
                }
            }
        }

        return withGradientMode(createGraph) {
            var gradients: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seedGradient]
            var found: [ObjectIdentifier: Tensor] = [:]
            var leaves: [ObjectIdentifier: Tensor] = [:]
            for tensor in order.reversed() {
                let id = ObjectIdentifier(tensor)
                guard let node = tensor.gradientNode, let outputGradient = gradients.removeValue(forKey: id) else { continue }
                if let targetIDs, targetIDs.contains(id) { found[id] = outputGradient }
                let inputGradients = node.backward(outputGradient)
                assert(inputGradients.count == node.inputs.count, "\(node.operation): wrong number of gradients")
                for (input, gradient) in zip(node.inputs, inputGradients) where input.requiresGrad {
                    let inputID = ObjectIdentifier(input)
                    if input.gradientNode != nil || targetIDs != nil {
                        // Inner tensors (and, in functional mode, leaves) collect into the map.
                        if let gradient { gradients[inputID] = gradients[inputID].map { $0 + gradient } ?? gradient }
                        continue
                    }
                    if let gradient {
                        // `.grad` must own its storage: optimizers and allreduce update it in place.
                        let contribution = createGraph ? gradient : gradient.detached()
                        input.grad = input.grad.map { $0 + contribution } ?? contribution.copyKeepingGraph()
                    }
                    leaves[inputID] = input
                    pendingLeafEdges[inputID]! -= 1
                    if pendingLeafEdges[inputID] == 0 { input.gradientReadyHook?(input) }
                }
            }
            if let targetIDs {
                for id in targetIDs where found[id] == nil { found[id] = gradients[id] }
            } else {
                // Leaves some of whose consumers received no gradient are final now.
                for (id, remaining) in pendingLeafEdges where remaining > 0 { leaves[id]?.gradientReadyHook?(leaves[id]!) }
            }
            return found
        }
    }

    /// A copy that stays differentiable when recording is on (for `createGraph`).
    fileprivate func copyKeepingGraph() -> Tensor {
        GradientMode.isEnabled && requiresGrad ? self * Tensor(1) : copy()
    }
}
