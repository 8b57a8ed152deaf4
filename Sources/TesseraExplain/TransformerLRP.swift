import TesseraNN
import TesseraTensor
import TesseraTransformers

/// Transformer LRP by detachment (Ali et al., "XAI for Transformers: Better Explanations through
/// Conservative Propagation", ICML 2022).
///
/// Attention and layer norm are the two parts of a transformer through which a gradient-like
/// propagation loses conservation: the softmax's and the standard deviation's derivatives mix
/// relevance across tokens and features. The paper's fix is to hold both constant at their
/// forward-pass values — the attention probabilities `p_ij` and the normalisation `σ` — so that
/// each block becomes linear in its input, and to propagate LRP-ε (or LRP-0) through that linear
/// map:
///
/// - attention (the paper's AH-rule): `y_i = Σ_j p_ij v_j` with `p` detached, so relevance reaches
///   the tokens only through the values; queries and keys receive none;
/// - layer norm (the LN-rule): `y = (x − mean(x)) · γ / σ + β` with `σ` detached.
///
/// Everything else in a block (the linear layers, the residual sums, the feed-forward network) is
/// handled by the ordinary rules. With LRP-0 and no biases the relevance of every block's input
/// sums to the explained logit, and LRP-0's input relevance is gradient × input of the detached
/// model (`TransformerLRPTests`). The steps of Tessera's transformers are listed in
/// `TransformerLRP+Models.swift`; any composite explains them (the attention, layer norm and
/// embedding steps bring their own rules), ``composite(epsilon:)`` is the paper's uniform choice.
///
/// ```swift
/// let explainer = try Explainer(model: classifier, composite: TransformerLRP.composite(epsilon: 0), inputShape: [16])
/// let tokens = try explainer.explain(sequences, target: .outputs(labels)).inputRelevance  // [N, 16]
/// ```
public enum TransformerLRP {
    /// The same ε at every linear layer, attention and layer norm; ε = 0 is LRP-0 everywhere
    /// (conservative without biases, gradient × input of the detached model with them).
    public static func composite(epsilon: Float = 0) -> LayerMapComposite {
        let linear: any RelevanceRule = epsilon == 0 ? ZeroRule() : EpsilonRule(epsilon: epsilon)
        return LayerMapComposite.uniform(linear)
            .assigning(AttentionRule(epsilon: epsilon), to: MultiHeadAttention.self)
            .assigning(LayerNormRule(epsilon: epsilon), to: LayerNorm.self)
    }
}

/// LRP-ε through self-attention with the attention probabilities detached (Ali et al. 2022, Sect. 3):
/// output projection, then the mixing `y_i = Σ_j p_ij v_j` of each head, then the value projection,
/// each by LRP-ε. ε = 0 is LRP-0. The probabilities are recomputed from the step's input as the
/// step computes them: self-attention without a mask (`MultiHeadAttention` as a `Layer`).
public struct AttentionRule: RelevanceRule {
    /// Added to each denominator with its sign; 0 gives LRP-0 (a zero denominator passes nothing).
    public var epsilon: Float

    public init(epsilon: Float = 1e-6) {
        self.epsilon = epsilon
    }

    public var description: String { "attention LRP-ε(\(epsilon)), probabilities detached" }

    public func inputRelevance(layer: any Layer, input: Tensor, output: Tensor, relevance: Tensor) throws -> Tensor {
        guard let attention = layer as? MultiHeadAttention else {
            throw ExplainError.ruleDoesNotApply(rule: description, layer: "", type: "\(type(of: layer))")
        }
        return withoutGradients {
            let heads = attention.headCount, depth = attention.headDimensions
            let split = { (x: Tensor) in x.reshape([x.shape[0], x.shape[1], heads, depth]).permuted([0, 2, 1, 3]) }
            let merge = { (x: Tensor) in x.permuted([0, 2, 1, 3]).reshape([x.shape[0], x.shape[2], heads * depth]) }
            let scores = Tensor.matmul(split(attention.query(input)) * (1 / Float(depth).squareRoot()), split(attention.key(input)),
                                       transposeA: false, transposeB: true)
            let probabilities = scores.softmax(alongAxis: -1).detached()
            let mixing = { (values: Tensor) in merge(probabilities.matmul(split(values))) }

            let values = attention.value(input)
            let mixed = mixing(values)
            let onMixed = epsilonRelevance(through: { attention.output($0) }, input: mixed, relevance: relevance, epsilon: epsilon)
            let onValues = epsilonRelevance(through: mixing, input: values, relevance: onMixed, epsilon: epsilon)
            return epsilonRelevance(through: { attention.value($0) }, input: input, relevance: onValues, epsilon: epsilon)
        }
    }
}

/// LRP-ε through a layer norm with its normalisation `σ` detached (Ali et al. 2022, Sect. 3): the
/// layer is then the linear map `x ↦ (x − mean(x)) · γ / σ + β` of the features, and relevance is
/// redistributed over it like over any affine layer. The mean stays part of the map, so each
/// feature's share is measured against its deviation from the mean. ε = 0 is LRP-0.
public struct LayerNormRule: RelevanceRule {
    /// Added to each denominator with its sign; 0 gives LRP-0 (a zero denominator passes nothing).
    public var epsilon: Float

    public init(epsilon: Float = 1e-6) {
        self.epsilon = epsilon
    }

    public var description: String { "layer norm LRP-ε(\(epsilon)), σ detached" }

    public func inputRelevance(layer: any Layer, input: Tensor, output: Tensor, relevance: Tensor) throws -> Tensor {
        guard let norm = layer as? LayerNorm else {
            throw ExplainError.ruleDoesNotApply(rule: description, layer: "", type: "\(type(of: layer))")
        }
        return withoutGradients {
            let features = norm.normalizedShape.reduce(1, *)
            let rows = input.reshape([-1, features])
            let centered = rows - rows.mean(alongAxes: [1], keepDims: true)
            let sigma = ((centered * centered).mean(alongAxes: [1], keepDims: true) + norm.epsilon).sqrt().detached()
            let scale = (norm.weight?.detached().reshape([1, features]) ?? Tensor.ones([1, features])) / sigma
            let shift = norm.bias?.detached().reshape([1, features]) ?? Tensor.zeros([1, features])
            let detachedNorm = { (x: Tensor) in (x - x.mean(alongAxes: [1], keepDims: true)) * scale + shift }
            return epsilonRelevance(through: detachedNorm, input: rows, relevance: relevance.reshape([-1, features]), epsilon: epsilon)
                .reshape(input.shape)
        }
    }
}

/// The relevance of each token of a `TokenEmbedding` (the input layer of a sequence model): the
/// sum of its embedding vector's relevances over the feature dimensions, as Ali et al. (2022) report
/// token relevances. Conservative: nothing is lost between the embeddings and the tokens.
public struct TokenEmbeddingRule: RelevanceRule {
    public init() {}

    public var description: String { "token sum" }

    public func inputRelevance(layer: any Layer, input: Tensor, output: Tensor, relevance: Tensor) throws -> Tensor {
        guard output.rank == input.rank + 1, Array(output.shape.dropLast()) == input.shape else {
            throw ExplainError.ruleDoesNotApply(rule: description, layer: "", type: "\(type(of: layer)) (maps \(input.shape) to \(output.shape))")
        }
        return withoutGradients { relevance.sum(alongAxes: [relevance.rank - 1]) }
    }
}

/// For a layer that only moves, picks or drops elements — cutting an image into patches, picking
/// the [CLS] token's output, prepending a constant token — each input element takes the relevance
/// of the output elements it became, `R_in = Jᵀ R` (the Jacobian holds only zeros and ones). An
/// output element that comes from no input (the prepended token) keeps its relevance: it is the
/// constant's share.
public struct SelectionRule: RelevanceRule {
    public init() {}

    public var description: String { "selection" }

    public func inputRelevance(layer: any Layer, input: Tensor, output: Tensor, relevance: Tensor) throws -> Tensor {
        withoutGradients { transposedProduct({ layer($0) }, at: input, seed: relevance) }
    }
}

// MARK: - LRP-ε on any affine map

/// LRP-ε on a map that is affine in its input (Montavon et al. 2019, Sect. 10.2.2): `z = map(a)`,
/// `s = R / (z + ε·sign z)`, `c = Jᵀ s`, `R_in = a · c`. A zero denominator (possible with ε = 0)
/// passes no relevance rather than dividing by zero.
func epsilonRelevance(through map: (Tensor) -> Tensor, input: Tensor, relevance: Tensor, epsilon: Float) -> Tensor {
    let denominator = stabilized(map(input), epsilon)
    let isZero = denominator.equal(0)
    let s = relevance * (1 - isZero) / (denominator + isZero)
    return input * transposedProduct(map, at: input, seed: s)
}
