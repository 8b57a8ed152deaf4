import TesseraTensor

/// Cutout (DeVries & Taylor, "Improved Regularization of Convolutional Neural Networks with
/// Cutout", 2017): sets a `size × size` square at a uniformly random centre to `fill`.
///
/// As in the paper the centre may lie anywhere in the image and the square is clipped at the
/// edges, so a patch near a border hides less than `size²` pixels; the paper found this
/// matters less than the patch size. Every channel is cut at the same place.
public struct Cutout: Augmentation {
    /// Side of the square in pixels.
    public let size: Int
    /// The value the hidden pixels take (0: black, the digits' background).
    public let fill: Float

    public init(size: Int, fill: Float = 0) {
        precondition(size >= 0, "Tessera Cutout: size must be non-negative, got \(size)")
        self.size = size
        self.fill = fill
    }

    public func transform(_ image: Tensor, generator: inout RandomGenerator) -> Tensor {
        let (_, height, width) = imageAxes(image, "Cutout")
        let centerRow = generator.nextInt(below: height), centerColumn = generator.nextInt(below: width)
        return Self.cut(image, centerRow: centerRow, centerColumn: centerColumn, size: size, fill: fill)
    }

    /// A copy of `image` with the square of side `size` around `(centerRow, centerColumn)`
    /// (rows `centerRow − size/2 ..< centerRow − size/2 + size`, clipped) set to `fill`.
    public static func cut(_ image: Tensor, centerRow: Int, centerColumn: Int, size: Int, fill: Float = 0) -> Tensor {
        let (channels, height, width) = imageAxes(image, "Cutout")
        let output = image.copy()
        let top = Swift.max(centerRow - size / 2, 0), bottom = Swift.min(centerRow - size / 2 + size, height)
        let left = Swift.max(centerColumn - size / 2, 0), right = Swift.min(centerColumn - size / 2 + size, width)
        guard top < bottom && left < right else { return output }
        for channel in 0..<channels {
            for row in top..<bottom {
                (output.storage.pointer + (channel * height + row) * width + left).update(repeating: fill, count: right - left)
            }
        }
        return output
    }
}
