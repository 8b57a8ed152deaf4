import Foundation
import Testing
import TesseraNN
import TesseraTensor
@testable import TesseraGenerative

/// Every flow layer: exactly invertible, and its log-determinant is the brute-force `log |det J|`
/// of its autograd Jacobian on small inputs.
@Suite struct FlowLayerTests {
    func images(_ shape: [Int], seed: UInt64) -> Tensor {
        var generator = RandomGenerator(seed: seed)
        return Tensor.randomNormal(shape, generator: &generator)
    }

    @Test func additiveCouplingIsVolumePreserving() throws {
        var generator = RandomGenerator(seed: 1)
        let layer = AdditiveCoupling(features: 6, mask: [1, 0, 1, 0, 1, 0], hiddenSizes: [8], generator: &generator)
        let input = images([3, 6], seed: 2)
        try expectExactFlowLayer(layer, input: input, "additive coupling")
        let (output, _) = try layer.forward(input)
        // The kept (even) dimensions pass unchanged.
        expectClose(output.slice(alongAxis: 1, start: 0, step: 2), input.slice(alongAxis: 1, start: 0, step: 2), absolute: 0, relative: 0, "kept half")
    }

    @Test func diagonalScalingCarriesTheLogDeterminant() throws {
        let layer = DiagonalScaling(features: 4)
        layer.logScale.assign(Tensor([0.3, -0.2, 0.5, 0.1]))
        try expectExactFlowLayer(layer, input: images([2, 4], seed: 3), "diagonal scaling")
    }

    @Test(arguments: [CouplingMask.checkerboard(parity: 0), .checkerboard(parity: 1), .channel(parity: 0), .channel(parity: 1)])
    func affineCouplingLogDeterminantIsExact(_ mask: CouplingMask) throws {
        var generator = RandomGenerator(seed: 4)
        let layer = AffineCoupling(channels: 2, hiddenChannels: 4, mask: mask, generator: &generator)
        layer.scale.assign(Tensor([1.5, 0.7]))
        try expectExactFlowLayer(layer, input: images([2, 2, 4, 4], seed: 5), "affine coupling \(mask)")
    }

    @Test func squeezeIsAPermutation() throws {
        let layer = Squeeze()
        let input = Tensor(shape: [1, 1, 4, 4]) { Float($0) }
        let (output, logDeterminant) = try layer.forward(input)
        #expect(output.shape == [1, 4, 2, 2])
        // Channel 2i + j holds patch position (i, j): channel 1 is the top-right pixel of each patch.
        #expect(output.select(alongAxis: 1, index: 1).scalars == [1, 3, 9, 11])
        #expect(logDeterminant.scalars == [0])
        let batch = images([2, 2, 4, 6], seed: 6)
        expectClose(try layer.inverse(layer.forward(batch).output), batch, absolute: 0, relative: 0, "unsqueeze")
        #expect(abs(try bruteForceLogDeterminant({ try layer.forward($0).output }, at: images([1, 1, 2, 4], seed: 7))) < 1e-9)
    }

    @Test func squeezeRejectsOddImages() {
        #expect(throws: GenerativeError("Squeeze: height and width must be even to split into 2 × 2 patches, got 3 × 4")) {
            try Squeeze().forward(Tensor.zeros([1, 1, 3, 4]))
        }
    }

    @Test func actNormInitialisesFromTheData() throws {
        let layer = ActNorm(channels: 3)
        let batch = images([8, 3, 4, 4], seed: 8) * Tensor([2, 0.5, 3]).reshape([1, 3, 1, 1]) + Tensor([1, -2, 0.5]).reshape([1, 3, 1, 1])
        #expect(!layer.isInitialized)
        let (output, _) = try layer.forward(batch)
        #expect(layer.isInitialized)
        let mean = output.mean(alongAxes: [0, 2, 3]).scalars
        let deviation = output.variance(alongAxes: [0, 2, 3], correction: 0).sqrt().scalars
        for c in 0..<3 {
            #expect(abs(mean[c]) < 1e-5, "channel \(c) mean \(mean[c])")
            #expect(abs(deviation[c] - 1) < 1e-4, "channel \(c) std \(deviation[c])")
        }
        // A second batch does not re-initialise.
        let before = layer.bias.scalars
        _ = try layer.forward(batch * 5)
        #expect(layer.bias.scalars == before)
        try expectExactFlowLayer(layer, input: images([2, 3, 2, 2], seed: 9), "actnorm")
    }

    @Test func actNormInverseNeedsInitialisation() {
        #expect(throws: GenerativeError("ActNorm.inverse: the layer is not initialised (run a forward pass or initialize(from:) first)")) {
            try ActNorm(channels: 2).inverse(Tensor.zeros([1, 2, 2, 2]))
        }
    }

    @Test func invertibleConvolutionStartsAsARotationAndStaysExact() throws {
        var generator = RandomGenerator(seed: 10)
        let layer = try InvertibleConvolution1x1(channels: 4, generator: &generator)
        // The LU factors rebuild the orthogonal initial weight: W Wᵀ = I, |det W| = 1.
        let w = layer.weight()
        expectClose(w.matmul(w.transposed()), Tensor.eye(4), absolute: 1e-5, relative: 0, "W Wᵀ")
        #expect(abs(layer.logScale.sum().item) < 1e-5)
        // Away from the rotation, the log-determinant is still exact.
        layer.logScale.assign(layer.logScale + Tensor([0.2, -0.3, 0.1, 0.4]))
        layer.lower.assign(layer.lower + 0.3)
        try expectExactFlowLayer(layer, input: images([2, 4, 2, 2], seed: 11), "1×1 convolution")
    }

    @Test func glowCouplingLogDeterminantIsExact() throws {
        var generator = RandomGenerator(seed: 12)
        let layer = try GlowCoupling(channels: 4, hiddenChannels: 6, zeroInitialize: false, generator: &generator)
        try expectExactFlowLayer(layer, input: images([2, 4, 2, 2], seed: 13), "Glow coupling")
        let zero = try GlowCoupling(channels: 4, hiddenChannels: 6, zeroInitialize: true, generator: &generator)
        let input = images([1, 4, 2, 2], seed: 14)
        let (output, _) = try zero.forward(input)
        // A zero last layer gives s = sigmoid(2) and t = 0: the changed half is scaled by 0.881.
        let scale = Float(1 / (1 + exp(-2.0)))
        expectClose(output.slice(alongAxis: 1, start: 2), input.slice(alongAxis: 1, start: 2) * scale, absolute: 1e-6, relative: 0, "zero init")
    }

    @Test func glowStepComposesItsLayers() throws {
        var generator = RandomGenerator(seed: 15)
        let step = try GlowStep(channels: 4, hiddenChannels: 6, zeroInitialize: false, generator: &generator)
        try step.actnorm.initialize(from: images([6, 4, 2, 2], seed: 16) * 2)
        try expectExactFlowLayer(step, input: images([2, 4, 2, 2], seed: 17), "Glow step")
    }

    @Test func layersRejectWrongShapes() throws {
        var generator = RandomGenerator(seed: 18)
        #expect(throws: GenerativeError("AffineCoupling: expected input [batch, 2, height, width], got shape [1, 3, 4, 4]")) {
            try AffineCoupling(channels: 2, hiddenChannels: 2, mask: .channel(parity: 0), generator: &generator).forward(Tensor.zeros([1, 3, 4, 4]))
        }
        #expect(throws: GenerativeError("InvertibleConvolution1x1: expected input [batch, 3, height, width], got shape [1, 3]")) {
            try InvertibleConvolution1x1(channels: 3, generator: &generator).forward(Tensor.zeros([1, 3]))
        }
        #expect(throws: GenerativeError("GlowCoupling: channels must be even and at least 2 to split in half, got 3")) {
            try GlowCoupling(channels: 3, hiddenChannels: 2, zeroInitialize: true, generator: &generator)
        }
        #expect(throws: GenerativeError("AdditiveCoupling: expected input [batch, 4], got shape [2, 5]")) {
            try AdditiveCoupling(features: 4, mask: [1, 0, 1, 0], hiddenSizes: [3], generator: &generator).forward(Tensor.zeros([2, 5]))
        }
    }
}
