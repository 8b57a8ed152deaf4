import Testing
@testable import TesseraTensor

/// A recorded graph must die with its last user. Rules that read their own output (exp, sqrt,
/// tanh, …) once held it strongly, a retain cycle that kept every buffer of every step alive.
@Suite struct GraphLifetimeTests {
    /// Builds `operation(x)`, runs a backward pass through it, drops everything but a weak
    /// reference, and returns that reference.
    private func outputAfterBackward(_ operation: (Tensor) -> Tensor) -> Tensor? {
        weak var output: Tensor?
        do {
            let x = Tensor([0.5, 1, 2]).requiringGradient()
            let y = operation(x)
            output = y
            y.sum().backward()
            #expect(x.grad != nil)
        }
        return output
    }

    @Test(arguments: ["exp", "sqrt", "rsqrt", "tanh", "sigmoid", "pow"])
    func outputOfSelfReadingRuleIsFreedAfterBackward(_ name: String) {
        let operations: [String: (Tensor) -> Tensor] = [
            "exp": { $0.exp() }, "sqrt": { $0.sqrt() }, "rsqrt": { $0.rsqrt() }, "tanh": { $0.tanh() },
            "sigmoid": { $0.sigmoid() }, "pow": { $0.pow(Tensor([2, 3, 0.5])) },
        ]
        #expect(outputAfterBackward(operations[name]!) == nil, "\(name) output outlived its graph")
    }
}
