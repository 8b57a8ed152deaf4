import TesseraConfig
import TesseraExplain
import TesseraTensor

/// How `tessera explain` attributes an output to the input: layer-wise relevance propagation with
/// a composite, or one of the gradient baselines it is compared with, or (for faithfulness curves
/// only) a random ordering.
public enum ExplainMethod: Equatable, CustomStringConvertible {
    case lrp(CompositeName)
    case gradient
    case gradientTimesInput
    /// Integrated gradients from the zero baseline with this many midpoint-rule steps.
    case integratedGradients(steps: Int)
    /// SmoothGrad with noise of this fraction of the input's range, averaged over `samples`.
    case smoothGrad(noiseFraction: Float, samples: Int)
    /// Independent uniform relevances: the ordering faithfulness is measured against.
    case random

    /// The names `--method` takes.
    public static let names = ["lrp", "gradient", "gradient-x-input", "integrated-gradients", "smoothgrad", "random"]

    /// `name` from ``names``; `composite` only matters for `lrp`. An unknown name throws with the
    /// closest known one.
    public init(parsing name: String, composite: String = "epsilon-gamma-box") throws {
        switch name {
        case "lrp": self = .lrp(try CompositeName(parsing: composite))
        case "gradient": self = .gradient
        case "gradient-x-input": self = .gradientTimesInput
        case "integrated-gradients": self = .integratedGradients(steps: 32)
        case "smoothgrad": self = .smoothGrad(noiseFraction: 0.15, samples: 16)
        case "random": self = .random
        default:
            let hint = closestMatch(to: name, among: Self.names).map { " (did you mean '\($0)'?)" } ?? ""
            throw TrainingError("unknown explanation method '\(name)'\(hint); known methods: \(Self.names.joined(separator: ", "))")
        }
    }

    /// The methods a faithfulness table compares: the composite's LRP, every baseline, random.
    public static func all(composite name: String) throws -> [ExplainMethod] {
        [.lrp(try CompositeName(parsing: name)), .gradient, .gradientTimesInput, .integratedGradients(steps: 32),
         .smoothGrad(noiseFraction: 0.15, samples: 16), .random]
    }

    /// The `--method` name (with the composite for LRP: `lrp epsilonGammaBox`).
    public var name: String {
        switch self {
        case .lrp(let composite): return "lrp \(composite.rawValue)"
        case .gradient: return "gradient"
        case .gradientTimesInput: return "gradient-x-input"
        case .integratedGradients: return "integrated-gradients"
        case .smoothGrad: return "smoothgrad"
        case .random: return "random"
        }
    }

    public var description: String {
        switch self {
        case .lrp(let composite): return "lrp (\(composite.rawValue))"
        case .gradient: return "gradient"
        case .gradientTimesInput: return "gradient × input"
        case .integratedGradients(let steps): return "integrated gradients (\(steps) steps)"
        case .smoothGrad(let noise, let samples): return "SmoothGrad (σ = \(noise) of the range, \(samples) samples)"
        case .random: return "random"
        }
    }
}
