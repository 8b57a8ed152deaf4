import TesseraTensor

/// Small colour images of one filled shape each (a square, a disc or a cross, drawn as in
/// ``SyntheticShapes``) in one colour of a fixed palette on a background of another: inputs
/// `[count, 3, canvasSize, canvasSize]` in `[0, 1]` (RGB), labels `[count]` the shape.
///
/// A coloured image set with no download, for colorization (Zhang et al., "Colorful Image
/// Colorization", ECCV 2016) and image–caption pairs: colour is a property a grey image does not
/// show, so a model that predicts it from the grey version must learn which shapes and regions
/// go together. The palette's colours are exact, so a pixel's colour class is unambiguous.
///
/// ```swift
/// var rng = RandomGenerator(seed: 3)
/// let set = ColoredShapes.make(count: 256, canvasSize: 16, generator: &rng)
/// set.shapeColors[0]   // index into ColoredShapes.palette
/// ```
public enum ColoredShapes {
    /// The colours, `(name, red, green, blue)`. Their ITU-R 601 grey levels are all different
    /// (0.299 r + 0.587 g + 0.114 b: black 0, blue 0.11, red 0.30, magenta 0.41, green 0.59,
    /// cyan 0.70, yellow 0.89, white 1), so each colour has exactly one grey level.
    public static let palette: [(name: String, red: Float, green: Float, blue: Float)] = [
        ("black", 0, 0, 0), ("blue", 0, 0, 1), ("red", 1, 0, 0), ("magenta", 1, 0, 1),
        ("green", 0, 1, 0), ("cyan", 0, 1, 1), ("yellow", 1, 1, 0), ("white", 1, 1, 1),
    ]

    /// A generated set: the images with their shape labels, and each image's colours.
    public struct Images {
        /// Inputs `[count, 3, canvasSize, canvasSize]`, labels `[count]` (`SyntheticShapes.Shape.rawValue`).
        public let dataset: TensorDataset
        /// Index into ``palette`` of each image's shape.
        public let shapeColors: [Int]
        /// Index into ``palette`` of each image's background (never the shape's colour).
        public let backgroundColors: [Int]
    }

    /// `count` images on a `canvasSize × canvasSize` canvas, classes balanced exactly and
    /// shuffled. Each image draws its shape's size and position as ``SyntheticShapes`` does, a
    /// shape colour uniformly from the palette and a background colour uniformly from the others.
    public static func make(count: Int, canvasSize: Int = 16, generator: inout RandomGenerator) -> Images {
        precondition(canvasSize >= 8, "Tessera ColoredShapes: canvasSize must be at least 8, got \(canvasSize)")
        let classes = SyntheticShapes.Shape.allCases.count
        let order = generator.permutation(count)
        let planeSize = canvasSize * canvasSize
        let images = Tensor.zeros([count, 3, canvasSize, canvasSize])
        var shapeColors: [Int] = [], backgroundColors: [Int] = []
        for example in order {
            let shape = SyntheticShapes.Shape(rawValue: example % classes)!
            let halfSize = 2 + generator.nextInt(below: canvasSize / 4)
            let span = canvasSize - 2 * halfSize
            let centerRow = halfSize + generator.nextInt(below: span)
            let centerColumn = halfSize + generator.nextInt(below: span)
            let shapeColor = generator.nextInt(below: palette.count)
            // One of the other colours: skip over the shape's.
            let backgroundColor = (shapeColor + 1 + generator.nextInt(below: palette.count - 1)) % palette.count
            let image = images.storage.pointer + shapeColors.count * 3 * planeSize
            let shapeLevels = levels(palette[shapeColor]), backgroundLevels = levels(palette[backgroundColor])
            for channel in 0..<3 {
                let plane = image + channel * planeSize
                plane.update(repeating: backgroundLevels[channel], count: planeSize)
                SyntheticShapes.draw(shape, into: plane, canvasSize: canvasSize, centerRow: centerRow,
                                     centerColumn: centerColumn, halfSize: halfSize, intensity: shapeLevels[channel])
            }
            shapeColors.append(shapeColor)
            backgroundColors.append(backgroundColor)
        }
        let labels = Tensor(order.map { Float($0 % classes) })
        return Images(dataset: TensorDataset(inputs: images, labels: labels),
                      shapeColors: shapeColors, backgroundColors: backgroundColors)
    }

    private static func levels(_ color: (name: String, red: Float, green: Float, blue: Float)) -> [Float] {
        [color.red, color.green, color.blue]
    }
}
