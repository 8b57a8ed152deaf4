import TesseraNN
import TesseraTensor

/// Faithfulness measured by removing what an explanation calls relevant: pixel flipping (Bach et
/// al., "On Pixel-Wise Explanations for Non-Linear Classifier Decisions by Layer-Wise Relevance
/// Propagation", PLoS ONE 2015) in the "most relevant first" form of Samek et al.'s region
/// perturbation ("Evaluating the Visualization of What a Deep Neural Network Has Learned", IEEE
/// TNNLS 2017), with single features as the regions.
///
/// For every row, the features (elements of the row) are ordered by decreasing relevance; step k
/// of `steps` replaces the first `⌈k·D/steps⌉` of them (D features a row) by the baseline's values
/// and records the target output `f_c(x⁽ᵏ⁾)`. A faithful explanation makes the output fall fast:
///
/// ```
/// AOPC = 1/(L+1) · Σ_{k=0..L} ⟨f_c(x⁽⁰⁾) − f_c(x⁽ᵏ⁾)⟩      (higher is better)
/// AUC  = ∫₀¹ ⟨f_c⟩ d(fraction removed), trapezoid rule  (lower is better)
/// ```
///
/// ⟨·⟩ is the mean over rows. Samek et al. replace regions by uniform noise; a fixed baseline
/// (zeros, the data mean) keeps the curve deterministic, and ``randomOrdering(like:generator:)``
/// gives the reference an explanation must beat.
///
/// ```swift
/// let lrp = try explainer.explain(images, target: .outputs(labels)).inputRelevance
/// let curve = try PixelFlipping(steps: 16).curve(of: cnn, inputs: images, relevance: lrp, target: .outputs(labels))
/// curve.areaOverThePerturbationCurve       // compare with the gradient's and a random ordering's
/// ```
public struct PixelFlipping {
    /// L, the number of removal steps after the unperturbed input (at least 1).
    public var steps: Int
    /// The values removed features take: shaped like the input or like one row; zeros if `nil`.
    public var baseline: Tensor?

    public init(steps: Int = 20, baseline: Tensor? = nil) {
        self.steps = steps
        self.baseline = baseline
    }

    /// The perturbation curve of `model` on `inputs` (`[N, …]`) removing features in the order of
    /// `relevance` (shaped like `inputs`), for the output `target` picks in every row. The model
    /// runs in evaluation mode, without gradients.
    public func curve(of model: any Layer, inputs: Tensor, relevance: Tensor, target: ExplanationTarget) throws -> PerturbationCurve {
        guard steps >= 1 else { throw ExplainError.invalidArgument("pixel flipping needs at least 1 step, got \(steps)") }
        guard inputs.rank >= 2, inputs.shape[0] > 0 else {
            throw ExplainError.invalidArgument("pixel flipping needs a batch [N, …] with N ≥ 1, got shape \(inputs.shape)")
        }
        guard relevance.shape == inputs.shape else { throw ExplainError.relevanceShape(expected: inputs.shape, got: relevance.shape) }
        let rows = inputs.shape[0], width = inputs.count / rows
        let replacement = try baselineValues(rows: rows, width: width, shape: inputs.shape)
        let orders = (0..<rows).map { row in Self.mostRelevantFirst(Array(relevance.scalars[(row * width)..<((row + 1) * width)])) }

        var current = inputs.scalars
        var removed = 0
        var fractions: [Double] = [], meanOutputs: [Double] = []
        try withEvaluationMode(modeDependentModules(in: [model])) {
            for step in 0...steps {
                let goal = (step * width + steps - 1) / steps          // ⌈step·D/L⌉
                for row in 0..<rows {
                    for feature in orders[row][removed..<goal] { current[row * width + feature] = replacement[row * width + feature] }
                }
                removed = goal
                let output = withoutGradients { model(Tensor(shape: inputs.shape, scalars: current)) }
                let mask = try target.mask(for: output)
                let selected = withoutGradients { (mask * output).sum(alongAxis: 1) }
                fractions.append(Double(removed) / Double(width))
                meanOutputs.append(selected.scalars.reduce(0.0) { $0 + Double($1) } / Double(rows))
            }
        }
        return PerturbationCurve(fractionsRemoved: fractions, meanOutputs: meanOutputs)
    }

    /// A relevance of independent uniform values: the random ordering every explanation is
    /// compared with.
    public static func randomOrdering(like inputs: Tensor, generator: inout RandomGenerator) -> Tensor {
        Tensor.randomUniform(inputs.shape, generator: &generator)
    }

    /// Feature indices by decreasing relevance; equal relevances keep index order, so the curve
    /// does not depend on the sort's stability. NaN relevances count as −∞ (removed last).
    static func mostRelevantFirst(_ relevance: [Float]) -> [Int] {
        let key = relevance.map { $0.isNaN ? -Float.infinity : $0 }
        return key.indices.sorted { a, b in key[a] != key[b] ? key[a] > key[b] : a < b }
    }

    private func baselineValues(rows: Int, width: Int, shape: [Int]) throws -> [Float] {
        guard let baseline else { return [Float](repeating: 0, count: rows * width) }
        if baseline.shape == shape { return baseline.scalars }
        if baseline.shape == Array(shape.dropFirst()) || baseline.shape == [1] + shape.dropFirst() {
            return Array([[Float]](repeating: baseline.scalars, count: rows).joined())
        }
        throw ExplainError.invalidArgument("pixel flipping's baseline of shape \(baseline.shape) must be shaped like the input \(shape) or one row \(Array(shape.dropFirst()))")
    }
}

/// The mean target output after each removal step of ``PixelFlipping``.
public struct PerturbationCurve: Equatable {
    /// The fraction of each row's features removed, from 0 to 1.
    public let fractionsRemoved: [Double]
    /// The target output averaged over the rows, at each fraction.
    public let meanOutputs: [Double]

    /// Samek et al.'s AOPC: the mean drop from the unperturbed output over the L + 1 points.
    public var areaOverThePerturbationCurve: Double {
        guard let first = meanOutputs.first else { return 0 }
        return meanOutputs.reduce(0) { $0 + (first - $1) } / Double(meanOutputs.count)
    }

    /// The area under the mean output over the fraction removed (trapezoid rule).
    public var areaUnderTheCurve: Double {
        var area = 0.0
        for k in meanOutputs.indices.dropFirst() {
            area += (fractionsRemoved[k] - fractionsRemoved[k - 1]) * (meanOutputs[k] + meanOutputs[k - 1]) / 2
        }
        return area
    }
}
