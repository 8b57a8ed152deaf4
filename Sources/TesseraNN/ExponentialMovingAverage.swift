import Foundation
import TesseraTensor

/// Keeps a teacher network as an exponential moving average of a student network of the same
/// architecture: `θ_teacher ← τ·θ_teacher + (1 − τ)·θ_student`, in place.
///
/// BYOL's target network (Grill et al., "Bootstrap Your Own Latent", NeurIPS 2020) and DINO's
/// teacher (Caron et al., "Emerging Properties in Self-Supervised Vision Transformers", ICCV
/// 2021) are updated this way, with τ rising from `baseMomentum` to 1 on a cosine
/// (``momentum(atStep:)``). Buffers (running statistics) are copied from the student, since
/// they are statistics of the data rather than learned weights.
///
/// ```swift
/// let ema = ExponentialMovingAverage(teacher: target, student: online, baseMomentum: 0.996, totalSteps: steps)
/// optimizer.step()
/// ema.update(step: step)
/// ```
public final class ExponentialMovingAverage {
    public let teacher: Module
    public let student: Module
    /// τ at step 0.
    public let baseMomentum: Float
    /// The step at which τ reaches 1.
    public let totalSteps: Int
    private let pairs: [(teacher: Tensor, student: Tensor)]
    private let bufferPairs: [(teacher: Tensor, student: Tensor)]

    /// Pairs parameters by name and freezes the teacher (it receives no gradients).
    /// Stops if the two trees do not have the same names and shapes.
    public init(teacher: Module, student: Module, baseMomentum: Float = 0.996, totalSteps: Int) {
        self.teacher = teacher
        self.student = student
        self.baseMomentum = baseMomentum
        self.totalSteps = totalSteps
        pairs = Self.pair(teacher.namedParameters().map { ($0.name, $0.parameter) },
                          student.namedParameters().map { ($0.name, $0.parameter) })
        bufferPairs = Self.pair(teacher.namedBuffers().map { ($0.name, $0.buffer) },
                                student.namedBuffers().map { ($0.name, $0.buffer) })
        teacher.freeze()
    }

    private static func pair(_ teacher: [(String, Tensor)], _ student: [(String, Tensor)]) -> [(teacher: Tensor, student: Tensor)] {
        let students = Dictionary(uniqueKeysWithValues: student)
        precondition(teacher.count == student.count, "ExponentialMovingAverage: teacher has \(teacher.count) tensors, student \(student.count)")
        return teacher.map { name, tensor in
            guard let match = students[name], match.shape == tensor.shape else {
                preconditionFailure("ExponentialMovingAverage: student has no tensor \(name) of shape \(tensor.shape)")
            }
            return (tensor, match)
        }
    }

    /// `1 − (1 − τ_base)·(cos(π·step/totalSteps) + 1)/2` (BYOL's schedule).
    public func momentum(atStep step: Int) -> Float {
        let progress = Double(min(step, totalSteps)) / Double(max(totalSteps, 1))
        return 1 - (1 - baseMomentum) * Float((Foundation.cos(Double.pi * progress) + 1) / 2)
    }

    /// Moves the teacher towards the student with τ = ``momentum(atStep:)``.
    public func update(step: Int) {
        update(momentum: momentum(atStep: step))
    }

    /// Moves the teacher towards the student with the given τ.
    public func update(momentum: Float) {
        for (teacher, student) in pairs {
            let t = teacher.storage.pointer, s = student.storage.pointer
            for i in 0..<teacher.count { t[i] = momentum * t[i] + (1 - momentum) * s[i] }
        }
        for (teacher, student) in bufferPairs { teacher.assign(student) }
    }
}
