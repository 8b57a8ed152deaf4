import Foundation
import Testing
@testable import TesseraTensor

/// The vectorised `exp`, tanh and sigmoid against double-precision libm, over the whole float range
/// (the PyTorch fixtures only cover a handful of moderate values).
@Suite struct VectorMathTests {
    /// Distance in units in the last place between two finite floats of the same sign.
    private func ulps(_ a: Float, _ b: Float) -> Int {
        Swift.abs(Int(a.bitPattern) - Int(b.bitPattern))
    }

    @Test func exponentialIsWithinTwoUlpsFromUnderflowToOverflow() {
        // 200,001 points from −104 to 89, plus a tail that is not a multiple of eight lanes.
        let inputs = (0...200_000).map { Float(-104 + 193 * Double($0) / 200_000) }
        let outputs = Tensor(inputs).exp().scalars
        var worst = 0
        for (x, y) in zip(inputs, outputs) {
            let expected = Float(Foundation.exp(Double(x)))
            worst = Swift.max(worst, expected.isInfinite ? (y.isInfinite ? 0 : Int.max) : ulps(y, expected))
        }
        #expect(worst <= 2, "largest error \(worst) ulp")
    }

    @Test func exponentialHandlesInfinitiesNaNAndExtremes() {
        let y = Tensor([.infinity, -.infinity, .nan, 0, 88.7, 89, -87, -103, -200, 1000]).exp().scalars
        #expect(y[0] == .infinity)
        #expect(y[1] == 0)
        #expect(y[2].isNaN)
        #expect(y[3] == 1)
        #expect(y[4].isFinite && ulps(y[4], Float(Foundation.exp(Double(Float(88.7))))) <= 2)
        #expect(y[5] == .infinity)
        #expect(y[6] > 0 && y[6] < Float.leastNormalMagnitude * 2)
        #expect(y[7] > 0 && y[7].isSubnormal)
        #expect(y[8] == 0)
        #expect(y[9] == .infinity)
    }

    @Test func tanhMatchesLibmAcrossTheRange() {
        let inputs = (0...40_000).map { Float(-20 + 40 * Double($0) / 40_000) } + [1e-30, -1e-30, 0, 100, -100, .infinity, -.infinity]
        let outputs = Tensor(inputs).tanh().scalars
        for (x, y) in zip(inputs, outputs) {
            let expected = Float(Foundation.tanh(Double(x)))
            #expect(Swift.abs(y - expected) <= 2 * expected.ulp, "tanh(\(x)) = \(y), expected \(expected)")
        }
        #expect(Tensor([.nan]).tanh().scalars[0].isNaN)
    }

    @Test func sigmoidMatchesLibmAcrossTheRange() {
        let inputs = (0...20_000).map { Float(-100 + 200 * Double($0) / 20_000) } + [.infinity, -.infinity]
        let outputs = Tensor(inputs).sigmoid().scalars
        for (x, y) in zip(inputs, outputs) {
            let expected = Float(1 / (1 + Foundation.exp(-Double(x))))
            #expect(Swift.abs(y - expected) <= 3 * expected.ulp, "sigmoid(\(x)) = \(y), expected \(expected)")
        }
        #expect(Tensor([.nan]).sigmoid().scalars[0].isNaN)
    }
}
