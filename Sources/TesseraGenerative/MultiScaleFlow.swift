import TesseraNN
import TesseraTensor

/// The multi-scale architecture of RealNVP (Dinh, Sohl-Dickstein & Bengio 2017, §3.6), which Glow
/// keeps: the flow runs in levels; after every level but the last, half of the channels are
/// factored out as latents (modelled by the standard Gaussian) and only the other half goes on.
/// `log p(x) = Σ_levels log N(z_ℓ; 0, I) + Σ_layers log |det J|`.
public final class MultiScaleFlow: Module {
    /// The layers of each level, in order.
    public let levels: [[any FlowLayer]]
    /// `[channels, height, width]` of one input.
    public let inputShape: [Int]
    /// Which model owns this flow, for error messages.
    let model: String

    public init(levels: [[any FlowLayer]], inputShape: [Int], model: String) throws {
        guard !levels.isEmpty else { throw GenerativeError("\(model): needs at least one level") }
        guard inputShape.count == 3, inputShape.allSatisfy({ $0 > 0 }) else {
            throw GenerativeError("\(model): expected an input shape [channels, height, width], got \(inputShape)")
        }
        self.levels = levels
        self.inputShape = inputShape
        self.model = model
        _ = try latentShapes()  // the squeezes can split the image, the splits the channels
    }

    /// The shape `[channels, height, width]` of each level's latent, the factored-out halves first.
    public func latentShapes() throws -> [[Int]] {
        var shape = [1] + inputShape
        var result: [[Int]] = []
        for (index, level) in levels.enumerated() {
            for layer in level { shape = try layer.outputShape(for: shape) }
            if index < levels.count - 1 {
                guard shape[1] % 2 == 0 else {
                    throw GenerativeError("\(model): level \(index) ends with \(shape[1]) channels, which cannot be split in half")
                }
                shape[1] /= 2
            }
            result.append(Array(shape.dropFirst()))
        }
        return result
    }

    func checkInput(_ input: Tensor) throws {
        guard input.rank == 4, Array(input.shape.dropFirst()) == inputShape else {
            throw GenerativeError("\(model): expected input [batch, \(inputShape.map(String.init).joined(separator: ", "))], got shape \(input.shape)")
        }
    }

    /// The latents of every level (`[batch, …]` each) and the total `log |det J|`, `[batch]`.
    public func forward(_ input: Tensor) throws -> (latents: [Tensor], logDeterminant: Tensor) {
        try checkInput(input)
        var x = input
        var total = Tensor.zeros([input.shape[0]])
        var latents: [Tensor] = []
        for (index, level) in levels.enumerated() {
            let (y, logDeterminant) = try composeForward(level, x, model: "\(model) level \(index)")
            total = total + logDeterminant
            if index < levels.count - 1 {
                let halves = y.chunked(2, alongAxis: 1)
                latents.append(halves[1])
                x = halves[0]
            } else {
                latents.append(y)
            }
        }
        return (latents, total)
    }

    /// `log p(x)` in nats, `[batch]`.
    public func logLikelihood(_ input: Tensor) throws -> Tensor {
        let (latents, logDeterminant) = try forward(input)
        return latents.reduce(logDeterminant) { $0 + standardNormalLogDensity($1) }
    }

    /// The input whose latents are `latents` (as ``forward(_:)`` returns them).
    public func inverse(_ latents: [Tensor]) throws -> Tensor {
        guard latents.count == levels.count else {
            throw GenerativeError("\(model).inverse: expected \(levels.count) latents (one per level), got \(latents.count)")
        }
        var x = latents[levels.count - 1]
        for index in stride(from: levels.count - 1, through: 0, by: -1) {
            if index < levels.count - 1 { x = Tensor.concatenate([x, latents[index]], alongAxis: 1) }
            x = try composeInverse(levels[index], x)
        }
        return x
    }

    /// `count` samples with every latent drawn from `N(0, T² I)`.
    public func sample(count: Int, temperature: Float, generator: inout RandomGenerator) throws -> Tensor {
        try checkTemperature(temperature, op: "\(model).sample")
        guard count > 0 else { throw GenerativeError("\(model).sample: count must be positive, got \(count)") }
        let latents = try latentShapes().map { Tensor.randomNormal([count] + $0, generator: &generator) * temperature }
        return try inverse(latents)
    }
}
