import TesseraData
import TesseraNN
import TesseraTensor

/// Colorization as a pretext task, in the spirit of Zhang, Isola & Efros ("Colorful Image
/// Colorization", ECCV 2016): the network sees only an image's grey levels and predicts its
/// colours. The paper predicts the two chroma channels of Lab space as a classification over
/// 313 quantised bins, because regressing colours averages the plausible ones into grey; here
/// the bins are the colours of `ColoredShapes.palette` (the images hold only those), with a
/// per-pixel cross entropy, and a plain mean-squared regression of the RGB channels is offered
/// beside it for comparison.
///
/// Grey is the ITU-R BT.601 luma, `0.299 R + 0.587 G + 0.114 B` (what torchvision's
/// `rgb_to_grayscale` computes), a 1-channel image.
///
/// ```swift
/// let set = ColoredShapes.make(count: 256, generator: &rng)
/// let task = try Colorization.batch(set.dataset.inputs)   // grey [N, 1, H, W], bins [N, H, W]
/// let loss = Colorization.binnedLoss(logits: model(task.inputs), bins: task.bins)   // logits [N, 8, H, W]
/// ```
public enum Colorization {
    /// The BT.601 weights of red, green and blue in the grey level.
    public static let lumaWeights: [Float] = [0.299, 0.587, 0.114]

    /// The colour bins: `ColoredShapes.palette`'s colours, `[bins, 3]`.
    public static let binColors = Tensor(shape: [ColoredShapes.palette.count, 3],
                                         scalars: ColoredShapes.palette.flatMap { [$0.red, $0.green, $0.blue] })

    /// Number of colour classes per pixel.
    public static var binCount: Int { ColoredShapes.palette.count }

    /// The grey version `[N, 1, H, W]` of RGB images `[N, 3, H, W]`.
    public static func grayscale(_ images: Tensor) throws -> Tensor {
        guard images.rank == 4 && images.shape[1] == 3 else {
            throw SelfSupervisedError("colorization: expected RGB images [N, 3, H, W], got \(images.shape)")
        }
        let weights = Tensor(shape: [1, 3, 1, 1], scalars: lumaWeights)
        return (images * weights).sum(alongAxes: [1], keepDims: true)
    }

    /// Each pixel's nearest bin colour (squared RGB distance; ties to the lower index), `[N, H, W]`.
    public static func bins(_ images: Tensor) throws -> Tensor {
        guard images.rank == 4 && images.shape[1] == 3 else {
            throw SelfSupervisedError("colorization: expected RGB images [N, 3, H, W], got \(images.shape)")
        }
        let (count, height, width) = (images.shape[0], images.shape[2], images.shape[3])
        let planeSize = height * width
        let colors = binColors.scalars
        let output = Tensor.zeros([count, height, width])
        for image in 0..<count {
            let pixels = images.storage.pointer + image * 3 * planeSize
            for pixel in 0..<planeSize {
                var best = 0, bestDistance = Float.infinity
                for bin in 0..<binCount {
                    var distance: Float = 0
                    for channel in 0..<3 {
                        let difference = pixels[channel * planeSize + pixel] - colors[bin * 3 + channel]
                        distance += difference * difference
                    }
                    if distance < bestDistance { (best, bestDistance) = (bin, distance) }
                }
                output.storage.pointer[image * planeSize + pixel] = Float(best)
            }
        }
        return output
    }

    /// The pretext batch of RGB images `[N, 3, H, W]`: the grey `inputs` `[N, 1, H, W]`, the
    /// regression target `colors` (the images themselves) and the classification target `bins`.
    public static func batch(_ images: Tensor) throws -> (inputs: Tensor, colors: Tensor, bins: Tensor) {
        (try grayscale(images), images.copy(), try bins(images))
    }

    /// Per-pixel cross entropy of the bin logits `[N, bins, H, W]` against `bins` `[N, H, W]`,
    /// averaged over pixels.
    public static func binnedLoss(logits: Tensor, bins: Tensor) -> Tensor {
        precondition(logits.rank == 4 && logits.shape[1] == binCount,
                     "Colorization.binnedLoss: expected logits [N, \(binCount), H, W], got \(logits.shape)")
        return crossEntropy(logits: logits.permuted([0, 2, 3, 1]), targets: bins)
    }

    /// Mean squared error of predicted RGB `[N, 3, H, W]` against the true colours.
    public static func regressionLoss(predictions: Tensor, colors: Tensor) -> Tensor {
        meanSquaredError(predictions, colors)
    }
}
