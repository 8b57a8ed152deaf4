import TesseraNN
import TesseraTensor

/// One rule of layer-wise relevance propagation (Bach et al., "On Pixel-Wise Explanations for
/// Non-Linear Classifier Decisions by Layer-Wise Relevance Propagation", PLOS ONE 2015): how the
/// relevance of a layer's output is redistributed onto the layer's input.
///
/// The ``Explainer`` walks the layers backwards and calls one rule per layer; a rule sees only its
/// layer, the layer's input and output from the forward pass, and the output's relevance. Other
/// modules add rules for their own layers by conforming to this protocol (and can make a layer
/// carry its rule with ``RelevancePropagating``).
///
/// Most rules of Montavon et al., "Layer-wise Relevance Propagation: an overview" (2019), Sect. 10.2.2,
/// are four steps on an affine layer with modified parameters: `z = forward(a)`, `s = R / z`,
/// `c = backward(s)` (the transposed map, here taken from autograd), `R_in = a · c`.
public protocol RelevanceRule: CustomStringConvertible {
    /// The relevance of `input`, given `relevance` of `output = layer(input)` (both shaped like
    /// the tensors). Throws ``ExplainError/ruleDoesNotApply(rule:layer:type:)`` for a layer type
    /// the rule has no meaning for.
    func inputRelevance(layer: any Layer, input: Tensor, output: Tensor, relevance: Tensor) throws -> Tensor
}

/// A layer that brings its own relevance rule, used by the composites for layer types they have no
/// mapping for (an attention block's rule, a message-passing layer's rule).
public protocol RelevancePropagating: Layer {
    var relevanceRule: any RelevanceRule { get }
}

// MARK: - Affine layers

/// A layer that is an affine map of its input, `layer(x) = affine(x, weight, bias)`, so rules can
/// run it with modified parameters (`w⁺`, `w + γw⁺`, `w²`, ones). Linear layers and convolutions
/// conform; a folded batch norm (``FoldedAffineLayer``) too.
public protocol AffineLayer: Layer {
    var weight: Tensor { get }
    var bias: Tensor? { get }
    /// Convolutions and dense layers take different rules in the composites.
    var isConvolution: Bool { get }
    /// The layer's map with other parameters (`weight` shaped like the layer's own `weight`, `bias` like its `bias`).
    func affine(_ input: Tensor, weight: Tensor, bias: Tensor?) -> Tensor
    /// `Jᵀ seed` of the map with `weight` and no bias, for inputs of `inputShape`: the rules' step 3.
    /// The default takes it from autograd; layers with a direct adjoint (a matrix product, a
    /// transposed convolution) provide it, saving a forward pass per use.
    func transposedAffine(_ seed: Tensor, weight: Tensor, inputShape: [Int]) -> Tensor
}

extension AffineLayer {
    public func transposedAffine(_ seed: Tensor, weight: Tensor, inputShape: [Int]) -> Tensor {
        transposedProduct({ affine($0, weight: weight.detached(), bias: nil) }, at: Tensor.zeros(inputShape), seed: seed)
    }
}

extension Linear: AffineLayer {
    public var isConvolution: Bool { false }
    public func affine(_ input: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        input.linear(weight: weight, bias: bias)
    }

    /// `y = x Wᵀ` has `Jᵀ s = s W` (over the last axis, whatever the leading ones).
    public func transposedAffine(_ seed: Tensor, weight: Tensor, inputShape: [Int]) -> Tensor {
        withoutGradients {
            let rows = seed.count / seed.shape[seed.rank - 1]
            return seed.reshape([rows, seed.shape[seed.rank - 1]]).matmul(weight.detached()).reshape(inputShape)
        }
    }
}

extension Conv2d: AffineLayer {
    public var isConvolution: Bool { true }
    public func affine(_ input: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        input.conv2d(weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }

    /// The transposed convolution with the same weight is the adjoint of `conv2d`; its output
    /// padding recovers input sizes a strided convolution rounds down.
    public func transposedAffine(_ seed: Tensor, weight: Tensor, inputShape: [Int]) -> Tensor {
        let kernel = (weight.shape[2], weight.shape[3])
        func extra(_ input: Int, _ output: Int, _ stride: Int, _ padding: Int, _ dilation: Int, _ size: Int) -> Int {
            input - ((output - 1) * stride - 2 * padding + dilation * (size - 1) + 1)
        }
        let outputPadding = IntOrPair(
            extra(inputShape[2], seed.shape[2], stride.height, padding.height, dilation.height, kernel.0),
            extra(inputShape[3], seed.shape[3], stride.width, padding.width, dilation.width, kernel.1))
        return withoutGradients {
            seed.convTranspose2d(weight: weight.detached(), stride: stride, padding: padding, outputPadding: outputPadding,
                                 dilation: dilation, groups: groups)
        }
    }
}

extension Conv1d: AffineLayer {
    public var isConvolution: Bool { true }
    public func affine(_ input: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        input.conv1d(weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }
}

/// A rule defined on affine layers only: conformers write ``inputRelevance(affine:input:relevance:)``.
public protocol AffineRelevanceRule: RelevanceRule {
    func inputRelevance(affine layer: any AffineLayer, input: Tensor, relevance: Tensor) -> Tensor
}

extension AffineRelevanceRule {
    public func inputRelevance(layer: any Layer, input: Tensor, output: Tensor, relevance: Tensor) throws -> Tensor {
        guard let affine = layer as? any AffineLayer else {
            throw ExplainError.ruleDoesNotApply(rule: description, layer: "", type: "\(type(of: layer))")
        }
        return withoutGradients { inputRelevance(affine: affine, input: input, relevance: relevance) }
    }
}

// MARK: - The four steps' shared pieces

/// `Jᵀ s`: the gradient of `map` at `point` for the output gradient `seed` — step 3 (`c = backward(s)`).
/// For an affine map it does not depend on `point`.
func transposedProduct(_ map: (Tensor) -> Tensor, at point: Tensor, seed: Tensor) -> Tensor {
    withGradientMode(true) {
        let x = point.detached().requiringGradient()
        return Tensor.gradients(of: map(x), withRespectTo: [x], seed: seed)[0]
    }
}

extension AffineLayer {
    /// `Jᵀ s` of this layer's map with `weight` in place of its own, at an input of `inputShape`.
    func transposed(_ seed: Tensor, weight: Tensor, inputShape: [Int]) -> Tensor {
        transposedAffine(seed, weight: weight, inputShape: inputShape)
    }

    /// This layer's map with the given parameters, outside the graph.
    func forward(_ input: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        withoutGradients { affine(input, weight: weight.detached(), bias: bias?.detached()) }
    }
}

/// zennit's stabiliser: `z + ε · sign(z)`, with sign(0) = +1, so the denominator never vanishes and
/// ε has the sign of `z` (Montavon et al. 2019, eq. (2)).
func stabilized(_ z: Tensor, _ epsilon: Float) -> Tensor {
    z + (z.greaterEqual(0) * 2 - 1) * epsilon
}

extension Tensor {
    /// `max(x, 0)` and `min(x, 0)`: the positive and negative parts that the γ, αβ and z⁺ rules split.
    var positivePart: Tensor { maximum(0) }
    var negativePart: Tensor { minimum(0) }
}
