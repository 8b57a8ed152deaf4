import Foundation
import Testing
import TesseraTensor

/// Golden values written by `Tests/Fixtures/fixtures_rl.py` (Gymnasium) and committed as JSON:
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
                               "fixture \(name).json is missing; run Tests/Fixtures/generate.py fixtures_rl")
        tensors = try JSONDecoder().decode([String: Entry].self, from: Data(contentsOf: url))
        self.name = name
    }

    /// The values and shape stored under `key`.
    func values(_ key: String) throws -> (shape: [Int], data: [Float]) {
        let entry = try #require(tensors[key], "fixture \(name) has no key \(key)")
        return (entry.shape, entry.data)
    }

    /// The rows of a rank-2 entry.
    func rows(_ key: String) throws -> [[Float]] {
        let (shape, data) = try values(key)
        let width = shape.count > 1 ? shape[1] : 1
        return stride(from: 0, to: data.count, by: width).map { Array(data[$0..<($0 + width)]) }
    }
}
