import Foundation
import Testing
import TesseraTensor

/// Golden tensors written by `Tests/Fixtures/fixtures_transformers.py` (PyTorch) and committed as JSON:
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
                               "fixture \(name).json is missing; run Tests/Fixtures/generate.py fixtures_transformers")
        tensors = try JSONDecoder().decode([String: Entry].self, from: Data(contentsOf: url))
        self.name = name
    }

    /// The tensor stored under `key`.
    func tensor(_ key: String) throws -> Tensor {
        let entry = try #require(tensors[key], "fixture \(name) has no key \(key)")
        return Tensor(shape: entry.shape, scalars: entry.data)
    }

    var keys: [String] { tensors.keys.sorted() }

    /// Every tensor under `prefix.`, keyed by the rest of its name (a state dictionary or its gradients).
    func tensors(under prefix: String) throws -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for key in keys where key.hasPrefix(prefix + ".") {
            result[String(key.dropFirst(prefix.count + 1))] = try tensor(key)
        }
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

/// Central finite differences of the scalar `function` at `input` (computed in Float64 steps of
/// the Float32 function), compared with the analytic gradient from `backward()`.
func expectGradientMatchesFiniteDifferences(_ input: Tensor, step: Float = 1e-2, tolerance: Float = 2e-2,
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
