import Foundation

/// Reads the recipe at `path` and applies `--set` overrides (`["optimizer.learningRate=0.01"]`).
///
/// Returns the `Recipe` rather than a config so the caller can both decode it and store its
/// `canonicalYAML()` in the checkpoint.
public func loadRecipe(path: String, overrides: [String] = []) throws -> Recipe {
    guard FileManager.default.fileExists(atPath: path) else {
        throw RecipeError(file: path, message: "no such recipe file")
    }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw RecipeError(file: path, message: "cannot read the recipe file")
    }
    guard let text = String(data: data, encoding: .utf8) else {
        throw RecipeError(file: path, message: "the recipe file is not UTF-8 text")
    }
    var recipe = try Recipe(yaml: text, file: path)
    try recipe.apply(overrides: overrides)
    return recipe
}

/// Reads, overrides and decodes in one step: `let config = try loadRecipe(ExperimentConfig.self, path: "configs/mlp.yaml")`.
public func loadRecipe<Value: Decodable>(_ type: Value.Type, path: String, overrides: [String] = []) throws -> Value {
    try loadRecipe(path: path, overrides: overrides).decode(type)
}
