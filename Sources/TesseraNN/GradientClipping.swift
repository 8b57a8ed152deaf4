import TesseraTensor

/// Scales all gradients together so their global L2 norm is at most `maximumNorm` (Pascanu et
/// al., "On the difficulty of training recurrent neural networks", ICML 2013), as PyTorch's
/// `clip_grad_norm_`: the factor is `maximumNorm / (norm + 1e-6)`, applied only when below 1.
///
/// - Returns: the global norm before clipping (worth logging: spikes precede divergence).
@discardableResult
public func clipGradientNorm(_ parameters: [Tensor], maximumNorm: Float) -> Float {
    let gradients = parameters.compactMap(\.grad)
    var squares = 0.0
    for gradient in gradients {
        let g = gradient.storage.pointer
        for i in 0..<gradient.count { squares += Double(g[i]) * Double(g[i]) }
    }
    let norm = Float(squares.squareRoot())
    let factor = maximumNorm / (norm + 1e-6)
    if factor < 1 {
        for gradient in gradients {
            let g = gradient.storage.pointer
            for i in 0..<gradient.count { g[i] *= factor }
        }
    }
    return norm
}
