/// Checks that a decoded config makes sense (a learning rate in range, a positive batch size),
/// reported at the line of the offending value.

/// A config struct that checks its own values after decoding.
///
///     struct DataConfig: Decodable, RecipeValidatable {
///         var batchSize: Int
///         var validationFraction: Double
///
///         func validate(_ check: RecipeValidator) throws {
///             try check.positive("batchSize", batchSize)
///             try check.range("validationFraction", validationFraction, 0...0.5)
///         }
///     }
///
/// `validate` runs once the whole recipe has decoded without unknown keys; the first failing check
/// becomes the error, e.g. `configs/mlp.yaml:12: data.batchSize: must be positive, found 0`.
public protocol RecipeValidatable {
    func validate(_ check: RecipeValidator) throws
}

/// Knows where the struct being validated sits in the recipe, so each check only names the key.
///
/// Keys are the struct's own property names; a dotted key (`"layers.1.width"`) reaches into nested
/// values. A key that is absent from the recipe (its default was used) is reported at the line of
/// the enclosing mapping and marked as a default.
public struct RecipeValidator {
    let recipe: Recipe
    let path: [String]

    /// The dotted path of the struct being validated (`optimizer`); empty for the top level.
    public var keyPath: String { path.joined(separator: ".") }

    /// An error for `key` with your own message, for checks the helpers below do not cover.
    public func error(_ key: String, _ message: String) -> RecipeError {
        let keyComponents = key.split(separator: ".").map(String.init)
        let fullPath = path + keyComponents
        let isDefault = recipe.node(at: fullPath) == nil
        return recipe.error(at: fullPath, isDefault ? message + " (the default value)" : message)
    }

    /// Fails with `message` unless `condition` holds: `try check.that(warmupSteps <= steps, "warmupSteps", "must not exceed steps")`.
    public func that(_ condition: Bool, _ key: String, _ message: @autoclosure () -> String) throws {
        if !condition { throw error(key, message()) }
    }

    /// `value` must lie in `bounds`: `try check.range("learningRate", learningRate, 0...10)`.
    public func range<Value: Comparable>(_ key: String, _ value: Value, _ bounds: ClosedRange<Value>) throws {
        try that(bounds.contains(value), key, "must be in \(bounds), found \(value)")
    }

    /// `value` must be greater than zero: `try check.positive("batchSize", batchSize)`.
    public func positive<Value: Numeric & Comparable>(_ key: String, _ value: Value) throws {
        try that(value > .zero, key, "must be positive, found \(value)")
    }

    /// `value` must be zero or more.
    public func nonNegative<Value: Numeric & Comparable>(_ key: String, _ value: Value) throws {
        try that(value >= .zero, key, "must not be negative, found \(value)")
    }

    /// `value` must have at least one element (or character).
    public func nonEmpty<Value: Collection>(_ key: String, _ value: Value) throws {
        try that(!value.isEmpty, key, "must not be empty")
    }
}
