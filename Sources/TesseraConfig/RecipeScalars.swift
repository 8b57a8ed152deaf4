import Foundation
import Yams

/// How YAML scalars become Swift values.
///
/// The rules follow the YAML 1.2 core schema, which is stricter than the YAML 1.1 rules Yams
/// resolves by default, because a recipe should mean one thing:
/// - Bool: `true`/`false` (also `True`, `TRUE`, …). `yes`, `no`, `on`, `off` are rejected, so
///   `shuffle: no` is an error rather than a silent `false`.
/// - Integers: decimal (`-3`, `10_000`), `0x1F`, `0o17`. `3.5` and `1e3` are not integers.
/// - Floating point: anything an integer accepts, plus `0.01`, `.5`, `1e-3`, `.inf`, `-.inf`, `.nan`.
/// - Null: plain `null`, `Null`, `NULL`, `~`, or nothing at all.
/// - Quoted scalars (`'3'`, `"true"`) and block scalars (`|`, `>`) are always strings.
/// - String: any scalar that is not null; `name: 123` reads as `"123"` (a name that happens to be a number).
enum RecipeScalar {
    /// Plain scalars are typed by their text; quoted and block scalars are always strings.
    private static func plainText(_ node: Node) -> String? {
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any else { return nil }
        return scalar.string
    }

    static func isNull(_ node: Node) -> Bool {
        guard let text = plainText(node) else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(text)
    }

    static func bool(_ node: Node) -> Bool? {
        switch plainText(node) {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: return nil
        }
    }

    static func string(_ node: Node) -> String? {
        guard case .scalar(let scalar) = node, !isNull(node) else { return nil }
        return scalar.string
    }

    private static let decimalInteger = try! Regex("[-+]?[0-9][0-9_]*")
    private static let hexadecimalInteger = try! Regex("0x[0-9a-fA-F_]+")
    private static let octalInteger = try! Regex("0o[0-7_]+")
    private static let decimalFloat = try! Regex(#"[-+]?(\.[0-9][0-9_]*|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?"#)

    /// The value, or `nil` when the text is not an integer or does not fit in `Integer`.
    static func integer<Integer: FixedWidthInteger>(_ node: Node, as type: Integer.Type) -> Integer? {
        guard let text = plainText(node) else { return nil }
        let digits = text.replacingOccurrences(of: "_", with: "")
        if text.wholeMatch(of: decimalInteger) != nil { return Integer(digits, radix: 10) }
        if text.wholeMatch(of: hexadecimalInteger) != nil { return Integer(digits.dropFirst(2), radix: 16) }
        if text.wholeMatch(of: octalInteger) != nil { return Integer(digits.dropFirst(2), radix: 8) }
        return nil
    }

    /// The value, or `nil` when the text is not a number. Integers are numbers too (`learningRate: 1`).
    static func floatingPoint<Floating: BinaryFloatingPoint & LosslessStringConvertible>(
        _ node: Node, as type: Floating.Type
    ) -> Floating? {
        guard let text = plainText(node) else { return nil }
        switch text {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .infinity
        case "-.inf", "-.Inf", "-.INF": return -.infinity
        case ".nan", ".NaN", ".NAN": return .nan
        default: break
        }
        if text.wholeMatch(of: decimalFloat) != nil {
            return Floating(text.replacingOccurrences(of: "_", with: ""))
        }
        return integer(node, as: Int64.self).map { Floating($0) }
    }

    /// Whether the text reads as an integer of any size, to tell "not an integer" from "too large".
    static func looksLikeInteger(_ node: Node) -> Bool {
        guard let text = plainText(node) else { return false }
        return [decimalInteger, hexadecimalInteger, octalInteger].contains { text.wholeMatch(of: $0) != nil }
    }
}

/// How a value found in the recipe is shown in an error: `'fast'`, `null`, `a mapping`, `a list`.
func describeFoundValue(_ node: Node) -> String {
    switch node {
    case .scalar(let scalar):
        if RecipeScalar.isNull(node) { return "null" }
        if scalar.style == .singleQuoted || scalar.style == .doubleQuoted {
            return "the quoted string \"\(scalar.string)\""
        }
        return "'\(scalar.string)'"
    case .mapping:
        return "a mapping"
    case .sequence:
        return "a list"
    case .alias:
        return "an alias"
    }
}
