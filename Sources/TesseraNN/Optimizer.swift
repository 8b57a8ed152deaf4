import TesseraTensor

/// A gradient-based update rule applied to a fixed list of named parameters.
///
/// An optimizer writes only its per-tensor rule, ``update(parameter:gradient:state:name:)``;
/// ``step()``, gradient zeroing and the state dictionary come from this protocol. State is kept
/// per parameter name (`state["layers.0.weight"]["exponentialAverage"]`), so it round-trips
/// through a checkpoint by the same keys as the model. Every parameter's state has a `step` slot
/// (a scalar counting that parameter's updates), as PyTorch keeps it.
///
/// ```swift
/// let optimizer = Adam(parameters: model.namedParameters(), learningRate: 1e-3)
/// for step in 0..<steps {
///     optimizer.learningRate = schedule.learningRate(atStep: step)
///     let loss = crossEntropy(logits: model(x), targets: y)
///     optimizer.zeroGradients()
///     loss.backward()
///     optimizer.step()
/// }
/// ```
///
/// Updates run in place on the parameters' storage, in tight loops with no tensor temporaries:
/// the optimizer step is on every training step's path.
public protocol Optimizer: AnyObject {
    /// The parameters this optimizer updates, with their names (from `Module.namedParameters()`).
    var parameters: [(name: String, parameter: Tensor)] { get }
    /// The step size of the next ``step()``; a schedule sets it before each step.
    var learningRate: Float { get set }
    /// Per-parameter slots by parameter name, then slot name. Created at a parameter's first update.
    var state: [String: [String: Tensor]] { get set }
    /// Names of the slots (besides `step`) that start as zeros shaped like the parameter.
    var slotNames: [String] { get }
    /// Updates `parameter` in place from `gradient`. `state["step"]` already counts this update.
    func update(parameter: Tensor, gradient: Tensor, state: [String: Tensor], name: String)
}

/// Why an optimizer refused a state dictionary.
public struct OptimizerStateError: Error, CustomStringConvertible, Equatable {
    public var description: String
}

extension Optimizer {
    /// Applies one update to every parameter that has a gradient; parameters without one (frozen,
    /// or unused by this loss) are skipped and keep their state unchanged.
    public func step() {
        withoutGradients {
            for (name, parameter) in parameters {
                guard let gradient = parameter.grad else { continue }
                precondition(gradient.shape == parameter.shape,
                             "\(Self.self): gradient shape \(gradient.shape) differs from parameter \(name) shape \(parameter.shape)")
                let slots = state[name] ?? makeSlots(for: parameter, name: name)
                slots["step"]!.storage.pointer[0] += 1
                update(parameter: parameter, gradient: gradient, state: slots, name: name)
            }
        }
    }

    private func makeSlots(for parameter: Tensor, name: String) -> [String: Tensor] {
        var slots = ["step": Tensor.zeros([])]
        for slot in slotNames { slots[slot] = Tensor.zeros(parameter.shape) }
        state[name] = slots
        return slots
    }

    /// Drops the gradients of this optimizer's parameters (cheaper than walking the module).
    public func zeroGradients() {
        for (_, parameter) in parameters { parameter.grad = nil }
    }

    /// The slots as a flat dictionary keyed `<parameter name>.<slot>` (`layers.0.weight.step`).
    public func stateDictionary() -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for (name, slots) in state {
            for (slot, tensor) in slots { result["\(name).\(slot)"] = tensor }
        }
        return result
    }

    /// Restores slots saved by ``stateDictionary()`` (copies, so later steps do not write into
    /// `dictionary`).
    /// - Throws: ``OptimizerStateError`` for a key naming no parameter or slot, or a wrong shape;
    ///   nothing is loaded then.
    public func loadStateDictionary(_ dictionary: [String: Tensor]) throws {
        let shapes = Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0.parameter.shape) })
        let known = Set(slotNames + ["step"])
        var loaded: [String: [String: Tensor]] = [:]
        for (key, tensor) in dictionary {
            guard let dot = key.lastIndex(of: "."), let shape = shapes[String(key[..<dot])],
                  known.contains(String(key[key.index(after: dot)...])) else {
                throw OptimizerStateError(description: "\(Self.self): state key \(key) names no parameter slot")
            }
            let name = String(key[..<dot]), slot = String(key[key.index(after: dot)...])
            let expected = slot == "step" ? [] : shape
            guard tensor.shape == expected else {
                throw OptimizerStateError(description: "\(Self.self): state \(key) has shape \(tensor.shape), expected \(expected)")
            }
            loaded[name, default: [:]][slot] = tensor.copy()
        }
        for (name, slots) in loaded where Set(slots.keys) != known {
            throw OptimizerStateError(description: "\(Self.self): state of \(name) has slots \(slots.keys.sorted()), expected \(known.sorted())")
        }
        state = loaded
    }
}

/// Pointers and element count for a per-tensor update loop.
@inline(__always)
func pointers(_ parameter: Tensor, _ gradient: Tensor) -> (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, Int) {
    (parameter.storage.pointer, gradient.storage.pointer, parameter.count)
}

/// The update count of a parameter's state, as an exponent for bias corrections.
@inline(__always)
func stepCount(_ state: [String: Tensor]) -> Float {
    state["step"]!.storage.pointer[0]
}
