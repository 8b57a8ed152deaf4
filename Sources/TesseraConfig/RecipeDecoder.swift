import Yams

/// Decodes typed config structs from a recipe, with errors that name file, line and key path.
///
/// ## Declaring a config struct
/// YAML keys are the Swift property names. Optional fields use `decodeIfPresent` (synthesised
/// `Decodable` does this for `Optional` properties); a field with a default reads it the same way:
///
///     /// How parameters are updated.
///     struct OptimizerConfig: Decodable, RecipeValidatable {
///         /// Which update rule to use.
///         var kind: OptimizerKind            // enum OptimizerKind: String, Decodable, CaseIterable
///         /// Step size; 1e-3 is a safe start for Adam.
///         var learningRate: Double
///         /// Classical momentum; 0.9 is the usual choice.
///         var momentum: Double = 0.9
///         /// L2 penalty; absent means none.
///         var weightDecay: Double?
///
///         // Synthesised Decodable would make `momentum` required despite its default, so spell
///         // out the defaults with `decodeIfPresent(...) ?? default`.
///         init(from decoder: Decoder) throws {
///             let container = try decoder.container(keyedBy: CodingKeys.self)
///             kind = try container.decode(OptimizerKind.self, forKey: .kind)
///             learningRate = try container.decode(Double.self, forKey: .learningRate)
///             momentum = try container.decodeIfPresent(Double.self, forKey: .momentum) ?? 0.9
///             weightDecay = try container.decodeIfPresent(Double.self, forKey: .weightDecay)
///         }
///
///         func validate(_ check: RecipeValidator) throws {
///             try check.range("learningRate", learningRate, 0...10)
///             try check.range("momentum", momentum, 0...1)
///         }
///     }
///
/// ## The unknown-key rule
/// A key is valid at a mapping if the struct decoded there asked for it: `decode`,
/// `decodeIfPresent`, `contains` or `decodeNil` on its keyed container. Any other key in the YAML is
/// an error, with the closest valid key suggested. So a struct must ask for every key it accepts,
/// even optional ones (never skip reading a field just because another field makes it irrelevant).
/// If its `CodingKeys` are `CaseIterable`, all cases are valid as well. A mapping read through
/// `allKeys` (a `[String: Value]` dictionary) accepts any key.
///
/// Enums decoded from strings should be `CaseIterable`, so an unknown value lists the valid ones.
///
/// ## Order of checks
/// Syntax and duplicate keys (while parsing) → types and missing keys (while decoding) →
/// unknown keys → `RecipeValidatable.validate` of every struct, innermost first. Validation runs
/// last because a misspelled key often explains a value that looks out of range.
public struct RecipeDecoder {
    public init() {}

    /// Decodes `type` from the recipe's root mapping.
    public func decode<Value: Decodable>(_ type: Value.Type, from recipe: Recipe) throws -> Value {
        let session = RecipeDecodingSession(recipe: recipe)
        let value = try session.decode(type, from: recipe.root, at: [])
        try session.checkUnknownKeys(in: recipe.root, at: [])
        for validation in session.pendingValidations {
            try validation()
        }
        return value
    }

    /// Parses `yaml` (naming `file` in errors), applies `--set` overrides, and decodes `type`.
    public func decode<Value: Decodable>(
        _ type: Value.Type, from yaml: String, file: String, overrides: [String] = []
    ) throws -> Value {
        var recipe = try Recipe(yaml: yaml, file: file)
        try recipe.apply(overrides: overrides)
        return try decode(type, from: recipe)
    }
}

extension Recipe {
    /// Decodes `type` from this recipe; see `RecipeDecoder` for the rules.
    public func decode<Value: Decodable>(_ type: Value.Type) throws -> Value {
        try RecipeDecoder().decode(type, from: self)
    }
}
