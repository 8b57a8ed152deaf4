import Foundation
import TesseraTensor

/// The numbers that show a representation collapsing, logged by every method.
public enum CollapseMonitor {
    /// The standard deviation of each dimension of the l2-normalised embeddings (`[N, d]`), as
    /// SimSiam (Chen & He 2021, Fig. 2) tracks it: about 1/√d for a healthy representation, 0
    /// when every input maps to the same point.
    public static func standardDeviations(of embeddings: Tensor) -> [Float] {
        withoutGradients {
            let z = l2Normalized(embeddings)
            let centred = z - z.mean(alongAxes: [0], keepDims: true)
            return (centred * centred).mean(alongAxes: [0]).sqrt().scalars
        }
    }

    /// The effective rank of Roy & Vetterli (2007): `exp(H(p))` with `p` the singular values of the
    /// centred embeddings normalised to sum to 1 — between 1 (one direction) and d (all equal).
    public static func effectiveRank(of embeddings: Tensor) -> Double {
        let (rows, columns) = (embeddings.shape[0], embeddings.shape[1])
        let centred = withoutGradients { embeddings - embeddings.mean(alongAxes: [0], keepDims: true) }
        // Singular values are the square roots of the Gram matrix's eigenvalues.
        let gram = withoutGradients { centred.transposed().matmul(centred) }
        guard rows > 1, let eigen = BLAS.symmetricEigendecomposition(gram.scalars, n: columns) else { return 1 }
        // Float eigenvalues of a rank-deficient Gram matrix come out near 1e-7 of the largest, not
        // 0, and their square roots (3e-4 of the largest singular value) would read as rank; treat
        // eigenvalues below 1e-6 of the largest as the zeros they are.
        let largest = Double(eigen.values.max() ?? 0)
        let singular = eigen.values.map { Double($0) > 1e-6 * largest ? Double($0).squareRoot() : 0 }
        let total = singular.reduce(0, +)
        guard total > 0 else { return 1 }
        let entropy = singular.filter { $0 > 0 }.map { $0 / total }.reduce(0) { $0 - $1 * log($1) }
        return exp(entropy)
    }

    /// The mean entropy (nats) of rows of probabilities `[N, K]`: log K when uniform, 0 when one-hot.
    public static func entropy(ofProbabilities probabilities: Tensor) -> Double {
        withoutGradients {
            let p = probabilities.maximum(1e-12)
            return Double((-(probabilities * p.log()).sum() / Float(probabilities.shape[0])).item)
        }
    }

    /// The mean KL divergence `KL(p ‖ q)` over rows of probabilities (DINO's teacher–student KL):
    /// 0 when the student copies the teacher, as in both collapses.
    public static func klDivergence(_ p: Tensor, _ q: Tensor) -> Double {
        withoutGradients {
            let (safeP, safeQ) = (p.maximum(1e-12), q.maximum(1e-12))
            return Double(((p * (safeP.log() - safeQ.log())).sum() / Float(p.shape[0])).item)
        }
    }
}

/// The collapse monitors of one batch of embeddings, as a method's step returns them for logging.
public struct CollapseStatistics: Sendable {
    /// ``CollapseMonitor/standardDeviations(of:)``: one per dimension of the l2-normalised embeddings.
    public let standardDeviations: [Float]
    /// ``CollapseMonitor/effectiveRank(of:)`` of the embeddings.
    public let effectiveRank: Double
    /// DINO only: the mean entropy of the teacher's distributions (0 for one dimension, log K uniform).
    public let teacherEntropy: Double?
    /// DINO only: the mean KL divergence from the teacher's to the student's distributions.
    public let teacherStudentDivergence: Double?

    /// The mean of ``standardDeviations``: about 1/√d when healthy, 0 when collapsed to a point.
    public var meanStandardDeviation: Double {
        standardDeviations.isEmpty ? 0 : standardDeviations.reduce(0) { $0 + Double($1) } / Double(standardDeviations.count)
    }

    public init(embeddings: Tensor, teacherEntropy: Double? = nil, teacherStudentDivergence: Double? = nil) {
        standardDeviations = CollapseMonitor.standardDeviations(of: embeddings)
        effectiveRank = CollapseMonitor.effectiveRank(of: embeddings)
        self.teacherEntropy = teacherEntropy
        self.teacherStudentDivergence = teacherStudentDivergence
    }
}
