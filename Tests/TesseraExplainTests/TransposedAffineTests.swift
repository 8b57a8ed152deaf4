import Testing
import TesseraExplain
import TesseraNN
import TesseraTensor

/// The rules' step 3, `Jᵀ s`, taken directly (a matrix product, a transposed convolution) equals
/// what autograd gives for the same map, for strided, padded, dilated and grouped convolutions
/// whose input sizes the stride rounds down.
struct TransposedAffineTests {
    func autogradTransposed(_ layer: any AffineLayer, _ seed: Tensor, inputShape: [Int]) -> Tensor {
        withGradientMode(true) {
            let x = Tensor.zeros(inputShape).requiringGradient()
            return Tensor.gradients(of: layer.affine(x, weight: layer.weight.detached(), bias: nil), withRespectTo: [x], seed: seed)[0]
        }
    }

    func expectEqual(_ layer: any AffineLayer, inputShape: [Int], seed: UInt64) {
        var generator = RandomGenerator(seed: seed)
        let output = withoutGradients { layer(Tensor.randomNormal(inputShape, generator: &generator)) }
        let relevance = Tensor.randomNormal(output.shape, generator: &generator)
        let direct = layer.transposedAffine(relevance, weight: layer.weight, inputShape: inputShape)
        let reference = autogradTransposed(layer, relevance, inputShape: inputShape)
        #expect(direct.shape == inputShape)
        let scale = reference.scalars.map(abs).max() ?? 1
        #expect(zip(direct.scalars, reference.scalars).allSatisfy { abs($0 - $1) <= 1e-5 * scale })
    }

    @Test func linearOverLeadingAxes() {
        var generator = RandomGenerator(seed: 1)
        expectEqual(Linear(5, 3, generator: &generator), inputShape: [2, 4, 5], seed: 2)
    }

    @Test(arguments: [(1, 1, 1, 1, 7), (2, 1, 1, 1, 7), (2, 0, 1, 1, 8), (3, 2, 2, 1, 9), (1, 1, 1, 2, 6)])
    func convolution(stride: Int, padding: Int, dilation: Int, groups: Int, size: Int) {
        var generator = RandomGenerator(seed: 3)
        let layer = Conv2d(4, 6, kernelSize: 3, stride: IntOrPair(stride), padding: IntOrPair(padding), dilation: IntOrPair(dilation),
                           groups: groups, generator: &generator)
        expectEqual(layer, inputShape: [2, 4, size, size + 1], seed: 4)
    }
}
