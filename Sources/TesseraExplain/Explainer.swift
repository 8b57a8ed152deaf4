import TesseraNN
import TesseraTensor

/// Layer-wise relevance propagation (Bach et al. 2015; Montavon et al., "Layer-wise Relevance
/// Propagation: an overview", 2019) over a Tessera model: a forward pass that keeps every layer's
/// input, then a backward pass of its own that hands the relevance from each layer's output to its
/// input with the rule the composite chose for that layer.
///
/// ```swift
/// let explainer = try Explainer(model: classifier, composite: EpsilonGammaBox(low: 0, high: 16), inputShape: [1, 8, 8])
/// let explanation = try explainer.explain(images, target: .outputs(labels))
/// explanation.inputRelevance   // [N, 1, 8, 8], each row summing to about its class's logit
/// ```
///
/// Batch norms right after an affine layer are folded into it first (``foldingBatchNorms(_:)``).
/// Every module runs in evaluation mode during an explanation and gets its mode back afterwards.
public struct Explainer {
    /// One step of the walk: a layer with its rule, or a residual block with its body's steps.
    public struct Step {
        public let name: String
        public let layer: any Layer
        /// `nil` for a residual block (its relevance is split, then sent through `body`).
        public let rule: (any RelevanceRule)?
        public let body: [Step]?
    }

    /// The steps in forward order, batch norms folded.
    public let steps: [Step]
    /// The shape of one input sample (the batch axis excluded).
    public let inputShape: [Int]
    /// Keeps the denominator of a residual block's split away from zero (zennit's `Norm` on `Sum`).
    public var residualStabilizer: Float = 1e-6
    private let modes: [any ModeDependentModule]

    /// Throws ``ExplainError/noRule(layer:type:)`` naming the first layer the composite has no rule for.
    public init(model: any ExplainableModel, composite: any Composite, inputShape: [Int], foldBatchNorms: Bool = true) throws {
        try self.init(layers: model.explainableLayers(), composite: composite, inputShape: inputShape, foldBatchNorms: foldBatchNorms)
    }

    /// For a model given directly as its steps (a model defined in another module, or a part of one).
    public init(layers: [ExplainableLayer], composite: any Composite, inputShape: [Int], foldBatchNorms: Bool = true) throws {
        var context = CompositeContext()
        modes = modeDependentModules(in: Explainer.allLayers(layers))
        steps = try Explainer.plan(foldBatchNorms ? foldingBatchNorms(layers) : layers, composite, &context)
        self.inputShape = inputShape
    }

    private static func plan(_ layers: [ExplainableLayer], _ composite: any Composite, _ context: inout CompositeContext) throws -> [Step] {
        try layers.map { entry in
            if let body = entry.residualBody {
                return Step(name: entry.name, layer: entry.layer, rule: nil, body: try plan(body, composite, &context))
            }
            guard let rule = composite.rule(for: entry, context: &context) else {
                throw ExplainError.noRule(layer: entry.name.isEmpty ? "(model)" : entry.name, type: "\(type(of: entry.layer))")
            }
            return Step(name: entry.name, layer: entry.layer, rule: rule, body: nil)
        }
    }

    private static func allLayers(_ layers: [ExplainableLayer]) -> [any Layer] {
        layers.flatMap { [$0.layer] + allLayers($0.residualBody ?? []) }
    }

    /// The model's output for `input`, as the explanation sees it (evaluation mode, batch norms folded).
    public func output(_ input: Tensor) throws -> Tensor {
        try checkShape(input)
        return withEvaluationMode(modes) { withoutGradients { forward(steps, input.detached()).0 } }
    }

    private func checkShape(_ input: Tensor) throws {
        guard input.rank == inputShape.count + 1, Array(input.shape.dropFirst()) == inputShape else {
            throw ExplainError.inputShape(expected: inputShape, got: input.shape)
        }
    }

    /// The relevance of every input element for `target`, and with `keepLayerRelevances` that of
    /// every step's input too.
    public func explain(_ input: Tensor, target: ExplanationTarget, keepLayerRelevances: Bool = false) throws -> Explanation {
        try checkShape(input)
        return try withEvaluationMode(modes) {
            let (output, traces) = withoutGradients { forward(steps, input.detached()) }
            let start = try target.startingRelevance(for: output)
            var record: [(name: String, relevance: Tensor)]? = keepLayerRelevances ? [] : nil
            let relevance = try withoutGradients { try backward(steps, traces, start, &record) }
            return Explanation(output: output, outputRelevance: start, inputRelevance: relevance,
                               layerRelevances: (record ?? []).reversed())
        }
    }

    // MARK: - The two passes

    /// What the forward pass keeps of a step for the backward pass.
    private indirect enum Trace {
        case layer(input: Tensor, output: Tensor)
        case residual(input: Tensor, bodyOutput: Tensor, output: Tensor, body: [Trace])
    }

    private func forward(_ steps: [Step], _ input: Tensor) -> (Tensor, [Trace]) {
        var x = input
        var traces: [Trace] = []
        for step in steps {
            if let body = step.body {
                let (bodyOutput, bodyTraces) = forward(body, x)
                let output = x + bodyOutput
                traces.append(.residual(input: x, bodyOutput: bodyOutput, output: output, body: bodyTraces))
                x = output
            } else {
                let output = step.layer(x)
                traces.append(.layer(input: x, output: output))
                x = output
            }
        }
        return (x, traces)
    }

    /// From the last step to the first, each step's rule turns its output's relevance into its input's.
    private func backward(_ steps: [Step], _ traces: [Trace], _ outputRelevance: Tensor,
                          _ record: inout [(name: String, relevance: Tensor)]?) throws -> Tensor {
        var relevance = outputRelevance
        for (step, trace) in zip(steps, traces).reversed() {
            switch trace {
            case .layer(let input, let output):
                do {
                    relevance = try step.rule!.inputRelevance(layer: step.layer, input: input, output: output, relevance: relevance)
                } catch ExplainError.ruleDoesNotApply(let rule, _, let type) {
                    throw ExplainError.ruleDoesNotApply(rule: rule, layer: step.name, type: type)
                }
            case .residual(let input, let bodyOutput, let output, let body):
                // x + body(x): each summand keeps the share it contributed to the sum.
                let share = relevance / stabilized(output, residualStabilizer)
                relevance = try input * share + backward(step.body!, body, bodyOutput * share, &record)
            }
            record?.append((step.name, relevance))
        }
        return relevance
    }
}

/// The result of ``Explainer/explain(_:target:keepLayerRelevances:)``.
public struct Explanation {
    /// The model's output for the batch.
    public let output: Tensor
    /// The relevance the backward pass started from (the target outputs' values).
    public let outputRelevance: Tensor
    /// The relevance of every input element, shaped like the input.
    public let inputRelevance: Tensor
    /// The relevance of each step's input, by the step's name, in forward order (empty unless asked).
    public let layerRelevances: [(name: String, relevance: Tensor)]

    /// The relevance of the input of the step called `name`.
    public func layerRelevance(_ name: String) -> Tensor? {
        layerRelevances.first { $0.name == name }?.relevance
    }
}
