import Foundation

/// A counter-based random generator: Philox-4×32-10 (Salmon et al., "Parallel Random Numbers:
/// As Easy as 1, 2, 3", SC 2011).
///
/// The n-th 32-bit value of a stream is a pure function of `(seed, stream, n)`, so:
/// - the same seed gives the same numbers on every machine;
/// - each rank, data worker or environment takes its own `stream` and never overlaps another;
/// - the whole state is three integers, which a checkpoint stores and restores exactly.
///
/// ```swift
/// var rng = RandomGenerator(seed: 42)
/// let x = Tensor.randomNormal([2, 3], generator: &rng)
/// var workerRNG = rng.derived(stream: 7)
/// ```
public struct RandomGenerator: Codable, Equatable, Sendable {
    /// The key of the Philox bijection.
    public private(set) var seed: UInt64
    /// Which of the 2^64 independent streams of this seed.
    public private(set) var stream: UInt64
    /// How many 32-bit values this stream has handed out.
    public private(set) var offset: UInt64

    public init(seed: UInt64, stream: UInt64 = 0, offset: UInt64 = 0) {
        self.seed = seed
        self.stream = stream
        self.offset = offset
    }

    /// An independent generator for a sub-task (a rank, a worker, an environment), derived from
    /// this one's seed and stream so that sub-streams of different parents do not collide.
    public func derived(stream child: UInt64) -> RandomGenerator {
        RandomGenerator(seed: seed, stream: mix(stream &* 0x9E37_79B9_7F4A_7C15 &+ child &+ 1), offset: 0)
    }

    // MARK: - Raw values

    /// The next 32 random bits.
    public mutating func next32() -> UInt32 {
        let block = philox(counter: offset >> 2)
        let lane = Int(offset & 3)
        offset += 1
        return lane == 0 ? block.0 : lane == 1 ? block.1 : lane == 2 ? block.2 : block.3
    }

    /// The next 64 random bits.
    public mutating func next64() -> UInt64 {
        UInt64(next32()) << 32 | UInt64(next32())
    }

    /// Uniform in `[0, 1)` with 24 bits of precision.
    public mutating func nextUniform() -> Float {
        Float(next32() >> 8) * 0x1p-24
    }

    /// Uniform in `0..<bound` without modulo bias (Lemire's method).
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "RandomGenerator.nextInt: bound must be positive, got \(bound)")
        let range = UInt64(bound)
        var product = next64().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold { product = next64().multipliedFullWidth(by: range) }
        }
        return Int(product.high)
    }

    /// A standard normal sample (Box–Muller; uses two uniforms).
    public mutating func nextNormal() -> Float {
        normalPair().0
    }

    /// Two independent standard normal samples from two uniforms.
    mutating func normalPair() -> (Float, Float) {
        // 1 - u keeps the logarithm's argument in (0, 1].
        let u1 = 1 - nextUniform(), u2 = nextUniform()
        let radius = (-2 * Foundation.log(u1)).squareRoot()
        let angle = 2 * Float.pi * u2
        return (radius * Foundation.cos(angle), radius * Foundation.sin(angle))
    }

    /// A uniformly random permutation of `0..<count` (Fisher–Yates).
    public mutating func permutation(_ count: Int) -> [Int] {
        var values = Array(0..<count)
        var i = count - 1
        while i > 0 {
            values.swapAt(i, nextInt(below: i + 1))
            i -= 1
        }
        return values
    }

    // MARK: - Philox-4×32-10

    private func philox(counter: UInt64) -> (UInt32, UInt32, UInt32, UInt32) {
        var c0 = UInt32(truncatingIfNeeded: counter), c1 = UInt32(truncatingIfNeeded: counter >> 32)
        var c2 = UInt32(truncatingIfNeeded: stream), c3 = UInt32(truncatingIfNeeded: stream >> 32)
        var k0 = UInt32(truncatingIfNeeded: seed), k1 = UInt32(truncatingIfNeeded: seed >> 32)
        for _ in 0..<10 {
            let p0 = UInt64(0xD251_1F53) * UInt64(c0)
            let p1 = UInt64(0xCD9E_8D57) * UInt64(c2)
            (c0, c1, c2, c3) = (UInt32(truncatingIfNeeded: p1 >> 32) ^ c1 ^ k0, UInt32(truncatingIfNeeded: p1),
                                UInt32(truncatingIfNeeded: p0 >> 32) ^ c3 ^ k1, UInt32(truncatingIfNeeded: p0))
            k0 &+= 0x9E37_79B9
            k1 &+= 0xBB67_AE85
        }
        return (c0, c1, c2, c3)
    }
}

/// SplitMix64's finaliser: spreads nearby integers over the whole 64-bit range.
private func mix(_ value: UInt64) -> UInt64 {
    var z = value &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

// MARK: - Random tensors

extension Tensor {
    /// Uniform in `[low, high)`.
    public static func randomUniform(_ shape: [Int], low: Float = 0, high: Float = 1,
                                     generator: inout RandomGenerator) -> Tensor {
        let output = empty(shape)
        for i in 0..<output.count { output.storage.pointer[i] = low + (high - low) * generator.nextUniform() }
        return output
    }

    /// Normal with the given mean and standard deviation.
    public static func randomNormal(_ shape: [Int], mean: Float = 0, standardDeviation: Float = 1,
                                    generator: inout RandomGenerator) -> Tensor {
        let output = empty(shape)
        let pointer = output.storage.pointer
        var i = 0
        while i < output.count {
            let (a, b) = generator.normalPair()
            pointer[i] = mean + standardDeviation * a
            if i + 1 < output.count { pointer[i + 1] = mean + standardDeviation * b }
            i += 2
        }
        return output
    }

    /// 1 with probability `probability`, else 0.
    public static func bernoulli(_ shape: [Int], probability: Float, generator: inout RandomGenerator) -> Tensor {
        let output = empty(shape)
        for i in 0..<output.count { output.storage.pointer[i] = generator.nextUniform() < probability ? 1 : 0 }
        return output
    }

    /// One class index per row of `probabilities` (`[..., classes]`, rows summing to 1; they are
    /// renormalised), by inverting the cumulative distribution.
    public static func categorical(probabilities: Tensor, generator: inout RandomGenerator) -> Tensor {
        check(probabilities.rank >= 1, "categorical", "needs rank ≥ 1, got shape \(probabilities.shape)")
        let classes = probabilities.shape[probabilities.rank - 1]
        check(classes > 0, "categorical", "needs at least one class, got shape \(probabilities.shape)")
        let rows = probabilities.count / classes
        let output = empty(Array(probabilities.shape.dropLast()))
        for row in 0..<rows {
            let p = probabilities.storage.pointer + row * classes
            var total: Float = 0
            for j in 0..<classes {
                check(p[j] >= 0 && p[j].isFinite, "categorical", "probability \(p[j]) in row \(row) is not a finite non-negative number")
                total += p[j]
            }
            check(total > 0, "categorical", "row \(row) has no probability mass")
            let target = generator.nextUniform() * total
            var cumulative: Float = 0, chosen = classes - 1
            for j in 0..<classes {
                cumulative += p[j]
                if target < cumulative { chosen = j; break }
            }
            output.storage.pointer[row] = Float(chosen)
        }
        return output
    }

    /// A random permutation of `0..<count` as a float tensor of indices.
    public static func randomPermutation(_ count: Int, generator: inout RandomGenerator) -> Tensor {
        Tensor(generator.permutation(count).map(Float.init))
    }
}
