import TesseraNN
import TesseraTensor

/// SchNet's continuous-filter convolution (Schütt, Kindermans, Sauceda, Chmiela, Tkatchenko & Müller,
/// "SchNet: A continuous-filter convolutional neural network for modeling quantum interactions",
/// NeurIPS 2017): each atom sums its neighbours' features weighted elementwise by a filter that a
/// network computes from their distance, expanded in Gaussian radial basis functions
/// `eₖ(d) = exp(−γ (d − μₖ)²)`:
///
///     xᵢ' = Σ_{j ≠ i} xⱼ ⊙ W(‖rᵢ − rⱼ‖)
///
/// Depending on distances only, it is invariant to rotations, translations and reflections, and
/// equivariant to reordering the atoms. G-SchNet builds on it.
public final class ContinuousFilterConvolution: Module {
    /// Radial basis expansion → hidden.
    public let filterFirst: Linear
    /// hidden → feature-wise filter.
    public let filterSecond: Linear
    /// Centres `μₖ` of the radial basis, evenly spaced on `[0, cutoff]`.
    public let centres: [Float]
    /// The width parameter `γ`.
    public let gamma: Float

    public init(features: Int, basisCount: Int = 25, cutoff: Float = 5, generator: inout RandomGenerator) throws {
        guard features > 0, basisCount >= 2, cutoff > 0 else {
            throw GenerativeError("ContinuousFilterConvolution: features must be positive, basisCount at least 2 and cutoff positive, got \(features), \(basisCount), \(cutoff)")
        }
        centres = (0..<basisCount).map { Float($0) * cutoff / Float(basisCount - 1) }
        let spacing = cutoff / Float(basisCount - 1)
        gamma = 1 / (2 * spacing * spacing)  // neighbouring Gaussians cross at half their spacing
        filterFirst = Linear(basisCount, features, generator: &generator)
        filterSecond = Linear(features, features, generator: &generator)
    }

    /// `[n, n, basisCount]` radial basis expansion of pairwise distances `[n, n]`.
    public func radialBasis(_ distances: Tensor) -> Tensor {
        let difference = distances.unsqueezed(axis: 2) - Tensor(centres)
        return (difference * difference * -gamma).exp()
    }

    /// `features` `[n, F]` of atoms at `positions` `[n, dimensions]` → `[n, F]`.
    public func callAsFunction(_ features: Tensor, positions: Tensor) throws -> Tensor {
        guard features.rank == 2, positions.rank == 2, features.shape[0] == positions.shape[0],
              features.shape[1] == filterSecond.outputSize else {
            throw GenerativeError("ContinuousFilterConvolution: expected features [n, \(filterSecond.outputSize)] and positions [n, dimensions], got \(features.shape) and \(positions.shape)")
        }
        let n = positions.shape[0]
        let offsets = positions.unsqueezed(axis: 1) - positions.unsqueezed(axis: 0)
        // + 1e-12 keeps the square root's gradient finite on the diagonal, which the mask removes.
        let distances = ((offsets * offsets).sum(alongAxes: [2]) + 1e-12).sqrt()
        let filters = filterSecond(filterFirst(radialBasis(distances)).softplus())  // [n, n, F]
        let notSelf = (1 - Tensor.eye(n)).unsqueezed(axis: 2)
        return (filters * notSelf * features.unsqueezed(axis: 0)).sum(alongAxes: [1])
    }
}
