import Foundation
import TesseraTensor

/// Small 2-D classification sets in the style of scikit-learn's `make_moons`, `make_circles`
/// and friends, for smoke tests, visual sanity checks and toy generative models.
///
/// Each returns a `TensorDataset` with inputs `[count, 2]` and labels `[count]` (class
/// indices). Classes are balanced exactly — class `k` gets `count / classes` points, the first
/// `count % classes` classes one more — and the points are shuffled with the generator, so the
/// same generator state always gives the same set.
///
/// ```swift
/// var rng = RandomGenerator(seed: 0)
/// let moons = SyntheticPoints.moons(count: 512, noise: 0.1, generator: &rng)
/// ```
public enum SyntheticPoints {
    /// Two interleaving half circles: class 0 is `(cos t, sin t)`, class 1 is
    /// `(1 − cos t, 0.5 − sin t)`, `t` evenly spaced in `[0, π]`, plus Gaussian noise of standard
    /// deviation `noise`.
    public static func moons(count: Int, noise: Float = 0, generator: inout RandomGenerator) -> TensorDataset {
        make(count: count, classes: 2, generator: &generator) { label, index, classCount, _ in
            let t = Float.pi * Float(index) / Float(Swift.max(classCount - 1, 1))
            return label == 0 ? (cos(t), sin(t)) : (1 - cos(t), 0.5 - sin(t))
        }.addingNoise(noise, generator: &generator)
    }

    /// Two concentric circles: class 0 of radius 1, class 1 of radius `factor`, angles evenly
    /// spaced in `[0, 2π)`, plus Gaussian noise of standard deviation `noise`.
    public static func circles(count: Int, factor: Float = 0.8, noise: Float = 0,
                               generator: inout RandomGenerator) -> TensorDataset {
        precondition(factor > 0 && factor < 1, "Tessera SyntheticPoints.circles: factor must be in (0, 1), got \(factor)")
        return make(count: count, classes: 2, generator: &generator) { label, index, classCount, _ in
            let angle = 2 * Float.pi * Float(index) / Float(classCount)
            let radius: Float = label == 0 ? 1 : factor
            return (radius * cos(angle), radius * sin(angle))
        }.addingNoise(noise, generator: &generator)
    }

    /// `arms` interleaved spiral arms around the origin. A point at parameter `t ∈ [0, 1]` of arm
    /// `k` lies at radius `t` and angle `2π (turns · t + k / arms)`; points are evenly spaced in
    /// `t` starting at 0.05 (the arms meet at the origin), plus Gaussian noise.
    public static func spirals(count: Int, arms: Int = 2, turns: Float = 1, noise: Float = 0,
                               generator: inout RandomGenerator) -> TensorDataset {
        precondition(arms >= 1, "Tessera SyntheticPoints.spirals: arms must be at least 1, got \(arms)")
        return make(count: count, classes: arms, generator: &generator) { label, index, classCount, _ in
            let t = 0.05 + 0.95 * Float(index) / Float(Swift.max(classCount - 1, 1))
            let angle = 2 * Float.pi * (turns * t + Float(label) / Float(arms))
            return (t * cos(angle), t * sin(angle))
        }.addingNoise(noise, generator: &generator)
    }

    /// Isotropic Gaussian blobs, one per class, centred evenly on a circle: class `k` has mean
    /// `radius · (cos 2πk/K, sin 2πk/K)` and standard deviation `standardDeviation` per axis (the
    /// "ring of Gaussians" of GAN and diffusion papers; `make_blobs` with fixed centres).
    public static func gaussianMixture(count: Int, components: Int = 8, radius: Float = 4,
                                       standardDeviation: Float = 0.2,
                                       generator: inout RandomGenerator) -> TensorDataset {
        precondition(components >= 1, "Tessera SyntheticPoints.gaussianMixture: components must be at least 1")
        return make(count: count, classes: components, generator: &generator) { label, _, _, generator in
            let angle = 2 * Float.pi * Float(label) / Float(components)
            let (a, b) = (generator.nextNormal(), generator.nextNormal())
            return (radius * cos(angle) + standardDeviation * a, radius * sin(angle) + standardDeviation * b)
        }
    }

    /// Points uniform in `[0, cells)²`, class = parity of the cell: class 0 lies in cells whose
    /// `⌊x⌋ + ⌊y⌋` is even, class 1 in odd cells. `cells` must be even so both classes own the
    /// same area.
    public static func checkerboard(count: Int, cells: Int = 4, generator: inout RandomGenerator) -> TensorDataset {
        precondition(cells >= 2 && cells % 2 == 0, "Tessera SyntheticPoints.checkerboard: cells must be even and ≥ 2, got \(cells)")
        return make(count: count, classes: 2, generator: &generator) { label, _, _, generator in
            let row = generator.nextInt(below: cells)
            // Half the columns of a row have each parity; pick one with parity label − row.
            let column = 2 * generator.nextInt(below: cells / 2) + (label + row) % 2
            return (Float(column) + generator.nextUniform(), Float(row) + generator.nextUniform())
        }
    }

    /// Builds a balanced, shuffled set: `point(label, indexInClass, classCount, &generator)`.
    private static func make(count: Int, classes: Int, generator: inout RandomGenerator,
                             point: (Int, Int, Int, inout RandomGenerator) -> (Float, Float)) -> TensorDataset {
        precondition(count >= 0, "Tessera SyntheticPoints: count must be non-negative, got \(count)")
        var points = [Float](), labels = [Float]()
        for label in 0..<classes {
            let classCount = count / classes + (label < count % classes ? 1 : 0)
            for index in 0..<classCount {
                let (x, y) = point(label, index, classCount, &generator)
                points += [x, y]
                labels.append(Float(label))
            }
        }
        let order = generator.permutation(labels.count)
        let data = TensorDataset(inputs: Tensor(shape: [labels.count, 2], scalars: points), labels: Tensor(labels))
        return data.subset(order)
    }
}

extension TensorDataset {
    /// The same set with independent Gaussian noise of standard deviation `noise` added to every input.
    fileprivate func addingNoise(_ noise: Float, generator: inout RandomGenerator) -> TensorDataset {
        guard noise > 0 else { return self }
        return TensorDataset(inputs: inputs + Tensor.randomNormal(inputs.shape, standardDeviation: noise, generator: &generator),
                             labels: labels)
    }
}
