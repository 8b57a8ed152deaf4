import TesseraTensor

/// A random image transformation for data augmentation, drawing its parameters from an
/// explicit generator so that the same generator state gives the same views on every run.
///
/// Conformers implement `transform` on one image `[C, H, W]`; calling the augmentation also
/// accepts a batch `[N, C, H, W]`, where each image draws its own parameters, in order. Outputs
/// are new tensors that record no gradients: augmentation happens before the model.
///
/// ```swift
/// let augment = Compose([
///     RandomResizedCrop(height: 8, width: 8, scale: 0.5...1),
///     RandomHorizontalFlip(),
///     RandomApply(ColorJitter(brightness: 0.4, contrast: 0.4), probability: 0.8),
/// ])
/// let (viewA, viewB) = TwoViews(augment)(batch.inputs, generator: &rng)   // SimCLR pairs
/// ```
public protocol Augmentation {
    /// The augmented copy of one image `[C, H, W]`.
    func transform(_ image: Tensor, generator: inout RandomGenerator) -> Tensor
}

extension Augmentation {
    /// Augments one image `[C, H, W]` or each image of a batch `[N, C, H, W]`.
    public func callAsFunction(_ images: Tensor, generator: inout RandomGenerator) -> Tensor {
        if images.rank == 3 { return transform(images, generator: &generator) }
        precondition(images.rank == 4, "Tessera augmentation: expected [C, H, W] or [N, C, H, W], got \(images.shape)")
        return mapImages(images) { transform($0, generator: &generator) }
    }
}

/// Applies `body` to each image of a batch `[N, C, H, W]` and stacks the results (which must
/// all have one shape) into one new tensor.
func mapImages(_ images: Tensor, _ body: (Tensor) -> Tensor) -> Tensor {
    let count = images.shape[0]
    let imageShape = Array(images.shape.dropFirst())
    let imageSize = imageShape.reduce(1, *)
    var output: Tensor?
    for index in 0..<count {
        let image = Tensor.zeros(imageShape)
        image.storage.pointer.update(from: images.storage.pointer + index * imageSize, count: imageSize)
        let result = body(image)
        if output == nil { output = Tensor.zeros([count] + result.shape) }
        precondition(Array(output!.shape.dropFirst()) == result.shape,
                     "Tessera augmentation: images of one batch came out in different shapes")
        (output!.storage.pointer + index * result.count).update(from: result.storage.pointer, count: result.count)
    }
    return output ?? Tensor.zeros(images.shape)
}

/// The axes of one image `[C, H, W]`, checked.
func imageAxes(_ image: Tensor, _ op: String) -> (channels: Int, height: Int, width: Int) {
    precondition(image.rank == 3, "Tessera \(op): expected an image [C, H, W], got shape \(image.shape)")
    return (image.shape[0], image.shape[1], image.shape[2])
}

/// A uniform draw from `range`.
func uniform(_ range: ClosedRange<Float>, _ generator: inout RandomGenerator) -> Float {
    range.lowerBound + (range.upperBound - range.lowerBound) * generator.nextUniform()
}

// MARK: - Combinators

/// Several augmentations applied one after another.
public struct Compose: Augmentation {
    public let steps: [any Augmentation]

    public init(_ steps: [any Augmentation]) { self.steps = steps }

    public func transform(_ image: Tensor, generator: inout RandomGenerator) -> Tensor {
        steps.reduce(image) { current, step in step.transform(current, generator: &generator) }
    }
}

/// An augmentation applied with probability `probability`, else the image unchanged (a copy).
/// SimCLR (Chen et al., 2020) applies colour jitter with probability 0.8 this way.
public struct RandomApply: Augmentation {
    public let augmentation: any Augmentation
    public let probability: Float

    public init(_ augmentation: any Augmentation, probability: Float) {
        self.augmentation = augmentation
        self.probability = probability
    }

    public func transform(_ image: Tensor, generator: inout RandomGenerator) -> Tensor {
        generator.nextUniform() < probability ? augmentation.transform(image, generator: &generator) : image.copy()
    }
}

/// Two independently augmented views of the same images, as the joint-embedding methods need:
/// SimCLR (Chen et al., 2020) and BYOL (Grill et al., 2020) pull the two views' embeddings
/// together; DINO (Caron et al., 2021) uses them as teacher and student crops. BYOL uses a
/// different pipeline per view (blur always in one, rarely in the other), hence two slots.
public struct TwoViews {
    public let first: any Augmentation
    public let second: any Augmentation

    public init(first: any Augmentation, second: any Augmentation) {
        self.first = first
        self.second = second
    }

    /// The same pipeline for both views.
    public init(_ both: any Augmentation) {
        self.init(first: both, second: both)
    }

    /// `(first view, second view)` of an image or batch; the first view is drawn entirely
    /// before the second.
    public func callAsFunction(_ images: Tensor, generator: inout RandomGenerator) -> (Tensor, Tensor) {
        let viewA = first(images, generator: &generator)
        let viewB = second(images, generator: &generator)
        return (viewA, viewB)
    }
}
