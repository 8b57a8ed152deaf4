import TesseraTensor

/// The squeeze of RealNVP (Dinh, Sohl-Dickstein & Bengio 2017, §3.6) and Glow: every 2 × 2 patch of
/// each channel becomes 4 channels, `[N, C, H, W] → [N, 4C, H/2, W/2]`. A permutation of the
/// elements, so `log |det J| = 0`. Channel `4c + 2i + j` holds the patch position `(i, j)` of input channel `c`.
public final class Squeeze: FlowLayer {
    public init() {}

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard inputShape.count == 4 else { throw GenerativeError("Squeeze: expected input [batch, channels, height, width], got shape \(inputShape)") }
        let (c, h, w) = (inputShape[1], inputShape[2], inputShape[3])
        guard h % 2 == 0, w % 2 == 0 else {
            throw GenerativeError("Squeeze: height and width must be even to split into 2 × 2 patches, got \(h) × \(w)")
        }
        return [inputShape[0], 4 * c, h / 2, w / 2]
    }

    public func forward(_ input: Tensor) throws -> (output: Tensor, logDeterminant: Tensor) {
        let shape = try outputShape(for: input.shape)
        let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let output = input.reshape([n, c, h / 2, 2, w / 2, 2]).permuted([0, 1, 3, 5, 2, 4]).reshape(shape)
        return (output, Tensor.zeros([n]))
    }

    public func inverse(_ output: Tensor) throws -> Tensor {
        try checkRank(output, 4, "Squeeze.inverse", "[batch, 4·channels, height, width]")
        let (n, c, h, w) = (output.shape[0], output.shape[1], output.shape[2], output.shape[3])
        guard c % 4 == 0 else { throw GenerativeError("Squeeze.inverse: channels must be a multiple of 4, got \(c)") }
        return output.reshape([n, c / 4, 2, 2, h, w]).permuted([0, 1, 4, 2, 5, 3]).reshape([n, c / 4, 2 * h, 2 * w])
    }
}
