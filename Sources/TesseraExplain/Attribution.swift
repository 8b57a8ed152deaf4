import TesseraNN
import TesseraTensor

/// Gradient-based attributions, the baselines LRP is compared with (Montavon et al. 2019, Sect. 10.2;
/// Ancona et al., "Towards Better Understanding of Gradient-based Attribution Methods for Deep
/// Neural Networks", ICLR 2018). Each takes any layer as the model, runs it in evaluation mode and
/// returns a tensor shaped like `input`.
public enum Attribution {
    /// `∂f_c/∂x` for each row's target `c` (Simonyan et al., "Deep Inside Convolutional Networks", 2014).
    public static func gradient(of model: any Layer, at input: Tensor, target: ExplanationTarget) throws -> Tensor {
        try withEvaluationMode(modeDependentModules(in: [model])) { try targetGradient(model, input, target) }
    }

    /// `x · ∂f_c/∂x` (Shrikumar et al. 2016); on a ReLU network LRP-0 gives the same.
    public static func gradientTimesInput(of model: any Layer, at input: Tensor, target: ExplanationTarget) throws -> Tensor {
        try withoutGradients { try input * gradient(of: model, at: input, target: target) }
    }

    /// Integrated gradients (Sundararajan et al., "Axiomatic Attribution for Deep Networks", ICML
    /// 2017): `(x − x̄) · ∫₀¹ ∂f_c/∂x(x̄ + α(x − x̄)) dα`, the integral by the midpoint rule with
    /// `steps` points. Completeness: each row sums to `f_c(x) − f_c(x̄)` up to the rule's error, which
    /// falls as `1/steps²` where `f` is smooth along the path.
    ///
    /// - Parameters:
    ///   - model: the network explained; run in evaluation mode, its parameters untouched.
    ///   - input: the batch `x` to attribute, one example per row.
    ///   - target: the output `f_c` each row explains: one class for every row, one per row, or a
    ///     seed shaped like the output.
    ///   - baseline: `x̄`, shaped like `input` or like one row; zeros (a black image) by default.
    ///   - steps: midpoint-rule points on the path from `x̄` to `x`, at least 1; each costs one
    ///     forward and backward pass, and the completeness error falls as `1/steps²`.
    public static func integratedGradients(of model: any Layer, at input: Tensor, target: ExplanationTarget,
                                           baseline: Tensor? = nil, steps: Int = 50) throws -> Tensor {
        guard steps > 0 else { throw ExplainError.invalidArgument("integrated gradients needs at least 1 step, got \(steps)") }
        let start = withoutGradients { Tensor.zeros(input.shape) + (baseline ?? Tensor.zeros(input.shape)) }
        let path = withoutGradients { input - start }
        return try withEvaluationMode(modeDependentModules(in: [model])) {
            var total = Tensor.zeros(input.shape)
            for step in 0..<steps {
                let alpha = (Float(step) + 0.5) / Float(steps)
                let point = withoutGradients { start + alpha * path }
                let gradient = try targetGradient(model, point, target)
                total = withoutGradients { total + gradient }
            }
            return withoutGradients { path * total / Float(steps) }
        }
    }

    /// SmoothGrad (Smilkov et al., "SmoothGrad: removing noise by adding noise", 2017): the mean
    /// gradient over `samples` copies of the input with Gaussian noise of standard deviation `noise`
    /// (the paper suggests 10–20% of the input's range).
    public static func smoothGrad(of model: any Layer, at input: Tensor, target: ExplanationTarget, noise: Float,
                                  samples: Int, generator: inout RandomGenerator) throws -> Tensor {
        guard samples > 0 else { throw ExplainError.invalidArgument("SmoothGrad needs at least 1 sample, got \(samples)") }
        guard noise >= 0 else { throw ExplainError.invalidArgument("SmoothGrad's noise must be non-negative, got \(noise)") }
        var total = Tensor.zeros(input.shape)
        try withEvaluationMode(modeDependentModules(in: [model])) {
            for _ in 0..<samples {
                let noisy = withoutGradients { input + Tensor.randomNormal(input.shape, standardDeviation: noise, generator: &generator) }
                let gradient = try targetGradient(model, noisy, target)
                total = withoutGradients { total + gradient }
            }
        }
        return withoutGradients { total / Float(samples) }
    }

    /// `Σ_rows seed · f(x)` differentiated by autograd, the seed being the one-hot target rows.
    private static func targetGradient(_ model: any Layer, _ input: Tensor, _ target: ExplanationTarget) throws -> Tensor {
        try withGradientMode(true) {
            let x = input.detached().requiringGradient()
            let output = model(x)
            let seed = try target.mask(for: output)
            return Tensor.gradients(of: output, withRespectTo: [x], seed: seed)[0].detached()
        }
    }
}
