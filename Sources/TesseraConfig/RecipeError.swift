/// A problem with a recipe, pointing at where it came from so the fix is one glance away.
///
/// Every failure of this module (missing file, YAML syntax, unknown key, wrong type, missing key,
/// out-of-range value, bad `--set`) is a `RecipeError`, and its description is one line:
///
///     configs/mlp.yaml:7: optimizer.learningRat: unknown key (did you mean 'learningRate'?)
///     --set optimizer.learningRate=fast: optimizer.learningRate: expected a number, found 'fast'
public struct RecipeError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The recipe file (`configs/mlp.yaml`), or `--set key=value` when the value came from the command line.
    public var file: String
    /// The 1-based line in `file`; `nil` when there is no line (command-line values, a missing file).
    public var line: Int?
    /// Dotted path to the offending value (`optimizer.learningRate`, `model.layers.1.width`); empty for the whole file.
    public var keyPath: String
    /// What is wrong, e.g. `expected a number, found 'fast'`.
    public var message: String
    /// The closest valid key or value, when the mistake looks like a misspelling.
    public var suggestion: String?

    public init(file: String, line: Int? = nil, keyPath: String = "", message: String, suggestion: String? = nil) {
        self.file = file
        self.line = line
        self.keyPath = keyPath
        self.message = message
        self.suggestion = suggestion
    }

    /// `file:line: keyPath: message (did you mean 'x'?)`, leaving out the parts that are absent.
    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        text += ": "
        if !keyPath.isEmpty { text += keyPath + ": " }
        text += message
        if let suggestion { text += " (did you mean '\(suggestion)'?)" }
        return text
    }
}
