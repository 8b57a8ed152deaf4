import Yams

extension Recipe {
    /// The recipe after overrides as canonical YAML: keys sorted, comments and formatting dropped.
    ///
    /// This is the text the coordinator sends to workers and a checkpoint stores, so a run can be
    /// reproduced exactly: decoding it again yields the same config, and two recipes that differ
    /// only in key order or comments produce the same text.
    public func canonicalYAML() throws -> String {
        do {
            return try Yams.serialize(node: root, sortKeys: true)
        } catch {
            throw RecipeError(file: file, message: "cannot write the recipe as YAML: \(error)")
        }
    }
}
