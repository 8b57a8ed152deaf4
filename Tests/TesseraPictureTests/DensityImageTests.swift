import Foundation
import Testing

@testable import TesseraPicture

@Suite struct DensityImageTests {
    /// Relative luminance of an sRGB colour (WCAG 2.x / IEC 61966-2-1).
    private func luminance(_ color: (UInt8, UInt8, UInt8)) -> Double {
        func linear(_ channel: UInt8) -> Double {
            let c = Double(channel) / 255
            return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4)
        }
        return 0.2126 * linear(color.0) + 0.7152 * linear(color.1) + 0.0722 * linear(color.2)
    }

    @Test func theColormapIsStrictlyMonotoneInLuminance() {
        // 128 samples: finer steps than that differ by less than one byte per channel.
        let samples = (0..<128).map { luminance(DensityImage.viridis(Double($0) / 127)) }
        for (index, (a, b)) in zip(samples, samples.dropFirst()).enumerated() {
            #expect(b > a, "luminance falls between samples \(index) and \(index + 1)")
        }
        #expect(samples.last! - samples.first! > 0.7)
        #expect(DensityImage.viridis(-1) == DensityImage.viridis(0) && DensityImage.viridis(2) == DensityImage.viridis(1))
    }

    @Test func theLowestAndHighestValuesTakeTheColormapsEndsWithRowZeroAtTheTop() {
        // 3 × 2 field: top row 0, 1, 2; bottom row 3, 4, 5.
        var density = DensityImage(values: [0, 1, 2, 3, 4, 5], width: 3, height: 2)
        density.scale = 2
        let image = density.render()
        #expect(image.width == 6 && image.height == 4)
        #expect(image.get(0, 0) == DensityImage.viridis(0) && image.get(1, 1) == DensityImage.viridis(0))
        #expect(image.get(5, 3) == DensityImage.viridis(1))
        #expect(image.get(2, 2) == DensityImage.viridis(0.8))
        density.range = 0...10
        #expect(density.render().get(5, 3) == DensityImage.viridis(0.5))
    }

    @Test func infinitiesTakeTheEndsAndNaNIsMagenta() {
        let image = DensityImage(values: [-.infinity, 0, 1, .infinity, .nan, 0.5], width: 6, height: 1).render()
        #expect(image.get(0, 0) == DensityImage.viridis(0) && image.get(4 * 3, 0) == DensityImage.viridis(1))
        #expect(image.get(4 * 4, 0) == (255, 0, 255))
        #expect(image.get(4 * 5, 0) == DensityImage.viridis(0.5))
        let constant = DensityImage(values: [2, 2, 2, 2], width: 2, height: 2).render()
        #expect(constant.get(0, 0) == DensityImage.viridis(0.5))
    }

    @Test func overlayPointsLandWhereTheirDataCoordinatesAreInTheExtent() {
        var density = DensityImage(values: [Float](repeating: 0, count: 100), width: 10, height: 10)
        density.extent = (x: -3...3, y: -3...3)
        density.scale = 5
        density.overlay = [(x: -1.5, y: 1.5), (x: .nan, y: 0), (x: 1e300, y: 0)]
        let image = density.render()
        // (−1.5, 1.5) is a quarter of the way from the left and from the top of a 50 × 50 image.
        #expect(image.get(12, 12) == (255, 255, 255))
        #expect(image.get(37, 37) == DensityImage.viridis(0.5), "the mirrored position stays clear")
        let white = stride(from: 0, to: image.pixels.count, by: 3).filter { image.pixels[$0] == 255 && image.pixels[$0 + 1] == 255 }
        #expect(white.count == 9, "one 3 × 3 dot (radius 1); the non-finite and far-away points are skipped")
    }
}
