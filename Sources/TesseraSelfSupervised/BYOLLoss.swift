import Foundation
import TesseraTensor

/// BYOL's loss and target schedule (Grill et al., "Bootstrap Your Own Latent", NeurIPS 2020).
///
/// The online network (encoder, projector, predictor) regresses the target network's projection
/// of the other view; the target network is an exponential moving average of the online encoder
/// and projector, and gets no gradient (stop-gradient). Without the predictor the two networks can
/// agree on a constant and collapse; with it they do not (the paper's Table 5).
public enum BYOLLoss {
    /// The normalised mean squared error of eq. 2, `‖p̄ − z̄‖² = 2 − 2·cos(p, z)`, averaged over the
    /// rows; the target is detached.
    public static func regression(prediction: Tensor, target: Tensor) -> Tensor {
        let cosine = (l2Normalized(prediction) * l2Normalized(target.detached())).sum(alongAxes: [1])
        return (2 - 2 * cosine).mean()
    }

    /// The symmetrised loss: each view's prediction regresses the other view's target projection.
    public static func symmetric(predictions: (Tensor, Tensor), targets: (Tensor, Tensor)) -> Tensor {
        regression(prediction: predictions.0, target: targets.1) + regression(prediction: predictions.1, target: targets.0)
    }

    /// The target decay at `step` of `totalSteps`: `τ = 1 − (1 − τ_base)(cos(π k/K) + 1)/2`, rising
    /// from `base` (0.996 in the paper) to 1.
    public static func targetDecay(step: Int, totalSteps: Int, base: Float) -> Float {
        let progress = totalSteps > 0 ? Double(min(step, totalSteps)) / Double(totalSteps) : 1
        return 1 - (1 - base) * Float((cos(Double.pi * progress) + 1) / 2)
    }
}
