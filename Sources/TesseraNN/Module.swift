import TesseraTensor

/// A piece of a network: a `final class` whose stored properties hold its parameters, buffers and
/// sub-modules.
///
/// Nothing is registered. Parameters are found by walking the stored properties (with `Mirror`):
/// a stored `Tensor` is a parameter, a stored ``Buffer`` is saved state that is not optimized
/// (running statistics), and a stored module is walked in turn. Arrays, optionals and dictionaries
/// of these are walked too. Each is named by its dotted path — `encoder.layers.0.weight` — and
/// that name is also its checkpoint key.
///
/// ```swift
/// final class Policy: Module {
///     let trunk: MLP
///     let head: Linear
///     init(generator: inout RandomGenerator) {
///         trunk = MLP(sizes: [8, 64, 64], activation: .tanh, generator: &generator)
///         head = Linear(64, 4, generator: &generator)
///     }
///     func callAsFunction(_ x: Tensor) -> Tensor { head(trunk(x).tanh()) }
/// }
/// policy.namedParameters().map(\.name)  // ["trunk.layers.0.weight", …, "head.bias"]
/// ```
///
/// Parameters are updated in place (optimizers write into their storage), so a module never
/// needs to replace a stored tensor; a tensor that is not a parameter should not be stored as a
/// `Tensor` property (store a ``Buffer``, or compute it in the forward pass).
public protocol Module: AnyObject {}

/// A module that maps one tensor to one tensor, so it can be chained in a ``Sequential``.
public protocol Layer: Module {
    func callAsFunction(_ input: Tensor) -> Tensor
}

/// Saved, not optimized, state of a module: batch norm's running statistics.
///
/// A wrapper class (rather than a naming convention) keeps the split visible in the declaration:
/// `let runningMean: Buffer` can never be picked up by an optimizer.
public final class Buffer {
    /// The values; updated in place (`value.assign(_:)` or through `value.storage.pointer`).
    public let value: Tensor

    public init(_ value: Tensor) {
        self.value = value
    }
}

/// Whether a module computes as during training or as during evaluation.
public enum ModuleMode: String, Codable, Sendable {
    case training
    case evaluation
}

/// A module whose forward pass differs between training and evaluation (dropout, batch norm).
public protocol ModeDependentModule: Module {
    var mode: ModuleMode { get set }
}

/// A module that draws random numbers in its forward pass and keeps its own generator, so its
/// stream is part of the module's state and can be checkpointed (dropout).
public protocol RandomizedModule: Module {
    var generator: RandomGenerator { get set }
}

// MARK: - Walking the tree

/// One thing found while walking a module's stored properties.
enum ModuleMember {
    case parameter(Tensor)
    case buffer(Buffer)
    case module(Module)
}

extension Module {
    /// Calls `body` with the dotted name of every parameter, buffer and sub-module (not `self`),
    /// in declaration order, depth first. An object reached twice (a tied weight, a shared
    /// sub-module) is reported once, under its first name, as PyTorch's `named_parameters` does.
    func walkMembers(_ body: (String, ModuleMember) -> Void) {
        var seen: Set<ObjectIdentifier> = [ObjectIdentifier(self)]
        walkProperties(of: self, prefix: "", seen: &seen, body)
    }
}

private func walkProperties(of object: AnyObject, prefix: String, seen: inout Set<ObjectIdentifier>,
                            _ body: (String, ModuleMember) -> Void) {
    var mirror: Mirror? = Mirror(reflecting: object)
    var levels: [Mirror] = []
    while let current = mirror {
        levels.insert(current, at: 0)  // superclass properties first, as declared
        mirror = current.superclassMirror
    }
    for level in levels {
        for child in level.children {
            guard let label = child.label, !label.hasPrefix("$") else { continue }
            walkValue(child.value, name: prefix + label, seen: &seen, body)
        }
    }
}

private func walkValue(_ value: Any, name: String, seen: inout Set<ObjectIdentifier>,
                       _ body: (String, ModuleMember) -> Void) {
    if let tensor = value as? Tensor {
        if seen.insert(ObjectIdentifier(tensor)).inserted { body(name, .parameter(tensor)) }
        return
    }
    if let buffer = value as? Buffer {
        if seen.insert(ObjectIdentifier(buffer)).inserted { body(name, .buffer(buffer)) }
        return
    }
    if let module = value as? Module {
        guard seen.insert(ObjectIdentifier(module)).inserted else { return }
        body(name, .module(module))
        walkProperties(of: module, prefix: name + ".", seen: &seen, body)
        return
    }
    let mirror = Mirror(reflecting: value)
    switch mirror.displayStyle {
    case .optional?:
        if let wrapped = mirror.children.first { walkValue(wrapped.value, name: name, seen: &seen, body) }
    case .collection?:
        for (index, element) in mirror.children.enumerated() {
            walkValue(element.value, name: "\(name).\(index)", seen: &seen, body)
        }
    case .dictionary?:
        // Entries are (key, value) pairs; sorted by key so names do not depend on hashing.
        let entries = mirror.children.compactMap { entry -> (String, Any)? in
            let pair = Array(Mirror(reflecting: entry.value).children)
            return pair.count == 2 ? ("\(pair[0].value)", pair[1].value) : nil
        }
        for (key, element) in entries.sorted(by: { $0.0 < $1.0 }) {
            walkValue(element, name: "\(name).\(key)", seen: &seen, body)
        }
    default:
        return
    }
}

// MARK: - Parameters, buffers, sub-modules

extension Module {
    /// Every parameter with its dotted name, in declaration order.
    public func namedParameters() -> [(name: String, parameter: Tensor)] {
        var result: [(name: String, parameter: Tensor)] = []
        walkMembers { name, member in
            if case .parameter(let tensor) = member { result.append((name, tensor)) }
        }
        return result
    }

    /// Every parameter, in declaration order.
    public func parameters() -> [Tensor] {
        namedParameters().map(\.parameter)
    }

    /// Every buffer's tensor with its dotted name (saved in checkpoints, never optimized).
    public func namedBuffers() -> [(name: String, buffer: Tensor)] {
        var result: [(name: String, buffer: Tensor)] = []
        walkMembers { name, member in
            if case .buffer(let buffer) = member { result.append((name, buffer.value)) }
        }
        return result
    }

    /// `self` (named `""`) and every sub-module with its dotted name.
    public func namedModules() -> [(name: String, module: Module)] {
        var result: [(name: String, module: Module)] = [("", self)]
        walkMembers { name, member in
            if case .module(let module) = member { result.append((name, module)) }
        }
        return result
    }

    /// The number of scalars in all parameters.
    public var parameterCount: Int {
        parameters().reduce(0) { $0 + $1.count }
    }
}
