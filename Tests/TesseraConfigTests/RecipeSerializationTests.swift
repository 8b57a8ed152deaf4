import Foundation
import Testing
import TesseraConfig

@Suite struct RecipeSerializationTests {
    @Test func canonicalYAMLDecodesToTheSameConfig() throws {
        var recipe = try Recipe(yaml: mlpRecipe, file: "configs/mlp.yaml")
        try recipe.apply(overrides: ["optimizer.learningRate=0.01", "model.hidden=[128,128]"])
        let original = try recipe.decode(ExperimentConfig.self)
        let text = try recipe.canonicalYAML()
        let reloaded = try Recipe(yaml: text, file: "checkpoint").decode(ExperimentConfig.self)
        #expect(reloaded == original)
        #expect(reloaded.optimizer.learningRate == 0.01)
        #expect(reloaded.tags == ["baseline", "2024"])
    }

    @Test func canonicalYAMLIgnoresKeyOrderAndComments() throws {
        let first = try Recipe(yaml: "# comment\nb: 1\na:\n  y: [1, 2]\n  x: 'q'\n", file: "first.yaml")
        let second = try Recipe(yaml: "a: {x: 'q', y: [1, 2]}\nb: 1   # trailing\n", file: "second.yaml")
        #expect(try first.canonicalYAML() == second.canonicalYAML())
        #expect(try first.canonicalYAML().hasPrefix("a:"))
    }

    @Test func canonicalYAMLIsStableWhenReparsed() throws {
        let text = try Recipe(yaml: mlpRecipe, file: "configs/mlp.yaml").canonicalYAML()
        #expect(try Recipe(yaml: text, file: "again").canonicalYAML() == text)
    }

    @Test func loadRecipeReadsFileAndAppliesOverrides() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-recipe-\(UUID()).yaml")
        try mlpRecipe.write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        let recipe = try loadRecipe(path: url.path, overrides: ["data.batchSize=64"])
        #expect(try recipe.decode(ExperimentConfig.self).data.batchSize == 64)
        #expect(try recipe.canonicalYAML().contains("batchSize: 64"))
        let error = try #require(throws: RecipeError.self) {
            try loadRecipe(ExperimentConfig.self, path: url.path, overrides: ["data.batchSize=big"])
        }
        #expect(error.file == "--set data.batchSize=big")
    }

    @Test func errorsInLoadedFileNameThePath() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-recipe-\(UUID()).yaml")
        try mlpRecipe(replacingLine: 11, with: "learningRate: fast").write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        let error = try #require(throws: RecipeError.self) { try loadRecipe(ExperimentConfig.self, path: url.path) }
        #expect(error.file == url.path)
        #expect(error.line == 11)
    }
}
