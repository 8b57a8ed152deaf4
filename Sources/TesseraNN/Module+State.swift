import TesseraTensor

/// Why `loadStateDictionary` refused a state dictionary. Nothing is loaded when it throws.
public struct StateDictionaryError: Error, CustomStringConvertible, Equatable {
    /// Keys the module has but the dictionary lacks.
    public var missingKeys: [String]
    /// Keys the dictionary has but the module does not.
    public var unexpectedKeys: [String]
    /// Keys present on both sides whose shapes differ.
    public var shapeMismatches: [ShapeMismatch]

    public struct ShapeMismatch: Equatable, Sendable {
        public var key: String
        public var expected: [Int]
        public var found: [Int]
    }

    public var description: String {
        var lines = ["cannot load state dictionary:"]
        if !missingKeys.isEmpty { lines.append("  missing keys: \(missingKeys.joined(separator: ", "))") }
        if !unexpectedKeys.isEmpty { lines.append("  unexpected keys: \(unexpectedKeys.joined(separator: ", "))") }
        for mismatch in shapeMismatches {
            lines.append("  \(mismatch.key): the module has shape \(mismatch.expected), the dictionary \(mismatch.found)")
        }
        return lines.joined(separator: "\n")
    }
}

// MARK: - State dictionary

extension Module {
    /// Parameters and buffers by dotted name: what a checkpoint stores. The tensors share storage
    /// with the module; copy them to keep a snapshot.
    public func stateDictionary() -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        walkMembers { name, member in
            switch member {
            case .parameter(let tensor): result[name] = tensor
            case .buffer(let buffer): result[name] = buffer.value
            case .module: break
            }
        }
        return result
    }

    /// Copies values into the parameters and buffers of the same names, in place.
    ///
    /// - Parameters:
    ///   - dictionary: tensors by dotted name, as ``stateDictionary()`` returns them or a
    ///     checkpoint stores them. The values are copied; the module keeps its own storage.
    ///   - strict: when `true` (the default), every key of the module must be in
    ///     `dictionary` and nothing else may be. Shapes must match either way.
    /// - Throws: ``StateDictionaryError`` naming every missing or unexpected key and every shape
    ///   mismatch; nothing is copied then.
    public func loadStateDictionary(_ dictionary: [String: Tensor], strict: Bool = true) throws {
        let own = stateDictionary()
        var error = StateDictionaryError(missingKeys: [], unexpectedKeys: [], shapeMismatches: [])
        if strict {
            error.missingKeys = own.keys.filter { dictionary[$0] == nil }.sorted()
            error.unexpectedKeys = dictionary.keys.filter { own[$0] == nil }.sorted()
        }
        for (key, target) in own.sorted(by: { $0.key < $1.key }) {
            if let source = dictionary[key], source.shape != target.shape {
                error.shapeMismatches.append(.init(key: key, expected: target.shape, found: source.shape))
            }
        }
        guard error.missingKeys.isEmpty, error.unexpectedKeys.isEmpty, error.shapeMismatches.isEmpty else { throw error }
        for (key, target) in own {
            if let source = dictionary[key] { target.assign(source) }
        }
    }
}

// MARK: - Modes, freezing, gradients

extension Module {
    /// Puts every mode-dependent module in the tree (dropout, batch norm) in training mode
    /// (`true`) or evaluation mode (`false`).
    public func train(_ training: Bool = true) {
        for (_, module) in namedModules() {
            (module as? ModeDependentModule)?.mode = training ? .training : .evaluation
        }
    }

    /// Evaluation mode for the whole tree: dropout off, batch norm uses running statistics.
    public func eval() {
        train(false)
    }

    /// Whether the tree is in training mode: the mode of its first mode-dependent module. A tree
    /// without one computes the same either way and reports `true`.
    public var isTraining: Bool {
        for (_, module) in namedModules() {
            if let dependent = module as? ModeDependentModule { return dependent.mode == .training }
        }
        return true
    }

    /// Stops gradients from flowing into every parameter (fine-tuning a head on a frozen trunk).
    public func freeze() {
        for parameter in parameters() { parameter.requiresGrad = false }
    }

    /// Lets gradients flow into every parameter again.
    public func unfreeze() {
        for parameter in parameters() { parameter.requiresGrad = true }
    }

    /// Drops every parameter's gradient (PyTorch's `zero_grad(set_to_none=True)`): the next
    /// `backward()` writes fresh gradients instead of adding to zeros.
    public func zeroGradients() {
        for parameter in parameters() { parameter.grad = nil }
    }
}

// MARK: - Random generators

extension Module {
    /// The generator of every randomized module (dropout) by the module's dotted name, for a
    /// checkpoint to store next to the state dictionary.
    public func namedGenerators() -> [String: RandomGenerator] {
        var result: [String: RandomGenerator] = [:]
        for (name, module) in namedModules() {
            if let randomized = module as? RandomizedModule { result[name] = randomized.generator }
        }
        return result
    }

    /// Restores generators saved by ``namedGenerators()``; names not in the tree are ignored.
    public func loadGenerators(_ generators: [String: RandomGenerator]) {
        for (name, module) in namedModules() {
            if let randomized = module as? RandomizedModule, let saved = generators[name] { randomized.generator = saved }
        }
    }

    /// Gives the k-th randomized module of the tree the stream `generator.derived(stream: k)`, so
    /// a whole model is seeded from one generator (and each rank can pass its own).
    public func seedGenerators(from generator: RandomGenerator) {
        var index: UInt64 = 0
        for (_, module) in namedModules() {
            if let randomized = module as? RandomizedModule {
                randomized.generator = generator.derived(stream: index)
                index += 1
            }
        }
    }
}
