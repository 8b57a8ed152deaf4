import Foundation
import TesseraTensor

/// Random brightness and contrast changes for images with values in `[0, 1]` (torchvision's
/// `ColorJitter` without hue and saturation, which grey images do not have).
///
/// Brightness multiplies every pixel by a factor uniform in `[max(0, 1 − brightness), 1 + brightness]`;
/// contrast then blends each pixel with the image's mean grey level by a factor drawn the same
/// way (the grey level of three channels uses the ITU-R 601 luma weights 0.299, 0.587, 0.114, as
/// torchvision; otherwise the plain mean). The result is clamped to `[0, 1]`.
public struct ColorJitter: Augmentation {
    public let brightness: Float
    public let contrast: Float

    public init(brightness: Float = 0.4, contrast: Float = 0.4) {
        precondition(brightness >= 0 && contrast >= 0, "Tessera ColorJitter: strengths must be non-negative")
        self.brightness = brightness
        self.contrast = contrast
    }

    public func transform(_ image: Tensor, generator: inout RandomGenerator) -> Tensor {
        let (channels, height, width) = imageAxes(image, "ColorJitter")
        let brightnessFactor = uniform(Swift.max(0, 1 - brightness)...(1 + brightness), &generator)
        let contrastFactor = uniform(Swift.max(0, 1 - contrast)...(1 + contrast), &generator)
        let output = image.copy()
        let pixels = output.storage.pointer, planeSize = height * width
        for index in 0..<output.count { pixels[index] = Swift.min(Swift.max(pixels[index] * brightnessFactor, 0), 1) }
        let weights: [Float] = channels == 3 ? [0.299, 0.587, 0.114] : Array(repeating: 1 / Float(channels), count: channels)
        var meanGrey: Float = 0
        for channel in 0..<channels {
            var sum: Float = 0
            for index in 0..<planeSize { sum += pixels[channel * planeSize + index] }
            meanGrey += weights[channel] * sum / Float(Swift.max(planeSize, 1))
        }
        for index in 0..<output.count {
            pixels[index] = Swift.min(Swift.max(meanGrey + contrastFactor * (pixels[index] - meanGrey), 0), 1)
        }
        return output
    }
}

/// Adds independent Gaussian noise of standard deviation `standardDeviation` to every pixel.
public struct GaussianNoise: Augmentation {
    public let standardDeviation: Float

    public init(standardDeviation: Float) { self.standardDeviation = standardDeviation }

    public func transform(_ image: Tensor, generator: inout RandomGenerator) -> Tensor {
        _ = imageAxes(image, "GaussianNoise")
        return image + Tensor.randomNormal(image.shape, standardDeviation: standardDeviation, generator: &generator)
    }
}

/// Blurs with a Gaussian of standard deviation drawn uniformly from `sigma` (SimCLR and BYOL use
/// 0.1…2.0 on 224-pixel images), as two 1-D passes (rows, then columns): `2k` multiplies per
/// pixel instead of `k²`. The kernel spans `kernelSize` taps, by default `2⌈3σ⌉ + 1` (±3σ holds
/// 99.7% of the mass); taps are normalised to sum to 1 and the edges are replicated, so a
/// constant image stays constant.
public struct GaussianBlur: Augmentation {
    public let sigma: ClosedRange<Float>
    public let kernelSize: Int?

    public init(sigma: ClosedRange<Float> = 0.1...2.0, kernelSize: Int? = nil) {
        precondition(sigma.lowerBound > 0, "Tessera GaussianBlur: sigma must be positive")
        precondition(kernelSize.map { $0 > 0 && $0 % 2 == 1 } ?? true, "Tessera GaussianBlur: kernelSize must be odd and positive")
        self.sigma = sigma
        self.kernelSize = kernelSize
    }

    public func transform(_ image: Tensor, generator: inout RandomGenerator) -> Tensor {
        Self.blur(image, sigma: uniform(sigma, &generator), kernelSize: kernelSize)
    }

    /// The image blurred by a Gaussian of standard deviation `sigma`.
    public static func blur(_ image: Tensor, sigma: Float, kernelSize: Int? = nil) -> Tensor {
        let (channels, height, width) = imageAxes(image, "GaussianBlur")
        let radius = ((kernelSize ?? 2 * Int((3 * sigma).rounded(.up)) + 1) - 1) / 2
        var taps = (-radius...radius).map { exp(-Float($0 * $0) / (2 * sigma * sigma)) }
        let total = taps.reduce(0, +)
        taps = taps.map { $0 / total }

        let horizontal = Tensor.zeros(image.shape), output = Tensor.zeros(image.shape)
        for channel in 0..<channels {
            let offset = channel * height * width
            let source = image.storage.pointer + offset
            let middle = horizontal.storage.pointer + offset, target = output.storage.pointer + offset
            for y in 0..<height {
                for x in 0..<width {
                    var sum: Float = 0
                    for (tap, weight) in taps.enumerated() {
                        let column = Swift.min(Swift.max(x + tap - radius, 0), width - 1)
                        sum += weight * source[y * width + column]
                    }
                    middle[y * width + x] = sum
                }
            }
            for y in 0..<height {
                for x in 0..<width {
                    var sum: Float = 0
                    for (tap, weight) in taps.enumerated() {
                        let row = Swift.min(Swift.max(y + tap - radius, 0), height - 1)
                        sum += weight * middle[row * width + x]
                    }
                    target[y * width + x] = sum
                }
            }
        }
        return output
    }
}
