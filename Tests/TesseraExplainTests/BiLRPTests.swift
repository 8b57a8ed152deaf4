import Testing
import TesseraExplain
import TesseraNN
import TesseraTensor

/// BiLRP (Eberle et al. 2020) on a bias-free ReLU embedding under LRP-0.
struct BiLRPTests {
    let embedding = randomMLP([6, 10, 4], bias: false, seed: 17)
    let x = randomInput([1, 6], low: 0, high: 1, seed: 1)
    let other = randomInput([1, 6], low: 0, high: 1, seed: 2)

    func biLRP() throws -> BiLRP {
        try BiLRP(embedding: embedding, composite: LayerMapComposite.uniform(ZeroRule()), inputShape: [6])
    }

    @Test func pairRelevancesSumToTheSimilarity() throws {
        let bilrp = try biLRP()
        let relevance = try bilrp.relevance(x, other)
        #expect(relevance.shape == [6, 6])
        let similarity = try bilrp.similarity(x, other)
        #expect(similarity != 0)
        #expect(Swift.abs(relevance.sum().item - similarity) <= 1e-5 + 1e-4 * Swift.abs(similarity))
    }

    @Test func pairRelevancesEqualTheMixedHessianTimesBothInputs() throws {
        let relevance = try biLRP().relevance(x, other)
        // ∂²y/∂x_i∂x'_i' by differentiating ∂y/∂x_i with respect to x', y = ⟨φ(x), φ(x')⟩.
        let hessian: [[Float]] = withGradientMode(true) {
            let left = x.copy().requiringGradient(), right = other.copy().requiringGradient()
            let similarity = (embedding(left) * embedding(right)).sum()
            let gradient = Tensor.gradients(of: similarity, withRespectTo: [left], createGraph: true)[0]
            return (0..<6).map { i in
                let seed = Tensor(shape: [1, 6]) { $0 == i ? 1 : 0 }
                return Tensor.gradients(of: gradient, withRespectTo: [right], seed: seed)[0].scalars
            }
        }
        let (a, b) = (x.scalars, other.scalars)
        let expected = Tensor(shape: [6, 6]) { index in hessian[index / 6][index % 6] * a[index / 6] * b[index % 6] }
        #expect(expected.scalars.contains { $0 != 0 })
        expectClose(relevance, expected, absolute: 1e-5, relative: 1e-4)
    }
}
