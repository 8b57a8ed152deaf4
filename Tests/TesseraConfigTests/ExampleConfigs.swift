import TesseraConfig

/// Example config structs standing in for the ones other modules will declare.

/// Which update rule the optimizer uses; `CaseIterable` lets errors list the valid values.
enum OptimizerKind: String, Decodable, Equatable, CaseIterable {
    case sgd, adam, adamW
}

/// Shows the `decodeIfPresent ?? default` idiom and range checks.
struct OptimizerConfig: Decodable, Equatable, RecipeValidatable {
    var kind: OptimizerKind
    var learningRate: Double
    /// Defaults to 0.9 when absent.
    var momentum: Float = 0.9
    var weightDecay: Double?
    /// Defaults to false when absent.
    var nesterov = false

    init(kind: OptimizerKind, learningRate: Double, momentum: Float = 0.9, weightDecay: Double? = nil, nesterov: Bool = false) {
        self.kind = kind
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.nesterov = nesterov
    }

    enum CodingKeys: String, CodingKey {
        case kind, learningRate, momentum, weightDecay, nesterov
    }

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(OptimizerKind.self, forKey: .kind)
        learningRate = try container.decode(Double.self, forKey: .learningRate)
        momentum = try container.decodeIfPresent(Float.self, forKey: .momentum) ?? 0.9
        weightDecay = try container.decodeIfPresent(Double.self, forKey: .weightDecay)
        nesterov = try container.decodeIfPresent(Bool.self, forKey: .nesterov) ?? false
    }

    func validate(_ check: RecipeValidator) throws {
        try check.range("learningRate", learningRate, 0...10)
        try check.range("momentum", momentum, 0...1)
    }
}

struct LayerConfig: Decodable, Equatable, RecipeValidatable {
    var width: Int
    var bias: Bool?

    func validate(_ check: RecipeValidator) throws {
        try check.positive("width", width)
    }
}

struct ModelConfig: Decodable, Equatable {
    var hidden: [Int]
    var activation: String
    var layers: [LayerConfig]?
    var dropout: Double?
}

struct DataConfig: Decodable, Equatable, RecipeValidatable {
    var name: String
    var batchSize: Int
    var shuffle: Bool
    var seed: UInt64?

    func validate(_ check: RecipeValidator) throws {
        try check.positive("batchSize", batchSize)
    }
}

struct TrainingConfig: Decodable, Equatable {
    var steps: Int
    var logEvery: Int32
    var warmupFraction: Float?
}

struct ExperimentConfig: Decodable, Equatable {
    var name: String
    var model: ModelConfig
    var optimizer: OptimizerConfig
    var data: DataConfig
    var training: TrainingConfig?
    var tags: [String]?
}

/// A complete recipe; line numbers matter to the tests (line 1 is `name:`).
let mlpRecipe = """
name: mlp-moons
model:
  hidden: [64, 64]
  activation: relu
  layers:
    - width: 64
      bias: true
    - width: 32
optimizer:
  kind: adam
  learningRate: 0.001
  weightDecay: 1e-4
data:
  name: moons
  batchSize: 32
  shuffle: false
  seed: 42
training:
  steps: 10_000
  logEvery: 100
tags: [baseline, "2024"]
"""

/// Decodes `ExperimentConfig` from `yaml`, as if read from `configs/mlp.yaml`.
func decodeExperiment(_ yaml: String, overrides: [String] = []) throws -> ExperimentConfig {
    try RecipeDecoder().decode(ExperimentConfig.self, from: yaml, file: "configs/mlp.yaml", overrides: overrides)
}

/// `mlpRecipe` with line `lineNumber` (1-based) replaced by `replacement`, keeping its indentation,
/// so a test changes one value and knows the line an error must name.
func mlpRecipe(replacingLine lineNumber: Int, with replacement: String) -> String {
    var lines = mlpRecipe.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let indentation = lines[lineNumber - 1].prefix(while: { $0 == " " })
    lines[lineNumber - 1] = String(indentation) + replacement
    return lines.joined(separator: "\n")
}

/// `mlpRecipe` with `extraLines` inserted after line `lineNumber`.
func mlpRecipe(insertingAfterLine lineNumber: Int, _ extraLines: String) -> String {
    var lines = mlpRecipe.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    lines.insert(extraLines, at: lineNumber)
    return lines.joined(separator: "\n")
}
