import Foundation
import TesseraTensor

/// DINO's self-distillation loss (Caron et al., "Emerging Properties in Self-Supervised Vision
/// Transformers", ICCV 2021, Algorithm 1).
///
/// The teacher (an EMA of the student) sees only the global crops; its outputs are *centred* by a
/// running mean `c` and *sharpened* by a low temperature τ_t, the student's by τ_s; the loss is the
/// cross entropy `−Σ P_t log P_s` over every pair of a teacher crop and a student crop of a
/// different view, averaged over the pairs and the rows:
///
/// ```
/// P_t = softmax((g_t(x) − c) / τ_t),   P_s = softmax(g_s(x') / τ_s)
/// c ← m·c + (1 − m)·mean over the batch of g_t(x)
/// ```
///
/// Centering alone pushes P_t toward the uniform distribution, sharpening alone toward one
/// dimension; together they avoid both collapses (the paper's Sect. 5.3, Fig. 7).
public struct DINOLoss {
    /// τ_s (0.1 in the paper).
    public let studentTemperature: Float
    /// m, the centre's EMA decay (0.9).
    public let centerMomentum: Float
    /// Whether outputs are centred (`false` shows the collapse to one dimension).
    public var centering = true
    /// The running centre `c`, `[1, K]`.
    public private(set) var center: Tensor

    public init(outputDimensions: Int, studentTemperature: Float = 0.1, centerMomentum: Float = 0.9) throws {
        guard studentTemperature > 0 else { throw SelfSupervisedError("studentTemperature must be positive, got \(studentTemperature)") }
        guard (0..<1).contains(centerMomentum) else { throw SelfSupervisedError("centerMomentum must be in [0, 1), got \(centerMomentum)") }
        self.studentTemperature = studentTemperature
        self.centerMomentum = centerMomentum
        center = Tensor.zeros([1, outputDimensions])
    }

    /// The teacher's target distributions for its crops (detached).
    public func teacherProbabilities(_ teacher: [Tensor], temperature: Float) -> [Tensor] {
        withoutGradients { teacher.map { ((centering ? $0.detached() - center : $0.detached()) / temperature).softmax(alongAxis: 1) } }
    }

    /// The loss of `student` outputs (global crops first, in the same order as the teacher's, then
    /// local crops; `[N, K]` each) against `teacher` outputs of the global crops. Pair (i, j) counts
    /// unless i = j (the same crop).
    public func callAsFunction(student: [Tensor], teacher: [Tensor], teacherTemperature: Float) -> Tensor {
        precondition(teacher.count <= student.count, "DINOLoss: \(teacher.count) teacher crops but only \(student.count) student crops")
        let targets = teacherProbabilities(teacher, temperature: teacherTemperature)
        let logProbabilities = student.map { ($0 / studentTemperature).logSoftmax(alongAxis: 1) }
        var total: Tensor?
        var pairs = 0
        for (i, target) in targets.enumerated() {
            for (j, logP) in logProbabilities.enumerated() where i != j {
                let term = -(target * logP).sum(alongAxes: [1]).mean()
                total = total.map { $0 + term } ?? term
                pairs += 1
            }
        }
        return total! / Float(pairs)
    }

    /// `c ← m·c + (1 − m)·sum/count`, where `sum` is the teacher outputs summed over the rows of the
    /// global batch (`[1, K]`; with several processes, all-reduced before the call) and `count` the rows.
    public mutating func updateCenter(teacherSum: Tensor, count: Int) {
        center = withoutGradients { centerMomentum * center + (1 - centerMomentum) * teacherSum.reshape([1, -1]) / Float(count) }
    }

    /// Puts back a centre saved from ``center`` (resuming a run); throws for another shape.
    public mutating func restoreCenter(_ saved: Tensor) throws {
        guard saved.count == center.count else {
            throw SelfSupervisedError("DINO centre: the saved centre has \(saved.count) values, the loss has \(center.count) output dimensions")
        }
        center = saved.copy().reshape([1, -1])
    }

    /// The teacher temperature's warm-up: linear from `start` (0.04) to `end` over `warmupEpochs`,
    /// then `end`.
    public static func teacherTemperature(epoch: Int, warmupEpochs: Int, start: Float, end: Float) -> Float {
        guard epoch < warmupEpochs else { return end }
        return start + (end - start) * Float(epoch) / Float(warmupEpochs)
    }
}
