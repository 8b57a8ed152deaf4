import Foundation
import Testing
import TesseraNN
import TesseraTensor
@testable import TesseraODE

/// A batch split in two, each half solved on its own thread with `sumOverProcesses` adding the
/// halves' error norms, takes the whole batch's dopri5 steps, forward and adjoint, so the halves'
/// states and summed gradients are the whole batch's (what data-parallel training relies on).
@Suite struct ProcessSumTests {
    /// Eight points; the last four some thirty times as far out, where the field's tanh saturates,
    /// so either half alone would take other steps than the whole batch (14 and 20 evaluations
    /// against 20 at the forward tolerance below).
    static let points = Tensor(shape: [8, 2], scalars: [
        0.1, -0.2, 0.3, 0.1, -0.2, -0.1, 0.05, 0.25,
        8, -5, -7, 9, 10, 2, -3, -8,
    ])
    /// The far half only ten times as far out, for the adjoint (see its test).
    static let moderatePoints = Tensor(shape: [8, 2], scalars: [
        0.1, -0.2, 0.3, 0.1, -0.2, -0.1, 0.05, 0.25,
        2.4, -1.5, -2.1, 2.7, 3.0, 0.6, -0.9, -2.4,
    ])
    static let options = ODESolverOptions.dopri5(relativeTolerance: 1e-4, absoluteTolerance: 1e-6)

    /// The same field on every thread (each needs its own parameters to accumulate gradients into).
    static func field() -> ODEFunctionNetwork {
        var generator = RandomGenerator(seed: 11)
        return ODEFunctionNetwork(stateFeatures: 2, hiddenSizes: [16], activation: .tanh, timeDependent: true,
                                  generator: &generator)
    }

    static func half(_ part: Int, of points: Tensor = points) -> Tensor {
        points.slice(alongAxis: 0, start: 4 * part, end: 4 * part + 4)
    }

    /// Options whose sum adds the two threads' values through `pair`, as a collective would.
    static func options(summingThrough pair: PairSum, part: Int) -> ODESolverOptions {
        var options = Self.options
        options.sumOverProcesses = ODEProcessSum { try pair.sum($0, part: part) }
        return options
    }

    @Test func halvesSolvedWithSummedNormsTakeTheWholeBatchsSteps() throws {
        let field = Self.field()
        let whole = try odeint(field.callAsFunction, initial: Self.points, times: [0, 1], options: Self.options)
        let pair = PairSum()
        let halves = try onTwoThreads { part in
            let field = Self.field()
            return try odeint(field.callAsFunction, initial: Self.half(part), times: [0, 1],
                              options: Self.options(summingThrough: pair, part: part))
        }
        for (part, half) in halves.enumerated() {
            #expect(half.functionEvaluations == whole.functionEvaluations && half.acceptedSteps == whole.acceptedSteps
                    && half.rejectedSteps == whole.rejectedSteps,
                    "half \(part): NFE \(half.functionEvaluations), \(half.acceptedSteps) + \(half.rejectedSteps) steps; whole \(whole.functionEvaluations), \(whole.acceptedSteps) + \(whole.rejectedSteps)")
        }
        // Rows are solved independently and the norms differ only in the order of Double additions.
        let halvesFinal = Tensor.concatenate(halves.map(\.final), alongAxis: 0)
        #expect(halvesFinal.scalars == whole.final.scalars, "the halves' final states differ from the whole batch's")

        // Without the sum each half picks its own steps: the check above could fail.
        let alone = try (0..<2).map { try odeint(field.callAsFunction, initial: Self.half($0), times: [0, 1], options: Self.options) }
        #expect(alone.map(\.functionEvaluations) != [whole.functionEvaluations, whole.functionEvaluations],
                "each half alone took the whole batch's \(whole.functionEvaluations) evaluations")
    }

    /// The backward solve's norm holds `u` and `a` over all rows and the parameter gradient of the
    /// sum over the halves, so the halves' gradients add up to the whole batch's, at its cost.
    ///
    /// Not bit for bit: the parameter gradient is a reduction over rows, rounded differently in
    /// one batch and in two halves, and dopri5's error estimate for it (a difference of stages that
    /// cancels to a small part of them) carries that rounding into the step sizes. Measured: 3e-5
    /// relative here (rk4 on fixed steps, rounding alone: 1.6e-6), 6e-3 with the far points above,
    /// where the saturated field makes the parameter gradient's error decide the steps.
    @Test func halvesSolvedWithSummedNormsGiveTheWholeBatchsAdjointGradients() throws {
        func lossAndGradients(_ field: ODEFunctionNetwork, _ initial: Tensor, _ options: ODESolverOptions) throws
            -> (gradients: [Tensor], backwardNFE: Int) {
            let solution = try odeintAdjoint(field.callAsFunction, initial: initial, times: [0, 1],
                                             parameters: field.parameters(), options: options)
            (solution.final * solution.final).sum().backward()
            #expect(solution.backwardStatistics.error == nil, "\(String(describing: solution.backwardStatistics.error))")
            return (field.parameters().map { $0.grad! }, solution.backwardStatistics.functionEvaluations)
        }
        let points = Self.moderatePoints
        let whole = try lossAndGradients(Self.field(), points, Self.options)
        let pair = PairSum()
        let halves = try onTwoThreads { part in
            try lossAndGradients(Self.field(), Self.half(part, of: points), Self.options(summingThrough: pair, part: part))
        }
        #expect(halves.map(\.backwardNFE) == [whole.backwardNFE, whole.backwardNFE], "whole batch: \(whole.backwardNFE)")
        for (index, expected) in whole.gradients.enumerated() {
            expectClose(halves[0].gradients[index] + halves[1].gradients[index], expected, absolute: 1e-5, relative: 1e-4,
                        "parameter \(index)")
        }
        let alone = try (0..<2).map { try lossAndGradients(Self.field(), Self.half($0, of: points), Self.options).backwardNFE }
        #expect(alone != [whole.backwardNFE, whole.backwardNFE], "each half alone took the whole batch's \(whole.backwardNFE) evaluations")
    }

    @Test func aFailingSumStopsTheSolveNamingIt() throws {
        var options = Self.options
        options.sumOverProcesses = ODEProcessSum { _ in throw PairSum.Timeout() }
        do {
            _ = try odeint(Self.field().callAsFunction, initial: Self.points, times: [0, 1], options: options)
            Issue.record("the solve went on without its sum")
        } catch let error as ODEError {
            #expect(error.reason == .processSumFailed("\(PairSum.Timeout())"), "\(error)")
            #expect("\(error)".contains("summing the error norm over the processes failed"), "\(error)")
        }
    }
}

/// The element-wise sum of two threads' values, added in part order, every call of one thread
/// matched with the same-numbered call of the other; throws after 10 s without its partner.
final class PairSum: @unchecked Sendable {
    struct Timeout: Error, CustomStringConvertible {
        var description: String { "the other half did not arrive within 10 s" }
    }

    private let condition = NSCondition()
    private var calls = [0, 0]
    private var contributions: [Int: [[Double]?]] = [:]

    func sum(_ values: [Double], part: Int) throws -> [Double] {
        condition.lock()
        defer { condition.unlock() }
        let round = calls[part]
        calls[part] += 1
        contributions[round, default: [nil, nil]][part] = values
        condition.broadcast()
        let deadline = Date().addingTimeInterval(10)
        while contributions[round]!.contains(where: { $0 == nil }) {
            if !condition.wait(until: deadline) { throw Timeout() }
        }
        let (first, second) = (contributions[round]![0]!, contributions[round]![1]!)
        precondition(first.count == second.count, "PairSum: \(first.count) values against \(second.count) in call \(round)")
        return zip(first, second).map { $0 + $1 }
    }
}

/// `body(0)` and `body(1)` on two threads at once; their results in order.
func onTwoThreads<Value>(_ body: @escaping (Int) throws -> Value) throws -> [Value] {
    let results = TwoResults<Value>()
    let finished = DispatchSemaphore(value: 0)
    for part in 0..<2 {
        let thread = Thread {
            let result = Result { try body(part) }
            results.lock.lock()
            results.values[part] = result
            results.lock.unlock()
            finished.signal()
        }
        thread.stackSize = 8 << 20
        thread.start()
    }
    for _ in 0..<2 { finished.wait() }
    return try results.values.map { try $0!.get() }
}

/// The two threads' results, behind a lock.
final class TwoResults<Value>: @unchecked Sendable {
    let lock = NSLock()
    var values: [Result<Value, Error>?] = [nil, nil]
}
