import TesseraData
import TesseraNN
import TesseraTensor

/// Masked image modelling with pixel targets, as MAE (He et al., "Masked Autoencoders Are
/// Scalable Vision Learners", CVPR 2022) and SimMIM (Xie et al., "SimMIM: a Simple Framework for
/// Masked Image Modeling", CVPR 2022): a random fraction of the image's patches is hidden, the
/// model predicts the pixels of every patch, and the loss — the mean squared error per pixel —
/// counts the masked patches only. Both papers report that scoring the visible patches too
/// lowers the transfer accuracy: the model spends capacity copying what it sees.
///
/// Patches are the ViT's (`PatchEmbedding.patches`): row-major over the grid, each flattened as
/// `channels · p · p`. Masking is `PatchMasking` (exactly `round(ratio × patches)` patches,
/// uniformly without replacement, set to 0, which is SimMIM's input; MAE instead drops them
/// from the encoder, which the mask allows). With `normalizeTargets` each target patch is
/// standardised by its own mean and variance, the variant MAE found to raise its fine-tuning accuracy.
///
/// ```swift
/// let mim = try MaskedImageModeling(patchSize: 2, maskRatio: 0.5)
/// let task = try mim.batch(images, indices: indices, epoch: epoch, seeds: SampleSeeds(seed: 5))
/// let loss = mim.loss(predictions: model(task.inputs), targets: task.targets, mask: task.mask)
/// ```
public struct MaskedImageModeling {
    public let patchSize: Int
    /// Fraction of the patches hidden, in [0, 1).
    public let maskRatio: Float
    /// Standardise each target patch (MAE's `norm_pix_loss`).
    public let normalizeTargets: Bool

    /// Throws for a mask ratio outside [0, 1) or a patch size below 1.
    public init(patchSize: Int, maskRatio: Float, normalizeTargets: Bool = false) throws {
        guard patchSize > 0 else { throw SelfSupervisedError("masked image modelling: patchSize must be positive, got \(patchSize)") }
        guard maskRatio >= 0 && maskRatio < 1 else {
            throw SelfSupervisedError("masked image modelling: maskRatio must be in [0, 1), got \(maskRatio)")
        }
        self.patchSize = patchSize
        self.maskRatio = maskRatio
        self.normalizeTargets = normalizeTargets
    }

    /// `[N, C, H, W]` images as `[N, patches, C·p·p]` rows (the ViT's patch order).
    public func patches(_ images: Tensor) throws -> Tensor {
        guard images.rank == 4 && images.shape[2] % patchSize == 0 && images.shape[3] % patchSize == 0 else {
            throw SelfSupervisedError("masked image modelling: images \(images.shape) are not [N, C, H, W] whole \(patchSize)-pixel patches")
        }
        let (count, channels, rows, columns) = (images.shape[0], images.shape[1], images.shape[2] / patchSize, images.shape[3] / patchSize)
        return images.reshape([count, channels, rows, patchSize, columns, patchSize])
            .permuted([0, 2, 4, 1, 3, 5])
            .reshape([count, rows * columns, channels * patchSize * patchSize])
    }

    /// The pretext batch of `images` `[N, C, H, W]` whose rows are the samples `indices`: the
    /// masked `inputs`, the `mask` `[N, patches]` (1 = masked) drawn with the stream of
    /// `(epoch, indices[n], view 0)`, and the pixel `targets` `[N, patches, C·p·p]` of every patch.
    public func batch(_ images: Tensor, indices: [Int], epoch: Int, seeds: SampleSeeds) throws
        -> (inputs: Tensor, mask: Tensor, targets: Tensor) {
        var targets = try patches(images)
        guard indices.count == images.shape[0] else {
            throw SelfSupervisedError("masked image modelling: \(indices.count) sample indices for \(images.shape[0]) images")
        }
        let masking = PatchMasking(patchSize: patchSize, maskRatio: maskRatio)
        var maskedImages: [Tensor] = [], masks: [Tensor] = []
        for (position, sample) in indices.enumerated() {
            var generator = seeds.generator(epoch: epoch, sample: sample, view: 0)
            let (image, mask) = masking.mask(images.select(alongAxis: 0, index: position), generator: &generator)
            maskedImages.append(image)
            masks.append(mask.reshape([mask.count]))
        }
        if normalizeTargets {
            // MAE: per-patch mean and variance, with 1e-6 against flat patches.
            let mean = targets.mean(alongAxes: [-1], keepDims: true)
            let variance = ((targets - mean) * (targets - mean)).mean(alongAxes: [-1], keepDims: true)
            targets = (targets - mean) / (variance + 1e-6).sqrt()
        }
        return (Tensor.stack(maskedImages), Tensor.stack(masks), targets)
    }

    /// The mean over masked patches of each patch's mean squared error: predictions and targets
    /// `[N, patches, D]`, mask `[N, patches]`. Unmasked patches contribute nothing, neither to the
    /// value nor to the gradient; with no masked patch the loss is 0.
    public func loss(predictions: Tensor, targets: Tensor, mask: Tensor) -> Tensor {
        precondition(predictions.shape == targets.shape && predictions.rank == 3 && mask.shape == Array(targets.shape.prefix(2)),
                     "MaskedImageModeling.loss: predictions \(predictions.shape), targets \(targets.shape), mask \(mask.shape)")
        let difference = predictions - targets
        let perPatch = (difference * difference).mean(alongAxes: [-1])
        let maskedCount = mask.scalars.reduce(0, +)
        return (perPatch * mask).sum() / Swift.max(maskedCount, 1)
    }
}
