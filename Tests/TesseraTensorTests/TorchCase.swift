import Testing
@testable import TesseraTensor

/// One golden case written by `Tests/Fixtures/fixtures_tensor.py`: the op is rebuilt here from the
/// same inputs (`key.x0, key.x1, …`) and its value and the gradients of `(op(x) * key.w).sum()`
/// are compared with PyTorch's (`key.out`, `key.grad<i>`).
///
/// Inputs that have a `key.grad<i>` entry are marked as requiring gradients; the others (indices,
/// masks) are constants. Cases without `key.w` are forward-only (comparisons, argmax).
struct TorchCase: Sendable, CustomTestStringConvertible {
    let key: String
    let absolute: Float
    let relative: Float
    let op: @Sendable ([Tensor]) -> Tensor

    init(_ key: String, absolute: Float = 1e-5, relative: Float = 1e-4, _ op: @escaping @Sendable ([Tensor]) -> Tensor) {
        self.key = key
        self.absolute = absolute
        self.relative = relative
        self.op = op
    }

    var testDescription: String { key }

    /// Runs the case against `fixture`, recording any mismatch as an expectation failure.
    func check(_ fixture: Fixture, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let keys = Set(fixture.keys)
        var inputs: [Tensor] = []
        while keys.contains("\(key).x\(inputs.count)") {
            let input = try fixture.tensor("\(key).x\(inputs.count)")
            if keys.contains("\(key).grad\(inputs.count)") { input.requiresGrad = true }
            inputs.append(input)
        }
        try #require(!inputs.isEmpty, "fixture \(fixture.name) has no case \(key)")
        let output = op(inputs)
        expectClose(output, try fixture.tensor("\(key).out"), absolute: absolute, relative: relative,
                    "\(key) value", sourceLocation: sourceLocation)
        guard keys.contains("\(key).w") else { return }
        (output * (try fixture.tensor("\(key).w"))).sum().backward()
        for (index, input) in inputs.enumerated() where input.requiresGrad {
            let gradient = try #require(input.grad, "\(key): input \(index) received no gradient", sourceLocation: sourceLocation)
            expectClose(gradient, try fixture.tensor("\(key).grad\(index)"), absolute: absolute, relative: relative,
                        "\(key) gradient of input \(index)", sourceLocation: sourceLocation)
        }
    }
}
