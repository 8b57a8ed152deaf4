import Yams

/// State shared by every decoder and container during one decode: the recipe (for locations),
/// the keys each mapping asked for, and the validations to run at the end.
final class RecipeDecodingSession {
    let recipe: Recipe
    /// Valid keys of every mapping that was read as a struct, by dotted path.
    private var validKeys: [String: Set<String>] = [:]
    /// Mappings read as dictionaries through `allKeys`: any key is valid there.
    private var openMappings: Set<String> = []
    /// `validate` calls of decoded structs, run after the unknown-key check.
    private(set) var pendingValidations: [() throws -> Void] = []

    init(recipe: Recipe) {
        self.recipe = recipe
    }

    /// The one place a value is decoded, so enum checks, error wrapping and validation apply
    /// everywhere: at the root, under keys, in lists, inside optionals.
    func decode<Value: Decodable>(_ type: Value.Type, from node: Node, at path: [String]) throws -> Value {
        try checkEnumCase(type, node, at: path)
        let value: Value
        do {
            value = try Value(from: NodeDecoder(session: self, node: node, path: path))
        } catch let error as RecipeError {
            throw error
        } catch let error as DecodingError {
            throw recipeError(from: error, at: path)
        } catch {
            throw recipe.error(at: path, "\(error)")
        }
        if let validatable = value as? RecipeValidatable {
            let validator = RecipeValidator(recipe: recipe, path: path)
            pendingValidations.append { try validatable.validate(validator) }
        }
        return value
    }

    /// Errors thrown by hand-written `init(from:)` code (e.g. `DecodingError.dataCorruptedError`).
    private func recipeError(from error: DecodingError, at path: [String]) -> RecipeError {
        switch error {
        case let .dataCorrupted(context), let .typeMismatch(_, context),
             let .valueNotFound(_, context), let .keyNotFound(_, context):
            let errorPath = context.codingPath.map(\.stringValue)
            return recipe.error(at: errorPath.count > path.count ? errorPath : path, context.debugDescription)
        @unknown default:
            return recipe.error(at: path, "\(error)")
        }
    }

    func typeMismatch(expected: String, found node: Node, at path: [String]) -> RecipeError {
        recipe.error(at: path, "expected \(expected), found \(describeFoundValue(node))")
    }

    // MARK: Enums

    /// Checks a string against the cases of a `CaseIterable` enum before `init(from:)` runs, so the
    /// error can list the valid cases instead of Swift's generic "cannot initialize" message.
    private func checkEnumCase<Value>(_ type: Value.Type, _ node: Node, at path: [String]) throws {
        guard let enumType = type as? any (CaseIterable & RawRepresentable).Type,
              case .scalar(let scalar) = node, !RecipeScalar.isNull(node) else { return }
        let caseNames = rawValueNames(of: enumType)
        guard !caseNames.contains(scalar.string) else { return }
        let listed = caseNames.map { "'\($0)'" }.joined(separator: ", ")
        throw recipe.error(
            at: path, "unknown value '\(scalar.string)', expected one of \(listed)",
            suggestion: closestMatch(to: scalar.string, among: caseNames))
    }

    private func rawValueNames<Enum: CaseIterable & RawRepresentable>(of type: Enum.Type) -> [String] {
        Enum.allCases.map { "\($0.rawValue)" }
    }

    // MARK: Key tracking

    /// Called when a keyed container opens a mapping, with the `CodingKeys` cases if they are `CaseIterable`.
    func visitMapping(at path: [String], declaredKeys: [String]) {
        validKeys[dotted(path), default: []].formUnion(declaredKeys)
    }

    /// Called for every key a struct asks about, present or not.
    func markAsked(_ key: String, at path: [String]) {
        validKeys[dotted(path), default: []].insert(key)
    }

    func markOpen(at path: [String]) {
        openMappings.insert(dotted(path))
    }

    /// A required key is missing. If the mapping holds an unasked key that looks like a misspelling
    /// of it, that typo is the real problem, so report it instead.
    func missingKey(_ key: String, in mapping: Node.Mapping, at path: [String]) -> RecipeError {
        let valid = validKeys[dotted(path)] ?? []
        let strayKeys = mapping.keys.compactMap(\.scalar?.string).filter { !valid.contains($0) }
        if let stray = strayKeys.first(where: { closestMatch(to: $0, among: [key]) != nil }) {
            return recipe.error(at: path + [stray], "unknown key", suggestion: key)
        }
        return recipe.error(at: path + [key], "missing required key")
    }

    /// Walks the tree in document order and throws at the first key no struct asked for.
    func checkUnknownKeys(in node: Node, at path: [String]) throws {
        switch node {
        case .mapping(let mapping):
            let mappingPath = dotted(path)
            let valid = openMappings.contains(mappingPath) ? nil : validKeys[mappingPath]
            for (key, value) in mapping {
                let name = key.scalar?.string ?? describeFoundValue(key)
                if let valid, !valid.contains(name) {
                    throw recipe.error(
                        at: path + [name], "unknown key", suggestion: closestMatch(to: name, among: valid.sorted()))
                }
                try checkUnknownKeys(in: value, at: path + [name])
            }
        case .sequence(let sequence):
            for (index, item) in sequence.enumerated() {
                try checkUnknownKeys(in: item, at: path + ["\(index)"])
            }
        case .scalar, .alias:
            break
        }
    }

    private func dotted(_ path: [String]) -> String {
        path.joined(separator: ".")
    }
}
