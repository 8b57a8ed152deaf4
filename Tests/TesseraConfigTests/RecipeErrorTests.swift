import Foundation
import Testing
import TesseraConfig

/// The error text a user sees: file, line, key path, message and suggestion.
@Suite struct RecipeErrorTests {
    private func error(_ yaml: String) throws -> RecipeError {
        try #require(throws: RecipeError.self) { try decodeExperiment(yaml) }
    }

    // MARK: Unknown keys

    @Test func misspelledRequiredKeyIsReportedWithSuggestion() throws {
        let error = try error(mlpRecipe(replacingLine: 11, with: "learningRat: 0.001"))
        #expect(error.file == "configs/mlp.yaml")
        #expect(error.line == 11)
        #expect(error.suggestion == "learningRate")
        #expect(error.description == "configs/mlp.yaml:11: optimizer.learningRat: unknown key (did you mean 'learningRate'?)")
    }

    @Test func misspelledOptionalKeyIsReportedWithSuggestion() throws {
        let error = try error(mlpRecipe(insertingAfterLine: 12, "  nesterv: true"))
        #expect(error.description == "configs/mlp.yaml:13: optimizer.nesterv: unknown key (did you mean 'nesterov'?)")
    }

    @Test func unknownKeyInsideListElementNamesItsIndex() throws {
        let error = try error(mlpRecipe(insertingAfterLine: 8, "      bais: false"))
        #expect(error.description == "configs/mlp.yaml:9: model.layers.1.bais: unknown key (did you mean 'bias'?)")
    }

    @Test func unrelatedUnknownKeyHasNoSuggestion() throws {
        let error = try error(mlpRecipe(insertingAfterLine: 20, "  profiler: on"))
        #expect(error.line == 21)
        #expect(error.keyPath == "training.profiler")
        #expect(error.suggestion == nil)
    }

    // MARK: Wrong types

    @Test func stringForNumberNamesExpectedTypeAndValue() throws {
        let error = try error(mlpRecipe(replacingLine: 11, with: "learningRate: fast"))
        #expect(error.description == "configs/mlp.yaml:11: optimizer.learningRate: expected a number, found 'fast'")
    }

    @Test func fractionForIntegerIsRejected() throws {
        let error = try error(mlpRecipe(replacingLine: 15, with: "batchSize: 3.5"))
        #expect(error.description == "configs/mlp.yaml:15: data.batchSize: expected an integer, found '3.5'")
    }

    @Test func integerOutOfTypeRangeIsRejected() throws {
        let error = try error(mlpRecipe(replacingLine: 17, with: "seed: -1"))
        #expect(error.line == 17)
        #expect(error.message == "expected an integer in 0...18446744073709551615, found '-1'")
    }

    @Test func mappingForScalarIsRejected() throws {
        let error = try error(mlpRecipe(replacingLine: 4, with: "activation: {kind: relu}"))
        #expect(error.description == "configs/mlp.yaml:4: model.activation: expected a string, found a mapping")
    }

    @Test func scalarForListElementIsRejected() throws {
        let error = try error(mlpRecipe(replacingLine: 3, with: "hidden: [64, wide]"))
        #expect(error.keyPath == "model.hidden.1")
        #expect(error.message == "expected an integer, found 'wide'")
        #expect(error.line == 3)
    }

    @Test func yamlOneOneBooleansAreRejected() throws {
        let error = try error(mlpRecipe(replacingLine: 16, with: "shuffle: no"))
        #expect(error.description == "configs/mlp.yaml:16: data.shuffle: expected true or false, found 'no'")
    }

    @Test func quotedNumberIsNotANumber() throws {
        let error = try error(mlpRecipe(replacingLine: 11, with: "learningRate: \"0.1\""))
        #expect(error.message == "expected a number, found the quoted string \"0.1\"")
    }

    @Test func unknownEnumCaseListsValidCases() throws {
        let error = try error(mlpRecipe(replacingLine: 10, with: "kind: adamm"))
        #expect(error.line == 10)
        #expect(error.keyPath == "optimizer.kind")
        #expect(error.message == "unknown value 'adamm', expected one of 'sgd', 'adam', 'adamW'")
        #expect(error.suggestion == "adam")
    }

    // MARK: Missing keys

    @Test func missingRequiredKeyNamesPathAndEnclosingMappingLine() throws {
        let error = try error(mlpRecipe(replacingLine: 15, with: "# batch size forgotten"))
        #expect(error.description == "configs/mlp.yaml:13: data.batchSize: missing required key")
    }

    @Test func missingTopLevelKeyHasNoLine() throws {
        let error = try error("name: x\n")
        #expect(error.description == "configs/mlp.yaml: model: missing required key")
    }

    // MARK: Syntax and file-level problems

    @Test func duplicateKeyNamesBothLines() throws {
        let error = try error(mlpRecipe(insertingAfterLine: 12, "  learningRate: 0.1"))
        #expect(error.description == "configs/mlp.yaml:13: optimizer.learningRate: duplicate key, first defined at line 11")
    }

    @Test func yamlSyntaxErrorReportsItsLine() throws {
        let error = try error(mlpRecipe(replacingLine: 14, with: "name: [moons"))
        #expect(error.file == "configs/mlp.yaml")
        #expect(error.line != nil)
        #expect((14...16).contains(error.line ?? 0))
        #expect(error.message.hasPrefix("invalid YAML"))
    }

    @Test func badIndentationReportsItsLine() throws {
        let error = try error(mlpRecipe(replacingLine: 11, with: "  learningRate: 0.001"))
        #expect(error.line == 11)
        #expect(error.message.hasPrefix("invalid YAML"))
    }

    @Test func emptyRecipeIsAnError() throws {
        #expect(try error("").message.contains("empty"))
        #expect(try error("# only a comment\n").message.contains("empty"))
    }

    @Test func topLevelListIsAnError() throws {
        let error = try error("- a\n- b\n")
        #expect(error.description == "configs/mlp.yaml:1: expected a mapping of keys at the top level, found a list")
    }

    @Test func missingFileIsAnError() throws {
        let error = try #require(throws: RecipeError.self) {
            try loadRecipe(ExperimentConfig.self, path: "/nonexistent/recipe.yaml")
        }
        #expect(error.description == "/nonexistent/recipe.yaml: no such recipe file")
    }
}

extension RecipeErrorTests {
    @Test func duplicateKeyInFlowMappingNamesKeyAndLine() throws {
        let error = try error("name: x\nmodel: {hidden: [1], hidden: [2]}\n")
        #expect(error.description == "configs/mlp.yaml:2: duplicate key 'hidden'")
    }

    @Test func duplicateKeyInsideListElementNamesItsPath() throws {
        let error = try error(mlpRecipe(insertingAfterLine: 8, "      width: 16"))
        #expect(error.description == "configs/mlp.yaml:9: model.layers.1.width: duplicate key, first defined at line 8")
    }
}
