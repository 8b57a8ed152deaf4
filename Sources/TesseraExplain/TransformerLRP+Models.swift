import TesseraNN
import TesseraTensor
import TesseraTransformers

// The forward passes of Tessera's transformers as steps for the ``Explainer`` (Ali et al. 2022's
// detachment method; the rules are in TransformerLRP.swift). Residual sums split relevance in
// proportion to the contributions (``ExplainableLayer/residual(name:body:)``); dropout is the
// identity in evaluation and is left out.

// MARK: - Layers that bring their rule

extension MultiHeadAttention: RelevancePropagating {
    /// Probabilities detached, LRP-ε through the values (``AttentionRule``).
    public var relevanceRule: any RelevanceRule { AttentionRule() }
}

extension LayerNorm: RelevancePropagating {
    /// σ detached, LRP-ε through the centring and scaling (``LayerNormRule``).
    public var relevanceRule: any RelevanceRule { LayerNormRule() }
}

extension TokenEmbedding: RelevancePropagating {
    /// A token's relevance is its embedding's, summed over the features (``TokenEmbeddingRule``).
    public var relevanceRule: any RelevanceRule { TokenEmbeddingRule() }
}

// MARK: - Steps for the parts a model does inline

/// `x + positions`: the learned positional embedding added to the tokens. The tokens keep the
/// share they contributed to each sum and the positions (a constant of the model) the rest, the
/// residual split with a constant branch (``NormRule``).
public final class AddPositions: RelevancePropagating {
    public let positions: LearnedPositionalEmbedding

    public init(_ positions: LearnedPositionalEmbedding) {
        self.positions = positions
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        input + positions(length: input.shape[1])
    }

    public var relevanceRule: any RelevanceRule { NormRule() }
}

/// `[token; x]`: a learned token (ViT's [CLS]) put before the sequence. Its row's relevance is the
/// constant's share; the other rows keep theirs (``SelectionRule``).
public final class PrependToken: RelevancePropagating {
    /// `[1, 1, dimensions]`.
    public let token: Tensor

    public init(_ token: Tensor) {
        self.token = token
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        Tensor.concatenate([token.expand(to: [input.shape[0], 1, input.shape[2]]), input], alongAxis: 1)
    }

    public var relevanceRule: any RelevanceRule { SelectionRule() }
}

/// `x[:, index, :]`: one token's output (ViT's [CLS]) for the head; relevance goes back to that
/// token only (``SelectionRule``).
public final class SelectToken: RelevancePropagating {
    public let index: Int

    public init(index: Int) {
        self.index = index
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.select(alongAxis: 1, index: index)
    }

    public var relevanceRule: any RelevanceRule { SelectionRule() }
}

/// The mean over the tokens, `[batch, tokens, d] → [batch, d]`: each token keeps the share it
/// contributed to the mean (``NormRule``), as average pooling does.
public final class MeanOverTokens: RelevancePropagating {
    public init() {}

    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.mean(alongAxes: [1])
    }

    public var relevanceRule: any RelevanceRule { NormRule() }
}

/// A ViT's image cut into flattened patches (`PatchEmbedding.patches(_:)`): a permutation of the
/// pixels, so each pixel takes back its element's relevance (``SelectionRule``).
public final class CutIntoPatches: RelevancePropagating {
    public let embedding: PatchEmbedding

    public init(_ embedding: PatchEmbedding) {
        self.embedding = embedding
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        embedding.patches(input)
    }

    public var relevanceRule: any RelevanceRule { SelectionRule() }
}

// MARK: - Blocks

extension FeedForward: ExplainableModel {
    public func explainableLayers() throws -> [ExplainableLayer] {
        [ExplainableLayer(name: "expand", layer: expand), ExplainableLayer(name: "activation", layer: activation.layer),
         ExplainableLayer(name: "contract", layer: contract)]
    }
}

extension TransformerEncoderLayer: ExplainableModel {
    /// Pre-LN: `x + attention(attentionNorm(x))`, then `x + feedForward(feedForwardNorm(x))`.
    /// Post-LN: `attentionNorm(x + attention(x))`, then `feedForwardNorm(x + feedForward(x))`.
    public func explainableLayers() throws -> [ExplainableLayer] {
        let attentionStep = ExplainableLayer(name: "attention", layer: attention)
        let feedForwardSteps = try TesseraExplain.explainableLayers(of: feedForward, named: "feedForward")
        let (attentionNormStep, feedForwardNormStep) = (ExplainableLayer(name: "attentionNorm", layer: attentionNorm),
                                                        ExplainableLayer(name: "feedForwardNorm", layer: feedForwardNorm))
        switch normalization {
        case .preNorm:
            return [.residual(name: "attentionResidual", body: [attentionNormStep, attentionStep]),
                    .residual(name: "feedForwardResidual", body: [feedForwardNormStep] + feedForwardSteps)]
        case .postNorm:
            return [.residual(name: "attentionResidual", body: [attentionStep]), attentionNormStep,
                    .residual(name: "feedForwardResidual", body: feedForwardSteps), feedForwardNormStep]
        }
    }
}

extension TransformerEncoder: ExplainableModel {
    /// `layers.k` in order, then the final layer norm of a pre-LN stack.
    public func explainableLayers() throws -> [ExplainableLayer] {
        var steps = try layers.enumerated().flatMap { index, layer in try TesseraExplain.explainableLayers(of: layer, named: "layers.\(index)") }
        if let finalNorm { steps.append(ExplainableLayer(name: "finalNorm", layer: finalNorm)) }
        return steps
    }
}

// MARK: - Models

extension VisionTransformer: ExplainableModel {
    /// Pixels → patches → projection → [CLS] prepended → positions added → encoder → [CLS] output →
    /// head. The relevance that reaches the [CLS] token and the positions stays with those
    /// constants; the rest lands on the pixels.
    public func explainableLayers() throws -> [ExplainableLayer] {
        [ExplainableLayer(name: "patchEmbedding", layer: CutIntoPatches(patchEmbedding)),
         ExplainableLayer(name: "patchEmbedding.projection", layer: patchEmbedding.projection),
         ExplainableLayer(name: "classToken", layer: PrependToken(classToken)),
         ExplainableLayer(name: "positionEmbedding", layer: AddPositions(positionEmbedding))]
            + (try TesseraExplain.explainableLayers(of: encoder, named: "encoder"))
            + [ExplainableLayer(name: "classTokenOutput", layer: SelectToken(index: 0)), ExplainableLayer(name: "head", layer: head)]
    }
}

extension SequenceClassifier: ExplainableModel {
    /// Tokens → embeddings → positions added → encoder → mean over positions → head. The input
    /// relevance is one value per token (its embedding's relevance summed over the features).
    public func explainableLayers() throws -> [ExplainableLayer] {
        [ExplainableLayer(name: "tokenEmbedding", layer: tokenEmbedding),
         ExplainableLayer(name: "positionEmbedding", layer: AddPositions(positionEmbedding))]
            + (try TesseraExplain.explainableLayers(of: encoder, named: "encoder"))
            + [ExplainableLayer(name: "pool", layer: MeanOverTokens()), ExplainableLayer(name: "head", layer: head)]
    }
}
