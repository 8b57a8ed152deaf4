import Foundation
import TesseraTensor

/// Crops a random region of random area and aspect ratio and resizes it to a fixed size — the
/// "Inception crop" (Szegedy et al., 2015) that torchvision's `RandomResizedCrop` and every
/// joint-embedding method use.
///
/// As torchvision: up to 10 times, draw an area fraction uniformly from `scale` and an aspect
/// ratio log-uniformly from `ratio`; accept the first box that fits in the image, at a uniform
/// position. If none fits, take the largest central box whose ratio is clamped to `ratio`. The
/// box is resized with bilinear interpolation (half-pixel centres, edges replicated).
public struct RandomResizedCrop: Augmentation {
    public let height: Int
    public let width: Int
    /// Range of the crop's area as a fraction of the image's.
    public let scale: ClosedRange<Float>
    /// Range of the crop's width / height.
    public let ratio: ClosedRange<Float>

    public init(height: Int, width: Int, scale: ClosedRange<Float> = 0.08...1, ratio: ClosedRange<Float> = 0.75...(4.0 / 3)) {
        precondition(height > 0 && width > 0, "Tessera RandomResizedCrop: output size must be positive")
        precondition(scale.lowerBound > 0 && ratio.lowerBound > 0, "Tessera RandomResizedCrop: scale and ratio must be positive")
        self.height = height
        self.width = width
        self.scale = scale
        self.ratio = ratio
    }

    public func transform(_ image: Tensor, generator: inout RandomGenerator) -> Tensor {
        let (_, imageHeight, imageWidth) = imageAxes(image, "RandomResizedCrop")
        let box = cropBox(imageHeight: imageHeight, imageWidth: imageWidth, generator: &generator)
        return Self.resizedCrop(image, top: box.top, left: box.left, height: box.height, width: box.width,
                                outputHeight: height, outputWidth: width)
    }

    /// The box torchvision's `get_params` would choose.
    func cropBox(imageHeight: Int, imageWidth: Int, generator: inout RandomGenerator)
        -> (top: Int, left: Int, height: Int, width: Int) {
        let area = Float(imageHeight * imageWidth)
        let logRatio = log(ratio.lowerBound)...log(ratio.upperBound)
        for _ in 0..<10 {
            let targetArea = area * uniform(scale, &generator)
            let aspect = exp(uniform(logRatio, &generator))
            let boxWidth = Int((targetArea * aspect).squareRoot().rounded())
            let boxHeight = Int((targetArea / aspect).squareRoot().rounded())
            if boxWidth > 0 && boxWidth <= imageWidth && boxHeight > 0 && boxHeight <= imageHeight {
                let top = generator.nextInt(below: imageHeight - boxHeight + 1)
                let left = generator.nextInt(below: imageWidth - boxWidth + 1)
                return (top, left, boxHeight, boxWidth)
            }
        }
        let imageRatio = Float(imageWidth) / Float(imageHeight)
        var boxWidth = imageWidth, boxHeight = imageHeight
        if imageRatio < ratio.lowerBound {
            boxHeight = Int((Float(imageWidth) / ratio.lowerBound).rounded())
        } else if imageRatio > ratio.upperBound {
            boxWidth = Int((Float(imageHeight) * ratio.upperBound).rounded())
        }
        return ((imageHeight - boxHeight) / 2, (imageWidth - boxWidth) / 2, boxHeight, boxWidth)
    }

    /// The box `top ..< top + height`, `left ..< left + width` of `image`, resized bilinearly to
    /// `outputHeight × outputWidth` (PyTorch's `align_corners=False` convention).
    public static func resizedCrop(_ image: Tensor, top: Int, left: Int, height: Int, width: Int,
                                   outputHeight: Int, outputWidth: Int) -> Tensor {
        let (channels, imageHeight, imageWidth) = imageAxes(image, "resizedCrop")
        precondition(top >= 0 && left >= 0 && height > 0 && width > 0 && top + height <= imageHeight && left + width <= imageWidth,
                     "Tessera resizedCrop: box (\(top), \(left), \(height), \(width)) is not inside \(image.shape)")
        let output = Tensor.zeros([channels, outputHeight, outputWidth])
        let rows = sourceTaps(outputCount: outputHeight, regionCount: height)
        let columns = sourceTaps(outputCount: outputWidth, regionCount: width)
        for channel in 0..<channels {
            let plane = image.storage.pointer + channel * imageHeight * imageWidth + top * imageWidth + left
            let out = output.storage.pointer + channel * outputHeight * outputWidth
            for (y, row) in rows.enumerated() {
                let upper = plane + row.low * imageWidth, lower = plane + row.high * imageWidth
                for (x, column) in columns.enumerated() {
                    let top = upper[column.low] + column.weight * (upper[column.high] - upper[column.low])
                    let bottom = lower[column.low] + column.weight * (lower[column.high] - lower[column.low])
                    out[y * outputWidth + x] = top + row.weight * (bottom - top)
                }
            }
        }
        return output
    }

    /// For each output index: the two source indices to blend and the weight of the second.
    private static func sourceTaps(outputCount: Int, regionCount: Int) -> [(low: Int, high: Int, weight: Float)] {
        let step = Float(regionCount) / Float(outputCount)
        return (0..<outputCount).map { index in
            let source = Swift.min(Swift.max((Float(index) + 0.5) * step - 0.5, 0), Float(regionCount - 1))
            let low = Int(source)
            return (low, Swift.min(low + 1, regionCount - 1), source - Float(low))
        }
    }
}

/// Mirrors the image left–right with probability `probability`.
public struct RandomHorizontalFlip: Augmentation {
    public let probability: Float

    public init(probability: Float = 0.5) { self.probability = probability }

    public func transform(_ image: Tensor, generator: inout RandomGenerator) -> Tensor {
        generator.nextUniform() < probability ? Self.flip(image) : image.copy()
    }

    /// The image mirrored left–right (last axis reversed).
    public static func flip(_ image: Tensor) -> Tensor {
        let (channels, height, width) = imageAxes(image, "horizontal flip")
        let output = Tensor.zeros(image.shape)
        for row in 0..<(channels * height) {
            let source = image.storage.pointer + row * width, target = output.storage.pointer + row * width
            for column in 0..<width { target[column] = source[width - 1 - column] }
        }
        return output
    }
}

/// Rotates the image about its centre by an angle drawn uniformly from `degrees`
/// (positive = counter-clockwise, as torchvision), sampling bilinearly; pixels that come from
/// outside the image are `fill`.
public struct RandomRotation: Augmentation {
    public let degrees: ClosedRange<Float>
    public let fill: Float

    public init(degrees: ClosedRange<Float>, fill: Float = 0) {
        self.degrees = degrees
        self.fill = fill
    }

    public func transform(_ image: Tensor, generator: inout RandomGenerator) -> Tensor {
        Self.rotate(image, degrees: uniform(degrees, &generator), fill: fill)
    }

    /// The image rotated counter-clockwise by `degrees` about the centre `((H−1)/2, (W−1)/2)`.
    ///
    /// Each output pixel at offset `(u, v)` from the centre (v down) reads the input at
    /// `(u cos θ − v sin θ, u sin θ + v cos θ)`, the inverse rotation; the four neighbours of
    /// that point are blended, and neighbours outside the image count as `fill`.
    public static func rotate(_ image: Tensor, degrees: Float, fill: Float = 0) -> Tensor {
        let (channels, height, width) = imageAxes(image, "rotate")
        let angle = degrees * Float.pi / 180
        let cosine = cos(angle), sine = sin(angle)
        let centerX = Float(width - 1) / 2, centerY = Float(height - 1) / 2
        let output = Tensor.zeros(image.shape)
        for channel in 0..<channels {
            let plane = image.storage.pointer + channel * height * width
            let out = output.storage.pointer + channel * height * width
            func pixel(_ row: Int, _ column: Int) -> Float {
                row >= 0 && row < height && column >= 0 && column < width ? plane[row * width + column] : fill
            }
            for y in 0..<height {
                for x in 0..<width {
                    let u = Float(x) - centerX, v = Float(y) - centerY
                    let sourceX = centerX + u * cosine - v * sine
                    let sourceY = centerY + u * sine + v * cosine
                    let x0 = Int(sourceX.rounded(.down)), y0 = Int(sourceY.rounded(.down))
                    let wx = sourceX - Float(x0), wy = sourceY - Float(y0)
                    let top = pixel(y0, x0) * (1 - wx) + pixel(y0, x0 + 1) * wx
                    let bottom = pixel(y0 + 1, x0) * (1 - wx) + pixel(y0 + 1, x0 + 1) * wx
                    out[y * width + x] = top * (1 - wy) + bottom * wy
                }
            }
        }
        return output
    }
}
