import Foundation
import Testing

@testable import TesseraPicture

@Suite struct AxisTicksTests {
    func close(_ a: [Double], _ b: [Double]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-12 * max(abs($1), 1e-300) || $0 == $1 }
    }

    @Test func ticksFallOnOneTwoFiveStepsForSeveralRanges() {
        #expect(close(AxisTicks.linear(0...1), [0, 0.2, 0.4, 0.6, 0.8, 1]))
        #expect(close(AxisTicks.linear(0.0008...1462), [200, 400, 600, 800, 1000, 1200, 1400]))
        #expect(close(AxisTicks.linear(0...1.05), [0, 0.2, 0.4, 0.6, 0.8, 1]))
        #expect(close(AxisTicks.linear(0...138), [0, 20, 40, 60, 80, 100, 120]))
        // The old axis (2.38, 1.76, −0.0885): now 0, 0.5, …, 2.
        #expect(close(AxisTicks.linear(-0.0885...2.38), [0, 0.5, 1, 1.5, 2]))
        #expect(close(AxisTicks.linear(0.9...0.97), [0.9, 0.91, 0.92, 0.93, 0.94, 0.95, 0.96, 0.97]))
        #expect(close(AxisTicks.linear(1e-5...5e-5), [1e-5, 2e-5, 3e-5, 4e-5, 5e-5]))
        #expect(close(AxisTicks.linear(-520...(-30)), [-500, -400, -300, -200, -100]))
        #expect(close(AxisTicks.linear(0...499_712), [0, 100_000, 200_000, 300_000, 400_000]))
        #expect(AxisTicks.linear(-1...1).contains(0), "zero is exactly a tick, not 1e-17")
    }

    @Test func everyStepIsOneTwoOrFiveTimesAPowerOfTenWithThreeToNineTicks() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let low = Double.random(in: -1000...1000, using: &generator) * pow(10, Double(Int.random(in: -6...6, using: &generator)))
            let span = pow(10, Double.random(in: -6...6, using: &generator))
            let step = AxisTicks.step(span: span)
            let mantissa = step / pow(10, floor(log10(step)))
            #expect([1, 2, 5].contains { abs(mantissa - $0) < 1e-9 }, "step \(step) for span \(span)")
            let ticks = AxisTicks.linear(low...(low + span))
            #expect((3...9).contains(ticks.count), "\(ticks.count) ticks on \(low)…\(low + span)")
        }
    }

    @Test func labelsCarryTheDecimalsTheStepNeeds() {
        #expect(AxisTicks.label(0.4, step: 0.2) == "0.4")
        #expect(AxisTicks.label(3 * 0.1, step: 0.1) == "0.3")
        #expect(AxisTicks.label(2, step: 0.5) == "2.0")
        #expect(AxisTicks.label(0.95, step: 0.05) == "0.95")
        #expect(AxisTicks.label(120, step: 20) == "120")
        #expect(AxisTicks.label(-1e-17, step: 0.2) == "0")
        #expect(AxisTicks.label(2.4e-4, step: 2e-5) == "2.4e-4")
        #expect(AxisTicks.label(3e6, step: 1e6) == "3e6")
    }

    @Test func logAxesTickAtPowersOfTenAndAddTwoAndFiveWhenShort() {
        #expect(close(AxisTicks.logarithmic(0.005...3), [0.01, 0.1, 1]))
        #expect(close(AxisTicks.logarithmic(1e-4...1e2), [1e-4, 1e-3, 1e-2, 0.1, 1, 10, 100]))
        #expect(close(AxisTicks.logarithmic(0.3...4), [0.5, 1, 2]))
        #expect(AxisTicks.logarithmic(-1...4).isEmpty)
        #expect(AxisTicks.logLabel(1e-3) == "1e-3" && AxisTicks.logLabel(0.5) == "0.5" && AxisTicks.logLabel(20) == "20" && AxisTicks.logLabel(1e4) == "1e4")
    }

    @Test func theDebiasedMovingAverageMatchesHandComputedValues() {
        // weight 0.5 over 1, 2, 3: last = 0.5, 1.25, 2.125; debiased by 1 − 0.5ⁿ = 0.5, 0.75, 0.875.
        let smoothed = exponentialMovingAverage([1, 2, 3], weight: 0.5)
        #expect(close(smoothed, [1, 1.25 / 0.75, 2.125 / 0.875]))
        // weight 0.6 over 4, 0: last = 1.6, 0.96; debiased by 0.4, 0.64 → 4, 1.5.
        #expect(close(exponentialMovingAverage([4, 0], weight: 0.6), [4, 1.5]))
        // A NaN passes through and does not count: the third value is debiased as the second.
        let gap = exponentialMovingAverage([1, .nan, 3], weight: 0.5)
        #expect(gap[0] == 1 && gap[1].isNaN && abs(gap[2] - 1.75 / 0.75) < 1e-12)
        #expect(exponentialMovingAverage([2, 2, 2], weight: 0.9) == [2, 2, 2])
        #expect(exponentialMovingAverage([1, 5], weight: 0) == [1, 5])
    }
}
