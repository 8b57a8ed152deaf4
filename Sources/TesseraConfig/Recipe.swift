import Yams

/// One recipe as a YAML node tree: the file's contents plus any `--set` overrides, before it is
/// decoded into typed config structs.
///
/// The tree keeps each node's line (`Node.mark`), so every later error can name the line it came
/// from; values written by `--set` remember their argument instead, since they have no line.
///
///     var recipe = try Recipe(yaml: text, file: "configs/mlp.yaml")
///     try recipe.apply(overrides: ["optimizer.learningRate=0.01"])
///     let config = try recipe.decode(ExperimentConfig.self)
///     let storedInCheckpoint = try recipe.canonicalYAML()
public struct Recipe {
    /// The file the recipe was read from, exactly as error messages should show it.
    public let file: String
    /// The top-level mapping, after overrides.
    public internal(set) var root: Node
    /// The `--set` argument that last wrote each dotted key path (including mappings it had to create).
    /// Errors at or below one of these paths name the argument rather than a line of `file`.
    var overrideArguments: [String: String] = [:]

    /// Parses `yaml`; `file` is used only in error messages.
    ///
    /// - Throws: `RecipeError` for YAML syntax errors, duplicate keys, an empty document, or a top
    ///   level that is not a mapping.
    public init(yaml: String, file: String) throws {
        self.file = file
        self.root = try parseRecipeRoot(yaml: yaml, file: file)
    }
}

// MARK: - Finding nodes and their locations

extension Recipe {
    /// The node at a path of keys and list indices (`["model", "layers", "1"]`), if it exists.
    func node(at path: [String]) -> Node? {
        var node = root
        for component in path {
            guard let child = node.child(named: component) else { return nil }
            node = child.value
        }
        return node
    }

    /// The line that best explains the value at `path`: the line of its key (or list item), or,
    /// when the path does not exist (a missing key, a default value), the line of its deepest
    /// existing ancestor. `nil` for the top level, which has no single line.
    func line(of path: [String]) -> Int? {
        var node = root
        var line: Int?
        for component in path {
            guard let child = node.child(named: component) else { return line }
            line = child.mark?.line ?? line
            node = child.value
        }
        return line
    }

    /// An error located at `path`: in the `--set` argument that wrote it, else at its line in the file.
    func error(at path: [String], _ message: String, suggestion: String? = nil) -> RecipeError {
        let keyPath = path.joined(separator: ".")
        for length in stride(from: path.count, through: 1, by: -1) {
            let prefix = path.prefix(length).joined(separator: ".")
            if let argument = overrideArguments[prefix] {
                return RecipeError(
                    file: "--set \(argument)", keyPath: keyPath, message: message, suggestion: suggestion)
            }
        }
        return RecipeError(
            file: file, line: line(of: path), keyPath: keyPath, message: message, suggestion: suggestion)
    }
}

extension Node {
    /// The value under a mapping key or at a list index, with the mark that locates it
    /// (the key's mark for mappings, so a line points at `learningRate:` rather than its value).
    func child(named component: String) -> (value: Node, mark: Mark?)? {
        switch self {
        case .mapping(let mapping):
            guard let pair = mapping.first(where: { $0.key.scalar?.string == component }) else { return nil }
            return (pair.value, pair.key.mark)
        case .sequence(let sequence):
            guard let index = Int(component), sequence.indices.contains(index) else { return nil }
            return (sequence[index], sequence[index].mark)
        case .scalar, .alias:
            return nil
        }
    }
}
