import Foundation
import Testing
import TesseraTensor
@testable import TesseraNN

/// Golden tensors written by `Tests/Fixtures/fixtures_nn.py` (PyTorch) and committed as JSON:
/// one file per group, a flat map from a key to `{"shape": [...], "data": [...]}`.
struct Fixture {
    private let tensors: [String: Entry]
    let name: String

    private struct Entry: Decodable {
        let shape: [Int]
        let data: [Float]
    }

    init(_ name: String) throws {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"),
                               "fixture \(name).json is missing; run Tests/Fixtures/generate.py fixtures_nn")
        tensors = try JSONDecoder().decode([String: Entry].self, from: Data(contentsOf: url))
        self.name = name
    }

    /// The tensor stored under `key`.
    func tensor(_ key: String) throws -> Tensor {
        let entry = try #require(tensors[key], "fixture \(name) has no key \(key)")
        return Tensor(shape: entry.shape, scalars: entry.data)
    }

    /// Every tensor whose key starts with `prefix`, keyed by the rest (a state dictionary).
    func dictionary(prefix: String) throws -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for key in tensors.keys where key.hasPrefix(prefix) {
            result[String(key.dropFirst(prefix.count))] = try tensor(key)
        }
        try #require(!result.isEmpty, "fixture \(name) has no keys starting with \(prefix)")
        return result
    }
}

/// Expects equal shapes and elementwise `|a - b| <= absolute + relative * |b|`.
func expectClose(_ actual: Tensor, _ expected: Tensor, absolute: Float = 1e-5, relative: Float = 1e-4,
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
