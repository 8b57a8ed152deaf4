import Testing
import TesseraConfig

@Suite struct RecipeValidationTests {
    @Test func valueOutsideRangeIsReportedAtItsLine() throws {
        let error = try #require(throws: RecipeError.self) {
            try decodeExperiment(mlpRecipe(replacingLine: 11, with: "learningRate: 20"))
        }
        #expect(error.description == "configs/mlp.yaml:11: optimizer.learningRate: must be in 0.0...10.0, found 20.0")
    }

    @Test func checkInsideListElementNamesItsIndex() throws {
        let error = try #require(throws: RecipeError.self) {
            try decodeExperiment(mlpRecipe(replacingLine: 8, with: "- width: 0"))
        }
        #expect(error.description == "configs/mlp.yaml:8: model.layers.1.width: must be positive, found 0")
    }

    @Test func overriddenValueFailingCheckNamesTheArgument() throws {
        let error = try #require(throws: RecipeError.self) {
            try decodeExperiment(mlpRecipe, overrides: ["data.batchSize=0"])
        }
        #expect(error.description == "--set data.batchSize=0: data.batchSize: must be positive, found 0")
    }

    @Test func defaultValueFailingCheckIsMarkedAsDefault() throws {
        struct Schedule: Decodable, RecipeValidatable {
            var warmupSteps: Int
            var steps: Int
            init(from decoder: Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                warmupSteps = try container.decodeIfPresent(Int.self, forKey: .warmupSteps) ?? 100
                steps = try container.decode(Int.self, forKey: .steps)
            }
            enum CodingKeys: CodingKey { case warmupSteps, steps }
            func validate(_ check: RecipeValidator) throws {
                try check.that(warmupSteps <= steps, "warmupSteps", "must not exceed steps (\(steps))")
            }
        }
        let error = try #require(throws: RecipeError.self) {
            try RecipeDecoder().decode(Schedule.self, from: "# schedule\nsteps: 10\n", file: "s.yaml")
        }
        #expect(error.description == "s.yaml: warmupSteps: must not exceed steps (10) (the default value)")
    }

    @Test func unknownKeysAreReportedBeforeValidation() throws {
        let yaml = mlpRecipe(replacingLine: 11, with: "learningRate: 20")
            .replacingOccurrences(of: "  seed: 42", with: "  seed: 42\n  batchSiz: 8")
        let error = try #require(throws: RecipeError.self) { try decodeExperiment(yaml) }
        #expect(error.keyPath == "data.batchSiz")
        #expect(error.suggestion == "batchSize")
    }

    @Test func validatorKnowsItsKeyPath() throws {
        struct Probe: Decodable, RecipeValidatable {
            var value: Int
            func validate(_ check: RecipeValidator) throws {
                throw check.error("value", "seen at '\(check.keyPath)'")
            }
        }
        struct Outer: Decodable { var inner: Probe }
        let error = try #require(throws: RecipeError.self) {
            try RecipeDecoder().decode(Outer.self, from: "inner:\n  value: 1\n", file: "o.yaml")
        }
        #expect(error.description == "o.yaml:2: inner.value: seen at 'inner'")
    }
}
