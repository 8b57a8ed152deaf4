import Foundation

/// The diverging colour scale of relevance heatmaps (the `bwr` map of the LRP literature): white at
/// zero, red for positive relevance (evidence for the explained output), blue for negative
/// (evidence against), saturated at ±`peak`. Non-finite values are drawn magenta, as elsewhere.
public enum RelevanceColors {
    public static func color(_ value: Float, peak: Float) -> (UInt8, UInt8, UInt8) {
        guard value.isFinite else { return (255, 0, 255) }
        let t = peak > 0 ? Double(min(max(value / peak, -1), 1)) : 0
        let fade = UInt8((255 * (1 - abs(t))).rounded())
        return t >= 0 ? (255, fade, fade) : (fade, fade, 255)
    }

    /// The largest finite |value|: the scale's symmetric saturation point (1 if all are zero).
    public static func peak(of values: [Float]) -> Float {
        let largest = values.lazy.filter(\.isFinite).map(abs).max() ?? 0
        return largest > 0 ? largest : 1
    }
}

/// An input image beside its relevance heatmap, with a title line above: what `tessera explain`
/// writes for image classifiers.
///
/// ```swift
/// let map = RelevanceMap(title: "class 3, lrp", input: pixels, relevance: r, width: 8, height: 8)
/// try map.render().writePNG(to: url)
/// ```
public struct RelevanceMap {
    public var title: String
    /// Row-major grayscale pixels of the input, scaled to [0, 1] by their own range for display.
    public var input: [Float]
    /// Row-major relevance of each pixel (summed over channels by the caller).
    public var relevance: [Float]
    public var width: Int
    public var height: Int
    /// Screen pixels per image pixel, each way.
    public var scale = 16

    public init(title: String, input: [Float], relevance: [Float], width: Int, height: Int) {
        precondition(input.count == width * height && relevance.count == width * height,
                     "RelevanceMap: \(input.count) input and \(relevance.count) relevance values for \(width) × \(height)")
        self.title = title
        self.input = input
        self.relevance = relevance
        self.width = width
        self.height = height
    }

    static let margin = 8
    static let titleHeight = 14

    /// The top-left screen pixel of the heatmap panel (the input panel is to its left).
    public var heatmapOrigin: (x: Int, y: Int) { (2 * Self.margin + width * scale, Self.margin + Self.titleHeight) }

    public func render() -> RGBImage {
        let margin = Self.margin, top = margin + Self.titleHeight
        var image = RGBImage(width: 3 * margin + 2 * width * scale, height: top + height * scale + margin)
        image.draw(text: title, x: margin, y: margin, color: (0, 0, 0))
        let finite = input.filter(\.isFinite)
        let (low, high) = (finite.min() ?? 0, finite.max() ?? 1)
        let peak = RelevanceColors.peak(of: relevance)
        for y in 0..<height {
            for x in 0..<width {
                let value = input[y * width + x]
                let gray = value.isFinite ? UInt8((255 * Double(high > low ? (value - low) / (high - low) : 0)).rounded()) : 0
                image.fill(x: margin + x * scale, y: top + y * scale, width: scale, height: scale, color: (gray, gray, gray))
                image.fill(x: heatmapOrigin.x + x * scale, y: top + y * scale, width: scale, height: scale,
                           color: RelevanceColors.color(relevance[y * width + x], peak: peak))
            }
        }
        return image
    }
}

/// A sequence's tokens in a row of boxes, each filled with its relevance's colour: the token
/// heatmap of a sequence classifier's explanation.
public struct TokenRelevanceStrip {
    public var title: String
    public var tokens: [String]
    public var relevance: [Float]
    /// Boxes per line before wrapping.
    public var tokensPerLine = 16

    public init(title: String, tokens: [String], relevance: [Float]) {
        precondition(tokens.count == relevance.count, "TokenRelevanceStrip: \(tokens.count) tokens and \(relevance.count) relevances")
        self.title = title
        self.tokens = tokens
        self.relevance = relevance
    }

    static let margin = 8
    static let titleHeight = 14
    static let boxHeight = 20
    static let padding = 3

    /// Every box is as wide as the longest token's text.
    var boxWidth: Int { max(tokens.map(\.count).max() ?? 1, 1) * (BitmapFont.width + 1) + 2 * Self.padding }

    /// The top-left screen pixel of token `index`'s box.
    public func origin(ofToken index: Int) -> (x: Int, y: Int) {
        (Self.margin + (index % tokensPerLine) * (boxWidth + 2),
         Self.margin + Self.titleHeight + (index / tokensPerLine) * (Self.boxHeight + 2))
    }

    public func render() -> RGBImage {
        let lines = max((tokens.count + tokensPerLine - 1) / tokensPerLine, 1)
        let columns = min(max(tokens.count, 1), tokensPerLine)
        var image = RGBImage(width: 2 * Self.margin + columns * (boxWidth + 2),
                             height: 2 * Self.margin + Self.titleHeight + lines * (Self.boxHeight + 2))
        image.draw(text: title, x: Self.margin, y: Self.margin, color: (0, 0, 0))
        let peak = RelevanceColors.peak(of: relevance)
        for (index, token) in tokens.enumerated() {
            let (x, y) = origin(ofToken: index)
            image.fill(x: x, y: y, width: boxWidth, height: Self.boxHeight, color: RelevanceColors.color(relevance[index], peak: peak))
            image.draw(text: token, x: x + Self.padding, y: y + (Self.boxHeight - BitmapFont.height) / 2, color: (0, 0, 0))
        }
        return image
    }
}
