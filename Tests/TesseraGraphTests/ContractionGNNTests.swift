import Foundation
import Testing
import TesseraNN
import TesseraTensor
@testable import TesseraGraph

@Suite struct FixedPointSolverTests {
    @Test func theImplicitGradientOfALinearMapIsTheGeometricSeries() throws {
        // x = c x + p: x* = p / (1 − c), ∂x*/∂p = 1 / (1 − c), ∂x*/∂c = p / (1 − c)².
        let c = Tensor(0.6).requiringGradient(), p = Tensor(2).requiringGradient()
        let solver = FixedPointSolver(tolerance: 1e-7, maximumIterations: 200)
        let solution = try solver.solve(from: Tensor(0), parameters: [c, p]) { x, parameters in parameters[0] * x + parameters[1] }
        #expect(Swift.abs(solution.state.item - 5) < 1e-5)
        #expect(solution.statistics.backwardIterations == nil)
        solution.state.backward()
        #expect(Swift.abs(p.grad!.item - 2.5) < 1e-4)
        #expect(Swift.abs(c.grad!.item - 12.5) < 1e-3)
        #expect((solution.statistics.backwardIterations ?? 0) > 10, "v = 1 + 0.6 v takes many steps to 1e-7")
    }

    @Test func aMapThatIsNoContractionThrowsNamingTheLimit() {
        let solver = FixedPointSolver(tolerance: 1e-6, maximumIterations: 25)
        #expect(throws: FixedPointError.self) { try solver.iterate(from: Tensor(1)) { $0 * 2 } }
        do {
            _ = try solver.iterate(from: Tensor(1)) { $0 * 2 }
        } catch {
            #expect("\(error)".contains("did not converge within the limit of 25 iterations"))
        }
    }
}

@Suite struct ContractionGNNTests {
    let graph: Graph
    let labels: Tensor
    let seed: Tensor

    init() throws {
        graph = try KarateClub.graph()
        var generator = RandomGenerator(seed: 11)
        labels = Tensor.randomNormal([34, 3], generator: &generator)
        seed = Tensor.randomNormal([34, 2], generator: &generator)
    }

    func model(contractionBound: Float? = 0.7, tolerance: Float = 1e-6, scale: Float = 1) -> ContractionGNN {
        var generator = RandomGenerator(seed: 5)
        let gnn = ContractionGNN(labelSize: 3, stateSize: 4, outputSize: 2, contractionBound: contractionBound,
                                 solver: FixedPointSolver(tolerance: tolerance, maximumIterations: 300), generator: &generator)
        gnn.stateWeight.assign(gnn.stateWeight * scale)
        return gnn
    }

    @Test func theImplicitGradientMatchesBackpropagationThrough200UnrolledIterations() throws {
        let gnn = model(scale: 4)  // σ_max well above the bound: the normalisation is active
        let implicitLabels = labels.copy().requiringGradient()
        (gnn(implicitLabels, graph: graph) * seed).sum().backward()
        let implicit = gnn.parameters().map { $0.grad!.copy() } + [implicitLabels.grad!]
        #expect((gnn.lastIterations ?? 0) > 5 && (gnn.lastBackwardIterations ?? 0) > 5)

        for parameter in gnn.parameters() { parameter.grad = nil }
        let unrolledLabels = labels.copy().requiringGradient()
        let (transition, parameters) = gnn.transition(unrolledLabels, graph: graph)
        var state = Tensor.zeros([34, 4])
        for _ in 0..<200 { state = transition(state, parameters) }
        (gnn.outputs(states: state, labels: unrolledLabels) * seed).sum().backward()
        let unrolled = gnn.parameters().map { $0.grad! } + [unrolledLabels.grad!]

        let names = gnn.namedParameters().map(\.name) + ["labels"]
        for (name, (a, b)) in zip(names, zip(implicit, unrolled)) {
            let scale = b.scalars.reduce(Float(0)) { Swift.max($0, Swift.abs($1)) }
            expectClose(a, b, absolute: 1e-4 * scale, relative: 1e-4, "\(name): implicit vs unrolled")
        }
    }

    /// Measured (tolerance 1e-6, karate club): 21, 12 and 6 iterations; the error shrinks like cᵏ.
    @Test func fewerIterationsAreNeededAsTheContractionFactorShrinks() {
        let counts = [Float(0.9), 0.5, 0.1].map { bound -> Int in
            let gnn = model(contractionBound: bound, scale: 4)
            _ = gnn(labels, graph: graph)
            return gnn.lastIterations!
        }
        #expect(counts[0] > counts[1] && counts[1] > counts[2], "iterations for c = 0.9, 0.5, 0.1: \(counts)")
    }

    @Test func theImplicitGradientMatchesFiniteDifferences() {
        let gnn = model(tolerance: 1e-6, scale: 4)
        expectGradientMatchesFiniteDifferences(labels, tolerance: 1e-2, "∂/∂labels") { (gnn($0, graph: graph) * seed).sum() }
        // The weight is the module's own tensor, so perturb it in place (through the spectral
        // normalisation, which is active at this scale). The check above left gradients behind.
        for parameter in gnn.parameters() { parameter.grad = nil }
        (gnn(labels, graph: graph) * seed).sum().backward()
        let analytic = gnn.stateWeight.grad!.scalars, base = gnn.stateWeight.scalars, step: Float = 1e-2
        for i in base.indices {
            var perturbed = base
            perturbed[i] = base[i] + step
            gnn.stateWeight.assign(Tensor(shape: [4, 4], scalars: perturbed))
            let high = withoutGradients { (gnn(labels, graph: graph) * seed).sum().item }
            perturbed[i] = base[i] - step
            gnn.stateWeight.assign(Tensor(shape: [4, 4], scalars: perturbed))
            let low = withoutGradients { (gnn(labels, graph: graph) * seed).sum().item }
            let numeric = (high - low) / (2 * step)
            #expect(Swift.abs(numeric - analytic[i]) <= 1e-2 * Swift.max(1, Swift.abs(numeric)),
                    "∂/∂W_state[\(i)]: implicit \(analytic[i]) vs numeric \(numeric)")
        }
        #expect(analytic.contains { Swift.abs($0) > 1e-3 }, "a gradient that could be wrong")
    }

    @Test func theContractionPenaltyIsZeroForASmallWeightAndPositiveBeyond() throws {
        let small = model(contractionBound: nil, scale: 0.1)
        let states = try small.states(labels, graph: graph)
        #expect(small.contractionPenalty(states: states, labels: labels, graph: graph).item == 0)

        let large = model(contractionBound: nil, scale: 3)
        // At x = 0: the penalty is defined at any state, and F need not converge for this weight.
        let state = Tensor.zeros([34, 4])
        let penalty = large.contractionPenalty(states: state, labels: labels, graph: graph)
        #expect(penalty.item > 0)
        penalty.backward()
        #expect(large.stateWeight.grad.map { $0.scalars.contains { $0 != 0 } } == true, "the penalty trains the weight")
    }

    @Test func withoutNormalisationALargeWeightFailsToConvergeAndSaysSo() {
        var generator = RandomGenerator(seed: 5)
        let gnn = ContractionGNN(labelSize: 3, stateSize: 4, outputSize: 2, contractionBound: nil,
                                 solver: FixedPointSolver(tolerance: 1e-6, maximumIterations: 3), generator: &generator)
        gnn.stateWeight.assign(gnn.stateWeight * 10)
        #expect(throws: FixedPointError.self) { try gnn.states(labels, graph: graph) }
    }

    @Test func spectralNormalisationCapsTheLargestSingularValue() {
        let gnn = model(contractionBound: 0.5, scale: 4)
        let weight = gnn.normalizedStateWeight()
        #expect(Swift.abs(ContractionGNN.largestSingularTriple(weight).sigma - 0.5) < 1e-4)
        let small = model(contractionBound: 0.5, scale: 0.01)
        #expect(small.normalizedStateWeight() === small.stateWeight, "below the bound the weight is used as it is")
    }
}

@Suite struct ContractionGNNTrainingTests {
    /// Zachary's karate club with one-hot node identities as labels, as in Kipf & Welling's
    /// demonstration: a few Adam steps through the implicit gradient, penalty included, must fit
    /// the two factions. Measured: loss 14.8 → 0.007 (the penalty dominates at first), accuracy 1.0,
    /// 7 forward iterations at the end.
    @Test func aFewAdamStepsThroughTheImplicitGradientSeparateTheKarateClubFactions() throws {
        let club = try KarateClub.graph()
        let labels = Tensor.eye(34), factions = Tensor(club.nodeLabels!.map(Float.init))
        var generator = RandomGenerator(seed: 2)
        let gnn = ContractionGNN(labelSize: 34, stateSize: 8, outputSize: 2, contractionBound: 0.9,
                                 solver: FixedPointSolver(tolerance: 1e-5, maximumIterations: 200), generator: &generator)
        let optimizer = Adam(parameters: gnn.namedParameters(), learningRate: 0.05)
        var losses: [Float] = []
        for _ in 0..<40 {
            optimizer.zeroGradients()
            let states = try gnn.states(labels, graph: club)
            let loss = gnn.outputs(states: states, labels: labels).softmaxCrossEntropy(labels: factions).mean()
                + 0.1 * gnn.contractionPenalty(states: states, labels: labels, graph: club)
            loss.backward()
            optimizer.step()
            losses.append(loss.item)
        }
        let predictions = withoutGradients { gnn(labels, graph: club).argmax(alongAxis: 1) }.scalars
        let accuracy = Float(zip(predictions, factions.scalars).filter { $0 == $1 }.count) / 34
        #expect(losses.last! < 0.5 * losses.first!, "loss \(losses.first!) → \(losses.last!)")
        #expect(accuracy >= 0.9, "training accuracy \(accuracy)")
    }
}
