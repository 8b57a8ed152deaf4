import Foundation
import Yams

/// Turning recipe text into a node tree, and Yams' parse errors into `RecipeError`s that name the file and line.

/// Parses `yaml` into its top-level mapping.
///
/// Yams already rejects duplicate keys while composing; we only translate its error, adding the
/// line of the second occurrence and the key path, which Yams does not report.
func parseRecipeRoot(yaml: String, file: String) throws -> Node {
    let root: Node?
    do {
        root = try Yams.compose(yaml: yaml)
    } catch let error as YamlError {
        throw recipeError(from: error, yaml: yaml, file: file)
    }
    guard let root else {
        throw RecipeError(file: file, message: "the recipe is empty; expected a mapping of keys")
    }
    guard case .mapping = root else {
        throw RecipeError(
            file: file, line: root.mark?.line,
            message: "expected a mapping of keys at the top level, found \(describeFoundValue(root))")
    }
    return root
}

private func recipeError(from error: YamlError, yaml: String, file: String) -> RecipeError {
    switch error {
    case let .scanner(context, problem, mark, _),
         let .parser(context, problem, mark, _),
         let .composer(context, problem, mark, _):
        var message = "invalid YAML: \(problem)"
        if let context { message += " (\(context.text) at line \(context.mark.line))" }
        return RecipeError(file: file, line: mark.line, message: message)
    case let .reader(problem, offset, _, _):
        let line = offset.map { offset in yaml.prefix(offset).filter { $0 == "\n" }.count + 1 }
        return RecipeError(file: file, line: line, message: "unreadable YAML: \(problem)")
    case let .duplicatedKeysInMapping(duplicates, context):
        return duplicateKeyError(key: duplicates.first ?? "?", firstMark: context.mark, yaml: yaml, file: file)
    default:
        return RecipeError(file: file, message: "invalid YAML: \(error)")
    }
}

/// Yams reports only where the duplicated key first appears. The second occurrence is found by
/// scanning the following lines of the same block mapping (same indentation); a duplicate inside
/// a flow mapping (`{a: 1, a: 2}`) is reported at its first line only.
private func duplicateKeyError(key: String, firstMark: Mark, yaml: String, file: String) -> RecipeError {
    let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let indentation = firstMark.column - 1
    var secondLineIndex: Int?
    for lineIndex in firstMark.line..<lines.count {
        let text = lines[lineIndex]
        let content = text.drop(while: { $0 == " " })
        if content.isEmpty || content.hasPrefix("#") { continue }
        let contentIndentation = text.count - content.count
        if contentIndentation < indentation { break }
        if contentIndentation == indentation, startsWithKey(content, key) {
            secondLineIndex = lineIndex
            break
        }
    }
    guard let secondLineIndex else {
        return RecipeError(file: file, line: firstMark.line, message: "duplicate key '\(key)'")
    }
    let path = pathOfKey(at: firstMark, renamingLine: secondLineIndex, in: lines) ?? [key]
    return RecipeError(
        file: file, line: secondLineIndex + 1, keyPath: path.joined(separator: "."),
        message: "duplicate key, first defined at line \(firstMark.line)")
}

private func startsWithKey(_ content: Substring, _ key: String) -> Bool {
    ["\(key):", "\"\(key)\":", "'\(key)':"].contains { content.hasPrefix($0) }
}

/// The key path of the first occurrence, found by parsing again with the second occurrence renamed.
private func pathOfKey(at mark: Mark, renamingLine lineIndex: Int, in lines: [String]) -> [String]? {
    var lines = lines
    let indentation = mark.column - 1
    let line = lines[lineIndex]
    let start = line.index(line.startIndex, offsetBy: indentation)
    lines[lineIndex] = String(line[..<start]) + "duplicate-key-placeholder-" + String(line[start...])
    guard let root = try? Yams.compose(yaml: lines.joined(separator: "\n")) else { return nil }
    return keyPath(toKeyAt: mark, in: root, under: [])
}

private func keyPath(toKeyAt mark: Mark, in node: Node, under prefix: [String]) -> [String]? {
    switch node {
    case .mapping(let mapping):
        for (key, value) in mapping {
            let name = key.scalar?.string ?? ""
            if key.mark?.line == mark.line, key.mark?.column == mark.column { return prefix + [name] }
            if let found = keyPath(toKeyAt: mark, in: value, under: prefix + [name]) { return found }
        }
    case .sequence(let sequence):
        for (index, item) in sequence.enumerated() {
            if let found = keyPath(toKeyAt: mark, in: item, under: prefix + ["\(index)"]) { return found }
        }
    case .scalar, .alias:
        break
    }
    return nil
}
