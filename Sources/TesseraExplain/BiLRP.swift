import TesseraNN
import TesseraTensor

/// BiLRP (Eberle et al., "Building and Interpreting Deep Similarity Models", IEEE TPAMI 2020): which
/// *pairs* of input features make two inputs similar under `y(x, x') = ⟨φ(x), φ(x')⟩`, for an
/// embedding network φ.
///
/// The second-order relevance of the pair `(i, i')` is, in the factored form of the paper (eq. (8)),
/// `R_ii' = Σ_m LRP(φ_m)(x)_i · LRP(φ_m)(x')_i'`: one LRP pass per embedding coordinate `m` and input,
/// each starting from `φ_m`, then a product over `m`. With a conservative rule (LRP-0 without
/// biases) the pair relevances sum to `y`; for a bias-free ReLU network under LRP-0 they equal
/// `∂²y/∂x_i∂x'_i' · x_i · x'_i'`, since every φ_m is then linear around the input.
public struct BiLRP {
    /// Explains the embedding's coordinates.
    public let explainer: Explainer

    public init(explainer: Explainer) {
        self.explainer = explainer
    }

    public init(embedding: any ExplainableModel, composite: any Composite, inputShape: [Int]) throws {
        explainer = try Explainer(model: embedding, composite: composite, inputShape: inputShape)
    }

    /// `R_ii'` for one pair, each input `[1] + inputShape`: a `[d, d']` matrix over the flattened inputs.
    public func relevance(_ x: Tensor, _ other: Tensor) throws -> Tensor {
        let left = try coordinateRelevances(x).relevances, right = try coordinateRelevances(other).relevances
        return withoutGradients { left.transposed().matmul(right) }
    }

    /// `⟨φ(x), φ(x')⟩`, the similarity ``relevance(_:_:)`` decomposes.
    public func similarity(_ x: Tensor, _ other: Tensor) throws -> Float {
        let left = try explainer.output(x), right = try explainer.output(other)
        return withoutGradients { (left * right).sum().item }
    }

    /// Row `m` is LRP of `φ_m` at `x` (one input, `[1] + inputShape`), flattened: `[M, d]`; with the
    /// embedding `φ(x)` `[1, M]`. All M passes run as one batch.
    public func coordinateRelevances(_ x: Tensor) throws -> (relevances: Tensor, embedding: Tensor) {
        guard x.rank >= 1, x.shape[0] == 1 else {
            throw ExplainError.inputShape(expected: [1] + explainer.inputShape, got: x.shape)
        }
        let embedding = try explainer.output(x)
        guard embedding.rank == 2 else { throw ExplainError.outputNotRankTwo(shape: embedding.shape) }
        let coordinates = embedding.shape[1]
        let copies = Tensor.concatenate(Array(repeating: x, count: coordinates), alongAxis: 0)
        // Row m starts from φ_m(x) at coordinate m alone.
        let start = withoutGradients { Tensor.eye(coordinates) * embedding }
        let explanation = try explainer.explain(copies, target: .relevance(start))
        return (explanation.inputRelevance.reshape([coordinates, -1]), embedding)
    }
}
