import TesseraNN
import TesseraTensor

/// Moves every parameter of `target` toward the same-named parameter of `online`:
/// `θ_target ← τ·θ_target + (1 − τ)·θ_online` (BYOL's target network, DINO's and iBOT's teacher).
/// Buffers (batch-norm statistics) are copied from `online`, as TesseraNN's
/// `ExponentialMovingAverage` does: they are statistics of the data, not learned weights. Throws
/// when the two trees do not have the same parameter and buffer names and shapes.
public func updateExponentialMovingAverage(target: any Module, online: any Module, decay: Float) throws {
    let sources = Dictionary(uniqueKeysWithValues: online.namedParameters().map { ($0.name, $0.parameter) })
    for (name, parameter) in target.namedParameters() {
        guard let source = sources[name], source.shape == parameter.shape else {
            throw SelfSupervisedError("the moving-average target's parameter '\(name)' \(parameter.shape) has no match of that shape in the online network")
        }
        withoutGradients { parameter.assign(decay * parameter + (1 - decay) * source) }
    }
    let sourceBuffers = Dictionary(uniqueKeysWithValues: online.namedBuffers().map { ($0.name, $0.buffer) })
    for (name, buffer) in target.namedBuffers() {
        guard let source = sourceBuffers[name], source.shape == buffer.shape else {
            throw SelfSupervisedError("the moving-average target's buffer '\(name)' \(buffer.shape) has no match of that shape in the online network")
        }
        buffer.assign(source)
    }
}
