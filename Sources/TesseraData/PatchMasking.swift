import TesseraTensor

/// Hides a random set of square patches, for masked-image modelling: BEiT (Bao et al., 2022) and
/// iBOT (Zhou et al., 2022) predict what lies under the masked patches of a ViT's input, MAE (He
/// et al., 2022) reconstructs their pixels.
///
/// The image `[C, H, W]` is cut into a grid of `patchSize × patchSize` patches (`H` and `W` must
/// be multiples of `patchSize`); exactly `round(maskRatio × patchCount)` of them, chosen
/// uniformly without replacement, are set to `fillValue`. The mask `[H / patchSize,
/// W / patchSize]` holds 1 for a masked patch and 0 for a visible one, in the same row-major
/// patch order a ViT uses for its tokens. (BEiT's block-wise masking groups the masked patches
/// into rectangles; uniform masking is what iBOT and MAE use.)
///
/// ```swift
/// let masking = PatchMasking(patchSize: 2, maskRatio: 0.4)
/// let (masked, mask) = masking.mask(batch.inputs, generator: &rng)   // mask [N, 4, 4]
/// ```
public struct PatchMasking: Augmentation {
    public let patchSize: Int
    public let maskRatio: Float
    public let fillValue: Float

    public init(patchSize: Int, maskRatio: Float, fillValue: Float = 0) {
        precondition(patchSize > 0, "Tessera PatchMasking: patchSize must be positive, got \(patchSize)")
        precondition(maskRatio >= 0 && maskRatio <= 1, "Tessera PatchMasking: maskRatio must be in 0...1, got \(maskRatio)")
        self.patchSize = patchSize
        self.maskRatio = maskRatio
        self.fillValue = fillValue
    }

    public func transform(_ image: Tensor, generator: inout RandomGenerator) -> Tensor {
        maskImage(image, generator: &generator).image
    }

    /// Masked copies of an image `[C, H, W]` or a batch `[N, C, H, W]` (each image its own
    /// patches), and the masks: `[H/p, W/p]` or `[N, H/p, W/p]`.
    public func mask(_ images: Tensor, generator: inout RandomGenerator) -> (images: Tensor, mask: Tensor) {
        if images.rank == 3 {
            let (image, mask) = maskImage(images, generator: &generator)
            return (image, mask)
        }
        precondition(images.rank == 4, "Tessera PatchMasking: expected [C, H, W] or [N, C, H, W], got \(images.shape)")
        var masks: [Tensor] = []
        let masked = mapImages(images) { image in
            let (maskedImage, mask) = maskImage(image, generator: &generator)
            masks.append(mask)
            return maskedImage
        }
        return (masked, masks.isEmpty ? Tensor.zeros([0]) : Tensor.stack(masks))
    }

    private func maskImage(_ image: Tensor, generator: inout RandomGenerator) -> (image: Tensor, mask: Tensor) {
        let (channels, height, width) = imageAxes(image, "PatchMasking")
        precondition(height % patchSize == 0 && width % patchSize == 0,
                     "Tessera PatchMasking: image \(image.shape) is not a whole number of \(patchSize)-pixel patches")
        let gridHeight = height / patchSize, gridWidth = width / patchSize
        let patchCount = gridHeight * gridWidth
        let maskedCount = Int((maskRatio * Float(patchCount)).rounded())
        let mask = Tensor.zeros([gridHeight, gridWidth])
        let output = image.copy()
        for patch in generator.permutation(patchCount).prefix(maskedCount) {
            mask.storage.pointer[patch] = 1
            let top = (patch / gridWidth) * patchSize, left = (patch % gridWidth) * patchSize
            for channel in 0..<channels {
                for row in top..<(top + patchSize) {
                    (output.storage.pointer + (channel * height + row) * width + left).update(repeating: fillValue, count: patchSize)
                }
            }
        }
        return (output, mask)
    }
}
