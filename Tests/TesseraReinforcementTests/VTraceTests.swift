import Foundation
import Testing
import TesseraReinforcement
import TesseraTensor

/// V-trace (IMPALA §4.1) against an independent numpy evaluation of the paper's explicit sums
/// (`Tests/Fixtures/fixtures_vtrace.py`), and its on-policy reduction to n-step returns.
@Suite struct VTraceTests {
    static func input(_ fixture: Fixture, _ key: String) throws -> (VTraceInput, settings: [Float]) {
        let (shape, rewards) = try fixture.values("\(key).rewards")
        let flags = { (name: String) throws -> [Bool] in try fixture.values("\(key).\(name)").data.map { $0 != 0 } }
        let input = VTraceInput(
            steps: shape[0], copies: shape[1],
            behaviourLogProbabilities: try fixture.values("\(key).behaviour").data,
            targetLogProbabilities: try fixture.values("\(key).target").data,
            rewards: rewards, values: try fixture.values("\(key).values").data,
            bootstrapValues: try fixture.values("\(key).bootstrap").data,
            terminated: try flags("terminated"), truncated: try flags("truncated"),
            truncationValues: try fixture.values("\(key).truncationValues").data)
        return (input, try fixture.values("\(key).settings").data)
    }

    @Test(arguments: ["clipped", "looseRho", "unclipped", "onPolicy"])
    func targetsAndAdvantagesMatchThePapersSums(_ key: String) throws {
        let fixture = try Fixture("vtrace")
        let (input, settings) = try Self.input(fixture, key)
        #expect(input.terminated.contains(true) && input.truncated.contains(true), "the case must exercise both episode ends")
        let output = vtrace(input, discount: settings[0], importanceClip: settings[1], traceClip: settings[2])
        let shape = [input.steps, input.copies]
        expectClose(Tensor(shape: shape, scalars: output.targets), try fixture.tensor("\(key).vs"), absolute: 1e-4, relative: 1e-4, "\(key) v_s")
        expectClose(Tensor(shape: shape, scalars: output.advantages), try fixture.tensor("\(key).advantages"),
                    absolute: 1e-4, relative: 1e-4, "\(key) advantages")
    }

    /// With π = μ every ρ and c is 1, so v_s is the discounted sum of rewards to the episode's end
    /// or the rollout's end plus the discounted bootstrap there: the n-step return.
    @Test func onPolicyTargetsAreNStepReturns() {
        let steps = 6, copies = 2, discount: Float = 0.9
        let rewards: [Float] = (0..<steps * copies).map { Float($0 % 5) - 1.5 }
        let values: [Float] = (0..<steps * copies).map { Float($0) * 0.3 - 2 }
        var terminated = [Bool](repeating: false, count: steps * copies), truncated = terminated
        terminated[2 * copies + 0] = true  // copy 0 ends at step 2, a new episode follows
        truncated[3 * copies + 1] = true   // copy 1 is cut off at step 3
        var truncationValues = [Float](repeating: 0, count: steps * copies)
        truncationValues[3 * copies + 1] = 4
        let bootstrap: [Float] = [10, -3]
        let logProbabilities: [Float] = (0..<steps * copies).map { -0.1 - Float($0) * 0.05 }
        let output = vtrace(VTraceInput(steps: steps, copies: copies, behaviourLogProbabilities: logProbabilities,
                                        targetLogProbabilities: logProbabilities, rewards: rewards, values: values,
                                        bootstrapValues: bootstrap, terminated: terminated, truncated: truncated,
                                        truncationValues: truncationValues), discount: discount)
        for i in 0..<copies {
            for s in 0..<steps {
                var expected: Float = 0, scale: Float = 1, t = s
                while true {
                    let index = t * copies + i
                    expected += scale * rewards[index]
                    scale *= discount
                    if terminated[index] { break }
                    if truncated[index] { expected += scale * truncationValues[index]; break }
                    if t == steps - 1 { expected += scale * bootstrap[i]; break }
                    t += 1
                }
                let index = s * copies + i
                #expect(abs(output.targets[index] - expected) <= 1e-4 * max(1, abs(expected)),
                        "copy \(i) step \(s): v_s \(output.targets[index]), n-step return \(expected)")
                #expect(output.clippedImportanceWeights[index] == 1)
            }
        }
        // On-policy the advantage is the n-step return minus the baseline.
        #expect(abs(output.advantages[0] - (output.targets[0] - values[0])) < 1e-4)
    }

    /// Clipping at ρ̄ caps how much one unlikely-under-μ action can move the targets.
    @Test func importanceWeightsAreClippedAtRhoBar() {
        let input = VTraceInput(steps: 1, copies: 1, behaviourLogProbabilities: [log(0.1)], targetLogProbabilities: [log(0.9)],
                                rewards: [1], values: [0], bootstrapValues: [0], terminated: [true], truncated: [false],
                                truncationValues: [0])
        #expect(abs(vtrace(input, discount: 0.99, importanceClip: 1).targets[0] - 1) < 1e-6)
        #expect(abs(vtrace(input, discount: 0.99, importanceClip: 100).targets[0] - 9) < 1e-4)
    }
}
