import Foundation
import TesseraExplain
import TesseraPicture
import TesseraTensor

/// What a removed feature is replaced by in ``ExplainSubject/faithfulness(methods:examples:steps:removal:)``.
public enum FeatureRemoval: String, CaseIterable {
    /// Uniform noise over the training inputs' range, one fixed draw (Samek et al. 2017's choice):
    /// every feature, background included, can be removed. Tokens become random filler tokens.
    case noise
    /// Zeros (tokens: the first filler token). On digits the background is already zero, so relevance put on it cannot show in the
    /// curve: the zero baseline favours methods that multiply by the input (gradient × input,
    /// integrated gradients from zero, LRP-0), whose relevance vanishes where the input does.
    case zero
}

/// One method's pixel-flipping result on a subject's held-out examples.
public struct FaithfulnessRow {
    public let method: ExplainMethod
    public let curve: PerturbationCurve
}

extension FeatureExplainSubject {
    /// Faithfulness measured, not judged by eye (Samek et al., "Evaluating the Visualization of What
    /// a Deep Neural Network Has Learned", 2017): for the first `examples` held-out inputs, each
    /// method explains the predicted class, then `PixelFlipping` removes the most relevant features
    /// first (replaced as `removal` says) over `steps` steps and records the mean logit. A higher
    /// AOPC — a faster fall — is a more faithful explanation; a random ordering is the floor.
    public func faithfulness(methods: [ExplainMethod], examples: Int, steps: Int, removal: FeatureRemoval) throws -> [FaithfulnessRow] {
        guard examples >= 1 else { throw TrainingError("--examples must be at least 1, got \(examples)") }
        let inputs = self.examples.batch(at: Array(0..<min(examples, self.examples.count))).inputs
        let predicted = withoutGradients { model(inputs) }.argmax(alongAxis: 1).scalars.map { Int($0) }
        let target = ExplanationTarget.outputs(predicted)
        let flipping = PixelFlipping(steps: steps, baseline: removedValues(for: inputs, removal: removal))
        return try methods.map { method in
            let relevance = try self.relevance(of: inputs, target: target, method: method)
            return FaithfulnessRow(method: method, curve: try flipping.curve(of: model, inputs: inputs, relevance: relevance, target: target))
        }
    }
}

/// The rows as a Markdown table (AOPC and AUC, the methods in the given order).
public func faithfulnessTable(_ rows: [FaithfulnessRow]) -> String {
    var lines = ["| method | AOPC (higher is better) | AUC (lower is better) |", "|---|---:|---:|"]
    for row in rows {
        lines.append("| \(row.method) | \(formatted(row.curve.areaOverThePerturbationCurve)) | \(formatted(row.curve.areaUnderTheCurve)) |")
    }
    return lines.joined(separator: "\n")
}

/// The perturbation curves in one chart: mean target logit against the fraction removed.
public func faithfulnessChart(_ rows: [FaithfulnessRow], title: String) -> RGBImage {
    let series = rows.map { row in
        LineChart.Series(name: row.method.name, points: zip(row.curve.fractionsRemoved, row.curve.meanOutputs).map { ($0, $1) })
    }
    return LineChart(panels: [.init(title: title, series: series)], xLabel: "fraction removed").render()
}

private func formatted(_ value: Double) -> String {
    String(format: "%.3f", value)
}
