import Foundation
import Testing
import TesseraTensor
@testable import TesseraODE

/// Gradients both ways — autograd through every step (discretise-then-optimise) and the adjoint
/// method (optimise-then-discretise) — against each other, torchdiffeq's `odeint_adjoint` and
/// finite differences, and the adjoint's flat memory.
@Suite struct GradientTests {
    let fixture: Fixture
    init() throws { fixture = try Fixture("ode") }

    /// The fixture's loss `Σᵢ Σ cᵢ · u(tᵢ)` on stacked states.
    func loss(_ states: Tensor) throws -> Tensor { (states * (try fixture.tensor("mlp.loss_weights"))).sum() }

    let tight = ODESolverOptions.dopri5(relativeTolerance: 1e-6, absoluteTolerance: 1e-8)
    let names = ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]

    func expectFixtureGradients(initial: Tensor, field: MLPField, _ comment: String) throws {
        expectClose(initial.grad!, try fixture.tensor("mlp.grad_initial"), absolute: 2e-4, relative: 1e-3, "\(comment) ∂L/∂u₀")
        for (name, parameter) in zip(names, field.parameters) {
            expectClose(parameter.grad!, try fixture.tensor("mlp.grad." + name), absolute: 2e-4, relative: 1e-3, "\(comment) ∂L/∂\(name)")
        }
    }

    @Test func adjointGradientsMatchTorchdiffeqOdeintAdjoint() throws {
        let field = try MLPField(fixture: fixture)
        let initial = try fixture.tensor("mlp.initial").requiringGradient()
        let solution = try odeintAdjoint(field.callAsFunction, initial: initial, times: [0, 0.5, 1],
                                         parameters: field.parameters, options: tight)
        let value = try loss(solution.states)
        #expect(abs(value.item - (try fixture.tensor("mlp.loss").item)) < 1e-3)
        value.backward()
        #expect(solution.backwardStatistics.error == nil)
        #expect(solution.backwardStatistics.functionEvaluations > 0)
        try expectFixtureGradients(initial: initial, field: field, "adjoint")
    }

    /// In float32 on both sides the forward and the augmented backward solve take torchdiffeq's
    /// steps: same controller, same mixed norm over [u, a, dL/dθ].
    @Test func adjointFunctionEvaluationsMatchTorchdiffeqInFloat32() throws {
        let field = try MLPField(fixture: fixture)
        let initial = try fixture.tensor("mlp.initial").requiringGradient()
        let solution = try odeintAdjoint(field.callAsFunction, initial: initial, times: [0, 1], parameters: field.parameters,
                                         options: .dopri5(relativeTolerance: 1e-4, absoluteTolerance: 1e-6))
        (solution.final * solution.final).sum().backward()
        let expected = try fixture.tensor("mlp32.nfe").scalars.map { Int($0) }
        #expect(solution.functionEvaluations == expected[0])
        #expect(solution.backwardStatistics.functionEvaluations == expected[1])
    }

    @Test func directBackpropagationMatchesTorchdiffeqOdeintAdjoint() throws {
        let field = try MLPField(fixture: fixture)
        let initial = try fixture.tensor("mlp.initial").requiringGradient()
        let solution = try odeint(field.callAsFunction, initial: initial, times: [0, 0.5, 1], options: tight)
        try loss(solution.stacked()).backward()
        try expectFixtureGradients(initial: initial, field: field, "direct")
    }

    @Test(arguments: [ODEMethod.rk4, .dopri5])
    func adjointAndDirectGradientsAgree(_ method: ODEMethod) throws {
        var options = tight
        options.method = method
        options.stepSize = 0.05
        var results: [[Float]] = []
        for useAdjoint in [false, true] {
            let field = try MLPField(fixture: fixture)
            let initial = try fixture.tensor("mlp.initial").requiringGradient()
            let states = useAdjoint
                ? try odeintAdjoint(field.callAsFunction, initial: initial, times: [0, 1], parameters: field.parameters, options: options).states
                : try odeint(field.callAsFunction, initial: initial, times: [0, 1], options: options).stacked()
            (states * states).sum().backward()
            results.append(initial.grad!.scalars + field.parameters.flatMap { $0.grad!.scalars })
        }
        expectClose(Tensor(results[1]), Tensor(results[0]), absolute: 1e-4, relative: 2e-3, "\(method) adjoint vs direct")
    }

    /// The recorded graph of direct backprop grows with the steps; the adjoint's is one op.
    @Test func adjointMemoryDoesNotGrowWithTheNumberOfSteps() throws {
        let field = try MLPField(fixture: fixture)
        let initial = try fixture.tensor("mlp.initial").requiringGradient()
        var direct: [(steps: Int, elements: Int)] = [], adjoint: [(steps: Int, operations: Int, elements: Int)] = []
        for tolerance: Float in [1e-3, 1e-7] {
            let options = ODESolverOptions.dopri5(relativeTolerance: tolerance, absoluteTolerance: tolerance * 1e-2)
            let solution = try odeint(field.callAsFunction, initial: initial, times: [0, 1], options: options)
            direct.append((solution.acceptedSteps + solution.rejectedSteps, solution.final.recordedGraphSize.retainedElements))
            let viaAdjoint = try odeintAdjoint(field.callAsFunction, initial: initial, times: [0, 1],
                                               parameters: field.parameters, options: options)
            let size = viaAdjoint.states.recordedGraphSize
            adjoint.append((viaAdjoint.functionEvaluations, size.operations, size.retainedElements))
        }
        #expect(direct[1].steps > 2 * direct[0].steps)
        #expect(direct[1].elements > 2 * direct[0].elements, "direct graph \(direct)")
        #expect(adjoint[0].operations == 1 && adjoint[1].operations == 1)
        #expect(adjoint[0].elements == adjoint[1].elements, "adjoint graph \(adjoint)")
        #expect(adjoint[0].elements == initial.count + field.parameters.reduce(0) { $0 + $1.count })
    }

    @Test func implicitEulerGradientMatchesFiniteDifferences() throws {
        // u' = −θ u³ + sin t, three implicit steps; d u(1) / dθ by the implicit function theorem.
        let start = Tensor([1.5, -0.5])
        expectGradientMatchesFiniteDifferences(Tensor([2]), step: 1e-2, tolerance: 1e-2, "implicit Euler") { theta in
            let function: ODEFunction = { t, u in -(theta * u * u * u) + Foundation.sin(t) }
            return try! odeint(function, initial: start, times: [0, 1], options: .fixedStep(.implicitEuler, stepSize: 1.0 / 3)).final.sum()
        }
        expectGradientMatchesFiniteDifferences(start, step: 1e-2, tolerance: 1e-2, "implicit Euler u₀") { u0 in
            let function: ODEFunction = { t, u in -(u * u * u) * 2 + Foundation.sin(t) }
            let final = try! odeint(function, initial: u0, times: [0, 1], options: .fixedStep(.implicitEuler, stepSize: 1.0 / 3)).final
            return (final * final).sum()
        }
    }

    @Test func dopri5GradientMatchesFiniteDifferences() throws {
        let a = Tensor([[-0.5, 2], [-2, -0.5]])
        expectGradientMatchesFiniteDifferences(Tensor([1, 0.5]), step: 1e-2, tolerance: 1e-2, "dopri5") { u0 in
            let function: ODEFunction = { _, u in a.matmul(u.unsqueezed(axis: 1)).squeezed(axis: 1).tanh() }
            let options = ODESolverOptions.dopri5(relativeTolerance: 1e-6, absoluteTolerance: 1e-8)
            let final = try! odeint(function, initial: u0, times: [0, 1.5], options: options).final
            return (final * final).sum()
        }
    }

    @Test func failedAdjointSolveGivesNaNGradientsAndKeepsTheError() throws {
        let theta = Tensor([1]).requiringGradient()
        var backward = ODESolverOptions()
        backward.maximumSteps = 1
        let solution = try odeintAdjoint({ _, u in -(theta * u) }, initial: Tensor([1]), times: [0, 5], parameters: [theta],
                                         adjointOptions: backward)
        solution.final.sum().backward()
        #expect(solution.backwardStatistics.error?.reason == .tooManySteps(limit: 1))
        #expect(solution.backwardStatistics.error?.solver == "adjoint dopri5")
        #expect(theta.grad!.item.isNaN)
    }
}
