import Foundation
import TesseraTensor

/// Image–caption pairs with no download, for CLIP-style training (Radford et al., "Learning
/// Transferable Visual Models From Natural Language Supervision", ICML 2021): each image is one
/// shape of ``SyntheticShapes`` in a colour of ``ColoredShapes/palette`` on a background of another
/// colour, and its caption says what a viewer can see — "a small red circle at the top left".
///
/// Every image draws its attributes uniformly: the shape, the shape's colour (the background is
/// one of the other seven, and the caption leaves it out), its size (small: half size 2; large:
/// `canvasSize / 4` or one more) and its quadrant (the centre lies at least one pixel clear of the
/// middle lines, so "top" and "left" are never a matter of one pixel). The caption fills a template
/// whose words all come from the fixed ``vocabulary``; a template (or any caption passed to
/// ``tokens(of:)``) with another word is an error that names the word and the caption.
///
/// ```swift
/// var rng = RandomGenerator(seed: 3)
/// let set = try CaptionedShapes.make(count: 512, generator: &rng)
/// set.captions[0]       // "a large cyan cross at the bottom right"
/// set.tokens.shape      // [512, 8]: word ids into CaptionedShapes.vocabulary
/// ```
public enum CaptionedShapes {
    /// The words of ``SyntheticShapes/Shape``'s cases, in their order.
    public static let shapeWords = ["square", "circle", "cross"]
    public static let sizeWords = ["small", "large"]
    /// `{position}` is "top left", "top right", "bottom left" or "bottom right".
    public static let verticalWords = ["top", "bottom"]
    public static let horizontalWords = ["left", "right"]
    /// A few words to phrase a template with, beside the attributes' words.
    public static let fillerWords = ["a", "an", "at", "in", "of", "on", "the", "photo", "picture", "shape"]
    /// Every word a caption may use; a word's id is its position here.
    public static let vocabulary: [String] = fillerWords + sizeWords + ColoredShapes.palette.map(\.name) + shapeWords
        + verticalWords + horizontalWords
    /// The template of the captions the recipes train on.
    public static let defaultTemplate = "a {size} {color} {shape} at the {position}"
    /// The placeholders a template may use.
    public static let placeholders = ["{size}", "{color}", "{shape}", "{position}"]

    private static let wordIDs: [String: Int] = Dictionary(uniqueKeysWithValues: vocabulary.enumerated().map { ($1, $0) })

    /// What one image shows, and so what its caption says.
    public struct Attributes: Hashable, Sendable {
        public var shape: SyntheticShapes.Shape
        /// Index into ``ColoredShapes/palette``.
        public var color: Int
        public var isLarge: Bool
        public var isTop: Bool
        public var isLeft: Bool

        public init(shape: SyntheticShapes.Shape, color: Int, isLarge: Bool, isTop: Bool, isLeft: Bool) {
            self.shape = shape
            self.color = color
            self.isLarge = isLarge
            self.isTop = isTop
            self.isLeft = isLeft
        }

        /// Every combination, shapes slowest, then colours, sizes and quadrants (3 · 8 · 2 · 4 = 192).
        public static let all: [Attributes] = SyntheticShapes.Shape.allCases.flatMap { shape in
            ColoredShapes.palette.indices.flatMap { color in
                [false, true].flatMap { isLarge in
                    [true, false].flatMap { isTop in
                        [true, false].map { isLeft in Attributes(shape: shape, color: color, isLarge: isLarge, isTop: isTop, isLeft: isLeft) }
                    }
                }
            }
        }
    }

    /// A generated set.
    public struct Pairs {
        /// Inputs `[count, 3, canvasSize, canvasSize]` in `[0, 1]` (RGB), labels `[count]` the shape.
        public let images: TensorDataset
        /// Each caption's word ids, `[count, wordsPerCaption]` (every caption of a template has as many words).
        public let tokens: Tensor
        public let captions: [String]
        public let attributes: [Attributes]
        /// Index into ``ColoredShapes/palette`` of each image's background.
        public let backgroundColors: [Int]

        public var count: Int { captions.count }

        /// The pairs at `range`, in order (a train/test split: the pairs are drawn independently).
        public func slice(_ range: Range<Int>) -> Pairs {
            let (start, end) = (range.lowerBound, range.upperBound)
            return Pairs(images: TensorDataset(inputs: images.inputs.slice(alongAxis: 0, start: start, end: end),
                                               labels: images.labels.slice(alongAxis: 0, start: start, end: end)),
                         tokens: tokens.slice(alongAxis: 0, start: start, end: end), captions: Array(captions[range]),
                         attributes: Array(attributes[range]), backgroundColors: Array(backgroundColors[range]))
        }
    }

    /// `template` with its placeholders filled from `attributes`.
    public static func caption(_ attributes: Attributes, template: String = defaultTemplate) -> String {
        template
            .replacingOccurrences(of: "{size}", with: sizeWords[attributes.isLarge ? 1 : 0])
            .replacingOccurrences(of: "{color}", with: ColoredShapes.palette[attributes.color].name)
            .replacingOccurrences(of: "{shape}", with: shapeWords[attributes.shape.rawValue])
            .replacingOccurrences(of: "{position}", with: "\(verticalWords[attributes.isTop ? 0 : 1]) \(horizontalWords[attributes.isLeft ? 0 : 1])")
    }

    /// The word ids of `caption` (words split at spaces). Throws for a word outside ``vocabulary``,
    /// naming the word and the caption.
    public static func tokens(of caption: String) throws -> [Int] {
        try caption.split(separator: " ").map { word in
            guard let id = wordIDs[String(word)] else {
                throw DataError(.invalidArgument, file: "caption \"\(caption)\"",
                                reason: "the token \"\(word)\" is not in the vocabulary of \(vocabulary.count) words (\(vocabulary.joined(separator: ", ")))")
            }
            return id
        }
    }

    /// Throws unless every caption `template` makes is tokenised to the same positive number of
    /// words (returned): an unknown word names itself and the caption.
    @discardableResult
    public static func validate(template: String) throws -> Int {
        let lengths = try Set(Attributes.all.map { try tokens(of: caption($0, template: template)).count })
        guard lengths.count == 1, let length = lengths.first, length > 0 else {
            throw DataError(.invalidArgument, file: "caption template \"\(template)\"", reason: "makes captions of \(lengths.sorted()) words; it needs at least one word")
        }
        return length
    }

    /// `count` pairs on a `canvasSize × canvasSize` canvas (at least 12, so a large shape fits in a
    /// quadrant), their captions filled from `template`.
    public static func make(count: Int, canvasSize: Int = 16, template: String = defaultTemplate,
                            generator: inout RandomGenerator) throws -> Pairs {
        guard canvasSize >= 12 else {
            throw DataError(.invalidArgument, file: "CaptionedShapes", reason: "canvasSize must be at least 12 (a large shape must fit in a quadrant), got \(canvasSize)")
        }
        let length = try validate(template: template)
        let planeSize = canvasSize * canvasSize, middle = canvasSize / 2
        let images = Tensor.zeros([count, 3, canvasSize, canvasSize])
        var attributes: [Attributes] = [], backgrounds: [Int] = [], captions: [String] = [], tokens: [Float] = []
        for index in 0..<count {
            let shape = SyntheticShapes.Shape(rawValue: generator.nextInt(below: SyntheticShapes.Shape.allCases.count))!
            let color = generator.nextInt(below: ColoredShapes.palette.count)
            let background = (color + 1 + generator.nextInt(below: ColoredShapes.palette.count - 1)) % ColoredShapes.palette.count
            let isLarge = generator.nextInt(below: 2) == 1, isTop = generator.nextInt(below: 2) == 1
            let isLeft = generator.nextInt(below: 2) == 1
            let halfSize = isLarge ? canvasSize / 4 + generator.nextInt(below: 2) : 2
            // Top (left) centres lie in halfSize ... middle − 2, bottom (right) ones in middle + 1 ... canvasSize − 1 − halfSize.
            func centre(_ isLow: Bool) -> Int {
                isLow ? halfSize + generator.nextInt(below: middle - 1 - halfSize)
                      : middle + 1 + generator.nextInt(below: canvasSize - 1 - halfSize - middle)
            }
            let centerRow = centre(isTop), centerColumn = centre(isLeft)
            let shapeColor = ColoredShapes.palette[color], backgroundColor = ColoredShapes.palette[background]
            let shapeLevels = [shapeColor.red, shapeColor.green, shapeColor.blue]
            let backgroundLevels = [backgroundColor.red, backgroundColor.green, backgroundColor.blue]
            for channel in 0..<3 {
                let plane = images.storage.pointer + (index * 3 + channel) * planeSize
                plane.update(repeating: backgroundLevels[channel], count: planeSize)
                SyntheticShapes.draw(shape, into: plane, canvasSize: canvasSize, centerRow: centerRow, centerColumn: centerColumn,
                                     halfSize: halfSize, intensity: shapeLevels[channel])
            }
            let described = Attributes(shape: shape, color: color, isLarge: isLarge, isTop: isTop, isLeft: isLeft)
            let text = caption(described, template: template)
            attributes.append(described)
            backgrounds.append(background)
            captions.append(text)
            tokens += try Self.tokens(of: text).map(Float.init)
        }
        let labels = Tensor(attributes.map { Float($0.shape.rawValue) })
        return Pairs(images: TensorDataset(inputs: images, labels: labels), tokens: Tensor(shape: [count, length], scalars: tokens),
                     captions: captions, attributes: attributes, backgroundColors: backgrounds)
    }
}
