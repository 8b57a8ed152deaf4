import Testing
import TesseraConfig

@Suite struct RecipeOverrideTests {
    @Test func setsScalar() throws {
        let config = try decodeExperiment(mlpRecipe, overrides: ["optimizer.learningRate=0.01"])
        #expect(config.optimizer.learningRate == 0.01)
    }

    @Test func setsList() throws {
        let config = try decodeExperiment(mlpRecipe, overrides: ["model.hidden=[128,128,256]"])
        #expect(config.model.hidden == [128, 128, 256])
    }

    @Test func setsStringAndEnum() throws {
        let config = try decodeExperiment(mlpRecipe, overrides: ["data.name=spirals", "optimizer.kind=sgd"])
        #expect(config.data.name == "spirals")
        #expect(config.optimizer.kind == .sgd)
    }

    @Test func addsOptionalKeyToExistingMapping() throws {
        let config = try decodeExperiment(mlpRecipe, overrides: ["model.dropout=0.1"])
        #expect(config.model.dropout == 0.1)
    }

    @Test func createsMissingNestedMapping() throws {
        let withoutTraining = mlpRecipe(replacingLine: 18, with: "# no training section")
            .replacingOccurrences(of: "  steps: 10_000\n  logEvery: 100\n", with: "")
        #expect(try decodeExperiment(withoutTraining).training == nil)
        let config = try decodeExperiment(withoutTraining, overrides: ["training.steps=5", "training.logEvery=1"])
        #expect(config.training == TrainingConfig(steps: 5, logEvery: 1, warmupFraction: nil))
    }

    @Test func indexesIntoLists() throws {
        let config = try decodeExperiment(mlpRecipe, overrides: ["model.layers.1.width=16"])
        #expect(config.model.layers?.map(\.width) == [64, 16])
    }

    @Test func laterOverrideWins() throws {
        let config = try decodeExperiment(
            mlpRecipe, overrides: ["optimizer.learningRate=0.1", "optimizer.learningRate=0.2"])
        #expect(config.optimizer.learningRate == 0.2)
    }

    @Test func pathThroughScalarIsAnError() throws {
        let error = try #require(throws: RecipeError.self) {
            try decodeExperiment(mlpRecipe, overrides: ["optimizer.learningRate.value=1"])
        }
        #expect(error.file == "--set optimizer.learningRate.value=1")
        #expect(error.keyPath == "optimizer.learningRate")
        #expect(error.message.contains("is a scalar"))
    }

    @Test func indexPastEndOfListIsAnError() throws {
        let error = try #require(throws: RecipeError.self) {
            try decodeExperiment(mlpRecipe, overrides: ["model.layers.5.width=16"])
        }
        #expect(error.keyPath == "model.layers")
        #expect(error.message == "'5' is not an index of this list of 2 items")
    }

    @Test func unknownKeyFromOverrideNamesTheArgument() throws {
        let error = try #require(throws: RecipeError.self) {
            try decodeExperiment(mlpRecipe, overrides: ["optimizer.learningRat=0.01"])
        }
        #expect(error.line == nil)
        #expect(error.description
            == "--set optimizer.learningRat=0.01: optimizer.learningRat: unknown key (did you mean 'learningRate'?)")
    }

    @Test func wrongTypeFromOverrideNamesTheArgument() throws {
        let error = try #require(throws: RecipeError.self) {
            try decodeExperiment(mlpRecipe, overrides: ["optimizer.learningRate=fast"])
        }
        #expect(error.description
            == "--set optimizer.learningRate=fast: optimizer.learningRate: expected a number, found 'fast'")
    }

    @Test func argumentWithoutEqualsSignIsAnError() throws {
        let error = try #require(throws: RecipeError.self) {
            try decodeExperiment(mlpRecipe, overrides: ["optimizer.learningRate"])
        }
        #expect(error.description == "--set optimizer.learningRate: expected key.path=value")
    }

    @Test func emptyPathComponentIsAnError() throws {
        let error = try #require(throws: RecipeError.self) { try RecipeOverride("optimizer..learningRate=1") }
        #expect(error.message.contains("empty key"))
    }

    @Test func unparsableValueIsAnError() throws {
        let error = try #require(throws: RecipeError.self) { try RecipeOverride("model.hidden=[1, 2") }
        #expect(error.file == "--set model.hidden=[1, 2")
        #expect(error.message.contains("cannot parse"))
    }

    @Test func valuesFromFileKeepTheirLinesAfterUnrelatedOverride() throws {
        let yaml = mlpRecipe(replacingLine: 15, with: "batchSize: many")
        let error = try #require(throws: RecipeError.self) {
            try decodeExperiment(yaml, overrides: ["optimizer.learningRate=0.01"])
        }
        #expect(error.file == "configs/mlp.yaml")
        #expect(error.line == 15)
    }
}
