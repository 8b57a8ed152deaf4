import Yams

/// Command-line overrides: `--set optimizer.learningRate=0.01` changes one value of a recipe
/// before it is decoded, so a sweep does not need a file per variant.

/// One parsed `--set key.path=value` argument.
///
/// The value is read as YAML, so it keeps YAML's types: `0.01` is a number, `[128, 128]` a list,
/// `{kind: adam}` a mapping, `moons` a string, `'42'` the string "42", and an empty value is null.
/// The path is dotted; a numeric component indexes into an existing list (`model.layers.1.width=64`).
public struct RecipeOverride {
    /// The argument as given (without `--set`), for error messages.
    public let argument: String
    /// The key path, split at dots.
    public let path: [String]
    /// The parsed value.
    public let value: Node

    /// Parses `key.path=value`.
    ///
    /// - Throws: `RecipeError` naming the argument when `=` is missing, the path has an empty
    ///   component, or the value is not valid YAML.
    public init(_ argument: String) throws {
        self.argument = argument
        let source = "--set \(argument)"
        guard let equalsIndex = argument.firstIndex(of: "=") else {
            throw RecipeError(file: source, message: "expected key.path=value")
        }
        let keyPath = String(argument[..<equalsIndex])
        path = keyPath.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !path.contains(where: \.isEmpty) else {
            throw RecipeError(file: source, keyPath: keyPath, message: "empty key in path '\(keyPath)'")
        }
        let valueText = String(argument[argument.index(after: equalsIndex)...])
        do {
            value = try Yams.compose(yaml: valueText) ?? Node("null")
        } catch {
            throw RecipeError(file: source, keyPath: keyPath, message: "cannot parse value '\(valueText)' as YAML")
        }
    }
}

extension Recipe {
    /// Applies `--set` arguments in order (a later one wins), before decoding.
    ///
    /// A path into missing mappings creates them; a path through a scalar or past the end of a list
    /// is an error. Keys introduced here are checked like any other: an unknown one is reported as
    /// coming from its `--set` argument.
    public mutating func apply(overrides: [String]) throws {
        for argument in overrides {
            try apply(RecipeOverride(argument))
        }
    }

    /// Applies one parsed override.
    public mutating func apply(_ override: RecipeOverride) throws {
        var createdPaths: [[String]] = []
        root = try replacing(in: root, at: override.path[...], with: override.value,
                             override: override, createdPaths: &createdPaths)
        for path in createdPaths + [override.path] {
            overrideArguments[path.joined(separator: ".")] = override.argument
        }
    }

    /// `node` with the value at `remainingPath` replaced by `value`.
    private func replacing(
        in node: Node?, at remainingPath: ArraySlice<String>, with value: Node,
        override: RecipeOverride, createdPaths: inout [[String]]
    ) throws -> Node {
        guard let component = remainingPath.first else { return value }
        let rest = remainingPath.dropFirst()
        let currentPath = Array(override.path[..<remainingPath.startIndex])
        switch node {
        case nil:
            createdPaths.append(currentPath)
            let child = try replacing(in: nil, at: rest, with: value, override: override, createdPaths: &createdPaths)
            return Node([(Node(component), child)])
        case .mapping(var mapping)?:
            if let index = mapping.firstIndex(where: { $0.key.scalar?.string == component }) {
                let child = try replacing(in: mapping[index].value, at: rest, with: value,
                                          override: override, createdPaths: &createdPaths)
                mapping[index] = (key: mapping[index].key, value: child)
                return .mapping(mapping)
            }
            let child = try replacing(in: nil, at: rest, with: value, override: override, createdPaths: &createdPaths)
            let pairs = mapping.map { ($0.key, $0.value) } + [(Node(component), child)]
            return .mapping(Node.Mapping(pairs, mapping.tag, mapping.style, mapping.mark))
        case .sequence(var sequence)?:
            guard let index = Int(component), sequence.indices.contains(index) else {
                throw overrideError(override, currentPath,
                                    "'\(component)' is not an index of this list of \(sequence.count) items")
            }
            sequence[index] = try replacing(in: sequence[index], at: rest, with: value,
                                            override: override, createdPaths: &createdPaths)
            return .sequence(sequence)
        case .scalar?, .alias?:
            throw overrideError(override, currentPath,
                                "is a scalar, so '\(override.path.joined(separator: "."))' cannot be set inside it")
        }
    }

    private func overrideError(_ override: RecipeOverride, _ path: [String], _ message: String) -> RecipeError {
        RecipeError(file: "--set \(override.argument)", keyPath: path.joined(separator: "."), message: message)
    }
}
