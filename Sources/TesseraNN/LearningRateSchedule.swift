import Foundation

/// A learning rate as a pure function of the step (0-based), so a resumed run needs only the step.
public protocol LearningRateSchedule: Sendable {
    func learningRate(atStep step: Int) -> Float
}

/// The same rate at every step.
public struct ConstantSchedule: LearningRateSchedule, Codable, Equatable {
    public var learningRate: Float

    public init(learningRate: Float) {
        self.learningRate = learningRate
    }

    public func learningRate(atStep step: Int) -> Float { learningRate }
}

/// `base · γ^⌊step / stepSize⌋` (PyTorch's StepLR).
public struct StepDecaySchedule: LearningRateSchedule, Codable, Equatable {
    /// The rate before the first decay.
    public var baseLearningRate: Float
    /// Steps between decays.
    public var stepSize: Int
    /// Factor applied at each decay (γ).
    public var decayFactor: Float

    public init(baseLearningRate: Float, stepSize: Int, decayFactor: Float = 0.1) {
        precondition(stepSize > 0, "StepDecaySchedule: stepSize must be positive, got \(stepSize)")
        self.baseLearningRate = baseLearningRate
        self.stepSize = stepSize
        self.decayFactor = decayFactor
    }

    public func learningRate(atStep step: Int) -> Float {
        baseLearningRate * Foundation.pow(decayFactor, Float(step / stepSize))
    }
}

/// A linear warm-up from 0 over `warmupSteps`, then a linear decay to `finalLearningRate` at
/// `totalSteps` (BERT's schedule), constant after that.
public struct LinearSchedule: LearningRateSchedule, Codable, Equatable {
    /// The peak rate, reached at the end of the warm-up.
    public var baseLearningRate: Float
    /// Steps of linear increase from 0 (0 for none).
    public var warmupSteps: Int
    /// The step at which the decay reaches `finalLearningRate`.
    public var totalSteps: Int
    public var finalLearningRate: Float

    public init(baseLearningRate: Float, warmupSteps: Int = 0, totalSteps: Int, finalLearningRate: Float = 0) {
        precondition(warmupSteps >= 0 && totalSteps > warmupSteps,
                     "LinearSchedule: needs 0 ≤ warmupSteps < totalSteps, got \(warmupSteps) and \(totalSteps)")
        self.baseLearningRate = baseLearningRate
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.finalLearningRate = finalLearningRate
    }

    public func learningRate(atStep step: Int) -> Float {
        if step < warmupSteps { return baseLearningRate * Float(step) / Float(warmupSteps) }
        let progress = Float(min(step, totalSteps) - warmupSteps) / Float(totalSteps - warmupSteps)
        return baseLearningRate + (finalLearningRate - baseLearningRate) * progress
    }
}

/// A linear warm-up from 0 over `warmupSteps`, then a half cosine from the base rate down to
/// `finalLearningRate` at `totalSteps` (Loshchilov & Hutter, "SGDR", ICLR 2017, without restarts;
/// the warm-up as in Goyal et al., "Accurate, Large Minibatch SGD", 2017), constant after that.
public struct CosineSchedule: LearningRateSchedule, Codable, Equatable {
    /// The peak rate, reached at the end of the warm-up.
    public var baseLearningRate: Float
    /// Steps of linear increase from 0 (0 for none).
    public var warmupSteps: Int
    /// The step at which the cosine reaches `finalLearningRate`.
    public var totalSteps: Int
    public var finalLearningRate: Float

    public init(baseLearningRate: Float, warmupSteps: Int = 0, totalSteps: Int, finalLearningRate: Float = 0) {
        precondition(warmupSteps >= 0 && totalSteps > warmupSteps,
                     "CosineSchedule: needs 0 ≤ warmupSteps < totalSteps, got \(warmupSteps) and \(totalSteps)")
        self.baseLearningRate = baseLearningRate
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.finalLearningRate = finalLearningRate
    }

    public func learningRate(atStep step: Int) -> Float {
        if step < warmupSteps { return baseLearningRate * Float(step) / Float(warmupSteps) }
        let progress = Double(min(step, totalSteps) - warmupSteps) / Double(totalSteps - warmupSteps)
        let cosine = Float(0.5 * (1 + Foundation.cos(Double.pi * progress)))
        return finalLearningRate + (baseLearningRate - finalLearningRate) * cosine
    }
}
