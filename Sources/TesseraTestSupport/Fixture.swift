import Foundation
import Testing
import TesseraTensor

/// Golden values written by the generators under `Tests/Fixtures/` (PyTorch, Gymnasium) and
/// committed as JSON: one file per group, a flat map from a key to `{"shape": [...], "data": [...]}`.
/// CI never runs the generators; it reads these files.
///
/// Each test target passes its own resource bundle (`Fixture("conv", bundle: .module)`, usually
/// through a one-line convenience initialiser in the target).
public struct Fixture {
    private let entries: [String: Entry]
    public let name: String

    private struct Entry: Decodable {
        let shape: [Int]
        let data: [Float]
    }

    public init(_ name: String, bundle: Bundle, generator: String = "Tests/Fixtures/generate.py") throws {
        let url = try #require(bundle.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"),
                               "fixture \(name).json is missing; run \(generator)")
        entries = try JSONDecoder().decode([String: Entry].self, from: Data(contentsOf: url))
        self.name = name
    }

    public var keys: [String] { entries.keys.sorted() }

    /// The shape and values stored under `key`.
    public func values(_ key: String) throws -> (shape: [Int], data: [Float]) {
        let entry = try #require(entries[key], "fixture \(name) has no key \(key)")
        return (entry.shape, entry.data)
    }

    /// The tensor stored under `key`.
    public func tensor(_ key: String) throws -> Tensor {
        let (shape, data) = try values(key)
        return Tensor(shape: shape, scalars: data)
    }

    /// The rows of a rank-2 entry.
    public func rows(_ key: String) throws -> [[Float]] {
        let (shape, data) = try values(key)
        let width = shape.count > 1 ? shape[1] : 1
        return stride(from: 0, to: data.count, by: width).map { Array(data[$0..<($0 + width)]) }
    }

    /// Every tensor whose key starts with `prefix`, keyed by the rest (a state dictionary).
    public func dictionary(prefix: String) throws -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for key in keys where key.hasPrefix(prefix) { result[String(key.dropFirst(prefix.count))] = try tensor(key) }
        try #require(!result.isEmpty, "fixture \(name) has no keys starting with \(prefix)")
        return result
    }

    /// Every tensor under `prefix.`, keyed by the rest of its name.
    public func tensors(under prefix: String) throws -> [String: Tensor] {
        try dictionary(prefix: prefix + ".")
    }
}

/// Expects equal shapes and elementwise `|a - b| <= absolute + relative * |b|`.
public func expectClose(_ actual: Tensor, _ expected: Tensor, absolute: Float = 1e-5, relative: Float = 1e-4,
                        _ comment: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.shape == expected.shape, "\(comment): shape \(actual.shape) vs \(expected.shape)", sourceLocation: sourceLocation)
    guard actual.shape == expected.shape else { return }
    let a = actual.scalars, b = expected.scalars
    var worst = 0, worstExcess: Float = 0
    for i in a.indices {
        let excess = Swift.abs(a[i] - b[i]) - (absolute + relative * Swift.abs(b[i]))
        if excess > worstExcess || (a[i].isNaN != b[i].isNaN) { worst = i; worstExcess = Swift.max(excess, .ulpOfOne) }
    }
    #expect(worstExcess == 0, "\(comment): element \(worst) is \(a.isEmpty ? 0 : a[worst]), expected \(b.isEmpty ? 0 : b[worst])",
            sourceLocation: sourceLocation)
}

/// Central finite differences of the scalar `function` at `input`, compared with the analytic
/// gradient from `backward()`.
public func expectGradientMatchesFiniteDifferences(_ input: Tensor, step: Float = 1e-2, tolerance: Float = 2e-2,
                                                   _ comment: String = "", sourceLocation: SourceLocation = #_sourceLocation,
                                                   _ function: (Tensor) -> Tensor) {
    let x = input.copy().requiringGradient()
    function(x).backward()
    let analytic = x.grad?.scalars ?? [Float](repeating: 0, count: x.count)
    let base = input.scalars
    for i in base.indices {
        var plus = base, minus = base
        plus[i] += step
        minus[i] -= step
        let high = withoutGradients { function(Tensor(shape: input.shape, scalars: plus)).item }
        let low = withoutGradients { function(Tensor(shape: input.shape, scalars: minus)).item }
        let numeric = (high - low) / (2 * step)
        let error = Swift.abs(numeric - analytic[i]) / Swift.max(1, Swift.abs(numeric))
        #expect(error <= tolerance, "\(comment): d/dx[\(i)] analytic \(analytic[i]) vs numeric \(numeric)",
                sourceLocation: sourceLocation)
    }
}
