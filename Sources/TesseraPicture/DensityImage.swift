import Foundation

/// A scalar field on a grid — a generative model's density or log-density over the plane, a
/// value function over states — drawn through viridis, a perceptual colormap whose luminance
/// rises steadily from the lowest value (dark purple) to the highest (yellow), so equal steps in
/// value read as equal steps in brightness, also in greyscale print. Points (samples of the
/// model, training data) can be drawn on top.
///
/// `values` are row-major with row 0 drawn at the top, as in an image; ``extent`` gives the data
/// coordinates the grid covers, y growing upwards, so overlay points are given in the same
/// coordinates as the field:
///
/// ```swift
/// // p(x, y) on [-3, 3]², 60 × 60 cells: row r is y = 3 - (r + 0.5) · 0.1.
/// var image = DensityImage(values: density, width: 60, height: 60)
/// image.extent = (x: -3...3, y: -3...3)
/// image.overlay = samples.map { (x: $0.x, y: $0.y) }
/// try image.render().writePNG(to: url)
/// ```
public struct DensityImage {
    public var values: [Float]
    public var width: Int
    public var height: Int
    /// The data coordinates of the grid's left/right and bottom/top edges; default: cell units.
    public var extent: (x: ClosedRange<Double>, y: ClosedRange<Double>)
    /// The values drawn as the colormap's ends (clamped beyond); nil: the finite minimum and maximum.
    public var range: ClosedRange<Float>?
    /// Screen pixels per grid cell, each way.
    public var scale = 4
    /// Points in ``extent``'s coordinates; non-finite ones are skipped.
    public var overlay: [(x: Double, y: Double)] = []
    public var overlayColor: (UInt8, UInt8, UInt8) = (255, 255, 255)
    public var overlayRadius = 1

    public init(values: [Float], width: Int, height: Int) {
        precondition(width >= 0 && height >= 0 && values.count == width * height,
                     "DensityImage: \(values.count) values for \(width) × \(height)")
        self.values = values
        self.width = width
        self.height = height
        extent = (x: 0...Double(max(width, 1)), y: 0...Double(max(height, 1)))
    }

    /// Viridis (matplotlib's default colormap, van der Walt and Smith, 2015) at nine evenly spaced
    /// stops; between them the colour is interpolated linearly, which keeps luminance increasing.
    static let viridisStops: [(Double, Double, Double)] = [
        (68, 1, 84), (72, 40, 120), (59, 82, 139), (44, 114, 142), (33, 145, 140),
        (40, 174, 128), (94, 201, 98), (173, 220, 48), (253, 231, 37),
    ]

    /// The colormap at `fraction` in [0, 1] (clamped; NaN gives the lowest colour).
    public static func viridis(_ fraction: Double) -> (UInt8, UInt8, UInt8) {
        let position = (fraction.isNaN ? 0 : min(max(fraction, 0), 1)) * Double(viridisStops.count - 1)
        let index = min(Int(position), viridisStops.count - 2)
        let (a, b, weight) = (viridisStops[index], viridisStops[index + 1], position - Double(index))
        func mix(_ low: Double, _ high: Double) -> UInt8 { UInt8((low + (high - low) * weight).rounded()) }
        return (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }

    /// The colour of one value: −∞ and +∞ take the ends (a log-density of 0 is −∞), NaN is magenta.
    func color(of value: Float, low: Float, high: Float) -> (UInt8, UInt8, UInt8) {
        if value.isNaN { return (255, 0, 255) }
        return Self.viridis(high > low ? Double((value - low) / (high - low)) : 0.5)
    }

    /// The pixel of data point (x, y), or nil when it is not finite or maps far outside the image.
    func pixel(_ x: Double, _ y: Double) -> (x: Int, y: Int)? {
        let fractionX = (x - extent.x.lowerBound) / (extent.x.upperBound - extent.x.lowerBound)
        let fractionY = (extent.y.upperBound - y) / (extent.y.upperBound - extent.y.lowerBound)
        guard fractionX.isFinite, fractionY.isFinite, (-1...2).contains(fractionX), (-1...2).contains(fractionY) else { return nil }
        return (Int((fractionX * Double(width * scale)).rounded(.down)), Int((fractionY * Double(height * scale)).rounded(.down)))
    }

    public func render() -> RGBImage {
        let finite = values.filter(\.isFinite)
        let low = range?.lowerBound ?? finite.min() ?? 0, high = range?.upperBound ?? finite.max() ?? 1
        var image = RGBImage(width: width * scale, height: height * scale)
        for row in 0..<height {
            for column in 0..<width {
                image.fill(x: column * scale, y: row * scale, width: scale, height: scale,
                           color: color(of: values[row * width + column], low: low, high: high))
            }
        }
        for point in overlay {
            guard let (x, y) = pixel(point.x, point.y) else { continue }
            image.fillCircle(x: x, y: y, radius: overlayRadius, color: overlayColor)
        }
        return image
    }
}
