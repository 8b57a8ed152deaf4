import Testing
import TesseraConfig

@Suite struct RecipeDecodingTests {
    @Test func decodesNestedStructsWithEveryScalarKind() throws {
        let config = try decodeExperiment(mlpRecipe)
        let expected = ExperimentConfig(
            name: "mlp-moons",
            model: ModelConfig(
                hidden: [64, 64], activation: "relu",
                layers: [LayerConfig(width: 64, bias: true), LayerConfig(width: 32, bias: nil)],
                dropout: nil),
            optimizer: OptimizerConfig(kind: .adam, learningRate: 0.001, weightDecay: 1e-4),
            data: DataConfig(name: "moons", batchSize: 32, shuffle: false, seed: 42),
            training: TrainingConfig(steps: 10_000, logEvery: 100, warmupFraction: nil),
            tags: ["baseline", "2024"])
        #expect(config == expected)
    }

    @Test func missingOptionalKeysTakePropertyDefaults() throws {
        let config = try decodeExperiment(mlpRecipe)
        #expect(config.optimizer.momentum == 0.9)
        #expect(config.optimizer.nesterov == false)
        #expect(config.model.dropout == nil)
    }

    @Test func presentKeysOverrideDefaults() throws {
        let yaml = mlpRecipe(insertingAfterLine: 12, "  momentum: 0.5\n  nesterov: true")
        let config = try decodeExperiment(yaml)
        #expect(config.optimizer.momentum == 0.5)
        #expect(config.optimizer.nesterov == true)
    }

    @Test func explicitNullDecodesAsNil() throws {
        let config = try decodeExperiment(mlpRecipe(replacingLine: 17, with: "seed: ~"))
        #expect(config.data.seed == nil)
    }

    @Test func numbersAcceptIntegersAndYAMLFloatSpellings() throws {
        #expect(try decodeExperiment(mlpRecipe(replacingLine: 11, with: "learningRate: 1")).optimizer.learningRate == 1)
        #expect(try decodeExperiment(mlpRecipe(replacingLine: 11, with: "learningRate: .5")).optimizer.learningRate == 0.5)
        #expect(try decodeExperiment(mlpRecipe(replacingLine: 11, with: "learningRate: 2e-3")).optimizer.learningRate == 0.002)
    }

    @Test func integersAcceptHexadecimalAndUnderscores() throws {
        #expect(try decodeExperiment(mlpRecipe(replacingLine: 17, with: "seed: 0xFF")).data.seed == 255)
        #expect(try decodeExperiment(mlpRecipe(replacingLine: 19, with: "steps: 1_000_000")).training?.steps == 1_000_000)
    }

    @Test func quotedScalarsStayStrings() throws {
        let config = try decodeExperiment(mlpRecipe(replacingLine: 14, with: "name: '123'"))
        #expect(config.data.name == "123")
        #expect(config.tags == ["baseline", "2024"])
    }

    @Test func dictionaryFieldsAcceptAnyKey() throws {
        struct Weights: Decodable, Equatable { var classWeights: [String: Double] }
        let weights = try RecipeDecoder().decode(
            Weights.self, from: "classWeights:\n  cat: 1.5\n  dog: 0.5\n", file: "weights.yaml")
        #expect(weights.classWeights == ["cat": 1.5, "dog": 0.5])
    }

    @Test func caseIterableCodingKeysAreValidEvenWhenNotRead() throws {
        /// Reads `legacyName` only in old recipes, yet declares it valid through `CaseIterable` keys.
        struct Renamed: Decodable {
            var name: String
            enum CodingKeys: String, CodingKey, CaseIterable { case name, legacyName }
            init(from decoder: Decoder) throws {
                name = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .name)
            }
        }
        let renamed = try RecipeDecoder().decode(
            Renamed.self, from: "name: a\nlegacyName: b\n", file: "renamed.yaml")
        #expect(renamed.name == "a")
    }
}
