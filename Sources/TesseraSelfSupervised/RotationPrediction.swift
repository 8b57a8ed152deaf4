import TesseraNN
import TesseraTensor

/// Rotation prediction (Gidaris, Singh & Komodakis, "Unsupervised Representation Learning by
/// Predicting Image Rotations", ICLR 2018): every image is shown rotated by 0°, 90°, 180° and
/// 270°, and the network classifies which of the four rotations it sees. Recognising "upright"
/// needs the object's shape and orientation, so the features that solve it transfer.
///
/// As in the paper (§2.2), each batch holds all four rotations of every image, which the paper
/// found better than one random rotation per image; the rotations are exact quarter turns
/// (index permutations, no interpolation), so no artefact tells them apart.
///
/// ```swift
/// let task = try RotationPrediction.batch(batch.inputs)        // inputs [4N, C, H, W], labels [4N]
/// let loss = RotationPrediction.loss(logits: model(task.inputs), labels: task.labels)
/// ```
public enum RotationPrediction {
    /// The four classes: 0°, 90°, 180°, 270° counter-clockwise.
    public static let classCount = 4

    /// The image `[..., H, W]` turned counter-clockwise by `quarterTurns` × 90° (any integer;
    /// taken modulo 4): a quarter turn is a transpose of the last two axes, then the rows
    /// reversed (numpy's `rot90`).
    public static func rotate(_ images: Tensor, quarterTurns: Int) -> Tensor {
        precondition(images.rank >= 2, "RotationPrediction.rotate: expected [..., H, W], got \(images.shape)")
        let height = images.rank - 2, width = images.rank - 1
        switch ((quarterTurns % 4) + 4) % 4 {
        case 0: return images.copy()
        case 1: return images.transposed(height, width).flipped(alongAxes: [height])
        case 2: return images.flipped(alongAxes: [height, width])
        default: return images.transposed(height, width).flipped(alongAxes: [width])
        }
    }

    /// The pretext batch of `images` `[N, C, H, W]` (square, so the four rotations stack):
    /// `inputs` `[4N, C, H, W]` holds rotation k of image n at row `4n + k`, `labels` `[4N]` holds k.
    public static func batch(_ images: Tensor) throws -> (inputs: Tensor, labels: Tensor) {
        guard images.rank == 4, images.shape[2] == images.shape[3] else {
            throw SelfSupervisedError("rotation prediction: expected square images [N, C, H, H], got \(images.shape)")
        }
        let rotations = (0..<classCount).map { rotate(images, quarterTurns: $0) }
        let count = images.shape[0]
        let inputs = Tensor.stack(rotations, alongAxis: 1).reshape([count * classCount] + Array(images.shape.dropFirst()))
        let labels = Tensor((0..<count * classCount).map { Float($0 % classCount) })
        return (inputs, labels)
    }

    /// Cross entropy of the rotation logits `[4N, 4]` against the labels `[4N]`.
    public static func loss(logits: Tensor, labels: Tensor) -> Tensor {
        crossEntropy(logits: logits, targets: labels)
    }
}
